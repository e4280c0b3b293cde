"""Programs a container's commands call, and which runtime images provide them."""

from __future__ import annotations

import posixpath

from dockrewrite import shell
from dockrewrite.model import Command

SHELLS = frozenset({"sh", "bash", "ash", "dash"})
INIT_WRAPPERS = frozenset({"tini", "tini-static", "dumb-init"})
SHELL_BUILTINS = frozenset(
    {
        "echo",
        "exec",
        "test",
        "[",
        "[[",
        "cd",
        "export",
        "set",
        "true",
        "false",
        "exit",
        "printf",
        ":",
        ".",
        "source",
        "trap",
        "wait",
        "read",
        "eval",
        "shift",
        "unset",
        "umask",
        "ulimit",
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "for",
        "do",
        "done",
        "while",
        "until",
        "case",
        "esac",
        "!",
        "{",
        "}",
        "command",
        "type",
        "local",
    }
)
# fmt: off
# Utilities both busybox (alpine) and Debian slim's essential packages provide.
_COMMON = frozenset({
    "sh", "sleep", "cat", "ls", "grep", "sed", "awk", "env", "mkdir", "rm", "cp", "mv", "chmod", "chown", "date",
    "head", "tail", "tr", "cut", "sort", "uniq", "wc", "tee", "touch", "kill", "printenv", "id", "whoami",
    "hostname", "timeout", "tar", "gzip", "gunzip", "find", "xargs", "basename", "dirname", "readlink", "realpath",
    "expr", "seq", "nohup", "su", "stat", "df", "du", "ln", "pwd", "uname", "which", "base64", "md5sum", "sha256sum",
})
# What the alpine image's busybox answers to (the applets commands in Dockerfiles actually use).
BUSYBOX = _COMMON | {"ash", "wget", "nc", "ps", "nslookup", "ping", "netstat", "pgrep", "pkill", "watch"}
# Debian slim's essential packages (coreutils, dash, bash, grep, sed, findutils, tar, gzip, mawk, hostname…).
DEBIAN_BASE = _COMMON | {"bash", "dash"}
# fmt: on
# Tools a package adds: runtime -> program -> package name.
INSTALLABLE = {
    "alpine": {
        "curl": "curl",
        "bash": "bash",
        "jq": "jq",
        "tini": "tini",
        "dumb-init": "dumb-init",
        "envsubst": "gettext",
        "su-exec": "su-exec",
        "pg_isready": "postgresql-client",
        "psql": "postgresql-client",
        "mysql": "mysql-client",
        "mysqladmin": "mysql-client",
        "redis-cli": "redis",
        "git": "git",
        "openssl": "openssl",
    },
    "slim": {
        "curl": "curl",
        "wget": "wget",
        "jq": "jq",
        "nc": "netcat-openbsd",
        "tini": "tini",
        "dumb-init": "dumb-init",
        "envsubst": "gettext-base",
        "ps": "procps",
        "gosu": "gosu",
        "pg_isready": "postgresql-client",
        "psql": "postgresql-client",
        "pg_dump": "postgresql-client",
        "mysql": "default-mysql-client",
        "mysqladmin": "default-mysql-client",
        "redis-cli": "redis-tools",
        "git": "git",
        "openssl": "openssl",
    },
}


def provided(runtime: str, program: str) -> tuple[bool, str | None]:
    """(available, package to install) for a program on a runtime family."""
    name = posixpath.basename(program)
    if runtime == "alpine":
        if name in BUSYBOX:
            return True, None
        package = INSTALLABLE["alpine"].get(name)
        return (package is not None), package
    if runtime == "slim":
        if name in DEBIAN_BASE:
            return True, None
        package = INSTALLABLE["slim"].get(name)
        return (package is not None), package
    return False, None


def shell_programs(text: str) -> list[str]:
    """The program each simple command of a shell string runs (builtins and assignments skipped)."""
    programs: list[str] = []
    for seg in shell.segments(text):
        _, words = shell.env_prefix(seg.words())
        while words and words[0] in ("exec", "command", "nohup", "!"):
            words = words[1:]
        if words and words[0] not in SHELL_BUILTINS and not words[0].startswith(("<", ">")):
            programs.append(words[0])
    return programs


def programs(command: Command, args: tuple[str, ...] = ()) -> tuple[list[str], bool]:
    """-> (every program the command runs, whether it needs a shell). `args` are CMD args after an ENTRYPOINT."""
    if not command.exec_form:
        simple = command.as_simple_argv()
        if simple is not None:
            return [simple[0]], False
        return shell_programs(command.shell), True
    argv = list(command.argv) + list(args)
    if not argv:
        return [], False
    first = posixpath.basename(argv[0])
    if first in SHELLS and len(argv) > 2 and argv[1] in ("-c", "-ec", "-ce", "-lc"):
        return [argv[0]] + shell_programs(argv[2]), True
    if first in INIT_WRAPPERS:
        rest = [a for a in argv[1:] if not a.startswith("-")]
        return [argv[0]] + rest[:1], False
    return [argv[0]], False


def command_words(command: Command) -> list[str]:
    """All words of a command, looking inside `sh -c` strings."""
    if not command.exec_form:
        return shell.split_words(command.shell)
    words = list(command.argv)
    if len(words) > 2 and posixpath.basename(words[0]) in SHELLS and words[1].startswith("-") and "c" in words[1]:
        words += shell.split_words(words[2])
    return words
