"""Programs a container's commands call: shells, builtins, init wrappers, and the programs of a command."""

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
