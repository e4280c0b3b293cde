"""Builder-pattern migration: `Dockerfile.build` + `Dockerfile` + a script that runs `docker build -f
Dockerfile.build`, `docker create`, `docker cp` and a second `docker build` become one multi-stage Dockerfile.

Pure: reads files, never writes or prints. `scan`/`find_pairs` read the scripts (shell scripts and Makefile
targets) next to the Dockerfiles; a script whose flow cannot be read with certainty yields no pair (and a
`Rejected` that says why). `merge` turns one Pair into a Result for the runtime file: the build file becomes
the `builder` stage and the runtime file's `COPY <what the script copied out>` becomes `COPY --from=builder`.
"""

from __future__ import annotations

import bisect
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dockrewrite.discover import is_dockerfile_name

if TYPE_CHECKING:
    from dockrewrite.results import Result

BUILDER = "builder"
MAX_SCRIPT_BYTES = 256 * 1024
_SCRIPT_DIRS = ("scripts", "script", "hack", "build", "ci", "bin", "tools")
_MAKEFILES = ("Makefile", "makefile", "GNUmakefile")
# Docker passes these to every stage without an ARG line.
_PROXY_ARGS = frozenset(
    n for base in ("http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy") for n in (base, base.upper())
)
_ARCHIVE = re.compile(r"\.(tar|tgz|tbz2?|txz|tzst|tar\.(gz|bz2|xz|zst|lz|lzma))$", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# values


@dataclass(frozen=True)
class Artifact:
    """One `docker cp <container>:<container_path> <dest>`: where the file or folder lands on the host."""

    container_path: str  # absolute path inside the build image
    local_path: Path  # absolute host path it is written to
    line: int  # the script line of the docker cp
    contents: bool = False  # `docker cp c:/dir/. dest`: the folder's contents (so certainly a folder)


@dataclass(frozen=True)
class Pair:
    build_file: Path
    runtime_file: Path
    script: Path
    artifacts: tuple[Artifact, ...]
    build_context: Path
    runtime_context: Path
    target: str | None = None  # the Makefile target, when the script is a Makefile
    lines: tuple[int, int] = (0, 0)  # first and last script line of the builder steps
    build_args: tuple[tuple[str, str], ...] = ()  # (name, the option as written) given to the build file's build
    runtime_build_args: tuple[tuple[str, str], ...] = ()  # the same for the runtime file's build
    command: str = ""  # the one `docker build` that replaces the script's steps
    extra_steps: tuple[str, ...] = ()  # other things the script does: it stays needed when there are any
    others: tuple[Path, ...] = ()  # more scripts that run the same builder steps

    @property
    def container_path(self) -> str:
        return self.artifacts[0].container_path

    @property
    def local_path(self) -> Path:
        return self.artifacts[0].local_path

    @property
    def script_removable(self) -> bool:
        return self.target is None and not self.extra_steps

    def removable(self) -> tuple[Path, ...]:
        """Files the merged Dockerfile makes unnecessary (for `delete: …` and --remove-builder-files)."""
        return (self.build_file, self.script) if self.script_removable else (self.build_file,)

    def artifacts_key(self) -> tuple[tuple[str, Path], ...]:
        return tuple((a.container_path, _norm(a.local_path)) for a in self.artifacts)

    def describe(self) -> str:
        base = self.runtime_file.parent
        where = _rel(self.script, base) + (f" target {self.target}" if self.target else "")
        copies = ", ".join(f"{a.container_path} -> {_rel(a.local_path, base)}" for a in self.artifacts)
        return f"{_rel(self.build_file, base)} + {_rel(self.runtime_file, base)} linked by {where} (docker cp {copies})"


@dataclass(frozen=True)
class Rejected:
    """A script that runs docker cp but whose flow cannot be read with certainty: no pair for it."""

    script: Path
    line: int | None
    reason: str
    target: str | None = None

    def describe(self) -> str:
        where = f"{self.script}:{self.line}" if self.line else str(self.script)
        what = f" (target {self.target})" if self.target else ""
        return f"{where}: not a builder-pattern pair{what}: {self.reason}"


@dataclass
class Scan:
    pairs: list[Pair] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


class _Unreadable(Exception):
    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


def _rel(path: Path, base: Path) -> str:
    try:
        return os.path.relpath(Path(path).absolute(), Path(base).absolute())
    except ValueError:
        return str(path)


def _norm(path: Path | str) -> Path:
    return Path(os.path.normpath(Path(path).absolute()))


# --------------------------------------------------------------------------------------------
# shell lexer: words (with their quoting and expansions kept apart), commands and the operators between them


@dataclass
class _Part:
    kind: str  # "lit", "var" (text inside ${} or the name), "cmd" (text inside $() or ``), "arith"
    text: str
    quoted: bool


@dataclass
class _Word:
    parts: list[_Part]
    raw: str

    @property
    def keyword(self) -> str | None:
        """The word when it is plain unquoted text (how shell keywords are recognised)."""
        if len(self.parts) == 1 and self.parts[0].kind == "lit" and not self.parts[0].quoted:
            return self.parts[0].text
        return None


@dataclass
class _Cmd:
    words: list[_Word]
    redirects: list[tuple[str, _Word | None]]
    line: int
    before: str = ""  # operator before it: "", "\n", ";", "&&", "||", "|", "&", ";;", "(", ")"
    after: str = ""
    paren: str = ""  # "(" or ")" for a subshell or case-pattern parenthesis
    end_line: int = 0


_OPERATORS = ("&&", "||", ";;", "|&", ";", "|", "&")
_REDIRECTS = ("&>>", "<<<", "<<-", "<<", "<>", "<&", ">>", ">&", ">|", "&>", "<", ">")


class _Lexer:
    def __init__(self, text: str):
        self.s = text
        self.n = len(text)
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]

    def line_at(self, index: int) -> int:
        return bisect.bisect_left(self._newlines, index) + 1

    def lex(self) -> list[_Cmd]:
        s, n = self.s, self.n
        cmds: list[_Cmd] = []
        words: list[_Word] = []
        redirects: list[tuple[str, _Word | None]] = []
        start = 0
        pending = ""
        heredocs: list[tuple[str, bool]] = []
        last_word_end = -1
        i = 0

        def flush(op: str) -> None:
            nonlocal words, redirects, pending
            if words or redirects:
                cmds.append(_Cmd(words, redirects, self.line_at(start), pending, op, end_line=self.line_at(i)))
                pending = op
            elif not (op == "\n" and pending in ("&&", "||", "|")):
                pending = op  # a newline after && || | continues the list
            words, redirects = [], []

        while i < n:
            c = s[i]
            if c in " \t\r":
                i += 1
                continue
            if c == "\\" and i + 1 < n and s[i + 1] == "\n":
                i += 2
                continue
            if c == "#":
                end = s.find("\n", i)
                i = n if end < 0 else end
                continue
            if c == "\n":
                flush("\n")
                i += 1
                for delim, strip in heredocs:
                    while i < n:
                        end = s.find("\n", i)
                        body = s[i : n if end < 0 else end].rstrip("\r")
                        i = n if end < 0 else end + 1
                        if (body.lstrip("\t") if strip else body) == delim:
                            break
                heredocs = []
                continue
            if c in "<>" or (c == "&" and s.startswith("&>", i)):
                if words and last_word_end == i and re.fullmatch(r"\d+|\{\w+\}", words[-1].raw):
                    words.pop()  # an fd number: `2>/dev/null`
                if not words and not redirects:
                    start = i
                op = next(o for o in _REDIRECTS if s.startswith(o, i))
                i += len(op)
                while i < n and s[i] in " \t":
                    i += 1
                target = None
                if i < n and s[i] not in "\n;&|()<>":
                    target, i = self._word(i)
                if op in ("<<", "<<-"):
                    if target is None:
                        raise _Unreadable("a here-document without a delimiter", self.line_at(i))
                    heredocs.append(("".join(p.text for p in target.parts), op == "<<-"))
                redirects.append((op, target))
                continue
            if c in "()":
                flush(c)
                cmds.append(_Cmd([], [], self.line_at(i), pending, "", paren=c))
                pending = c
                i += 1
                continue
            op = next((o for o in _OPERATORS if s.startswith(o, i)), None)
            if op is not None:
                flush(op)
                i += len(op)
                continue
            if not words and not redirects:
                start = i
            word, i = self._word(i)
            words.append(word)
            last_word_end = i
        flush("\n")
        if heredocs:
            raise _Unreadable("an unterminated here-document")
        return cmds

    def _word(self, i: int) -> tuple[_Word, int]:
        s, n = self.s, self.n
        begin = i
        parts: list[_Part] = []

        def lit(text: str, quoted: bool) -> None:
            if parts and parts[-1].kind == "lit" and parts[-1].quoted == quoted:
                parts[-1].text += text
            else:
                parts.append(_Part("lit", text, quoted))

        while i < n:
            c = s[i]
            if c in " \t\r\n;&|()<>":
                break
            if c == "\\":
                if i + 1 < n and s[i + 1] == "\n":
                    i += 2
                    continue
                if i + 1 < n:
                    lit(s[i + 1], True)
                i += 2
                continue
            if c == "'":
                end = s.find("'", i + 1)
                if end < 0:
                    raise _Unreadable("an unterminated single quote", self.line_at(i))
                lit(s[i + 1 : end], True)
                i = end + 1
                continue
            if c == '"':
                i += 1
                while True:
                    if i >= n:
                        raise _Unreadable("an unterminated double quote", self.line_at(begin))
                    d = s[i]
                    if d == '"':
                        i += 1
                        break
                    if d == "\\" and i + 1 < n:
                        if s[i + 1] == "\n":
                            i += 2
                        elif s[i + 1] in '$`"\\':
                            lit(s[i + 1], True)
                            i += 2
                        else:
                            lit("\\", True)
                            i += 1
                        continue
                    if d == "$" or d == "`":
                        part, i = self._dollar(i, quoted=True)
                        if part.kind == "lit":
                            lit(part.text, True)
                        else:
                            parts.append(part)
                        continue
                    lit(d, True)
                    i += 1
                if not parts:
                    lit("", True)
                continue
            if c == "$" or c == "`":
                part, i = self._dollar(i, quoted=False)
                if part.kind == "lit":
                    lit(part.text, part.quoted)
                else:
                    parts.append(part)
                continue
            lit(c, False)
            i += 1
        return _Word(parts, s[begin:i]), i

    def _dollar(self, i: int, quoted: bool) -> tuple[_Part, int]:
        s, n = self.s, self.n
        if s[i] == "`":
            j = i + 1
            while j < n and s[j] != "`":
                j += 2 if s[j] == "\\" else 1
            if j >= n:
                raise _Unreadable("an unterminated backquote", self.line_at(i))
            return _Part("cmd", s[i + 1 : j].replace("\\`", "`"), quoted), j + 1
        nxt = s[i + 1] if i + 1 < n else ""
        if s.startswith("$((", i):
            end = self._match(i + 1, "(", ")")
            return _Part("arith", s[i + 3 : end - 1], quoted), end + 1
        if nxt == "(":
            end = self._match(i + 1, "(", ")")
            return _Part("cmd", s[i + 2 : end], quoted), end + 1
        if nxt == "{":
            end = self._match(i + 1, "{", "}")
            return _Part("var", s[i + 2 : end], quoted), end + 1
        m = re.match(r"[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]", s[i + 1 :])
        if m:
            return _Part("var", m.group(0), quoted), i + 1 + m.end()
        if nxt == "'" and not quoted:
            end = s.find("'", i + 2)
            if end < 0:
                raise _Unreadable("an unterminated $'…' string", self.line_at(i))
            return _Part("var", s[i : end + 1], quoted), end + 1  # ANSI-C quoting: not read
        return _Part("lit", "$", quoted), i + 1

    def _match(self, i: int, open_: str, close: str) -> int:
        """Index of the bracket that closes s[i] (== open_), skipping quoted text."""
        s, n = self.s, self.n
        depth, j = 0, i
        while j < n:
            c = s[j]
            if c == "\\":
                j += 2
                continue
            if c == "'" and open_ == "(":
                end = s.find("'", j + 1)
                j = n if end < 0 else end + 1
                continue
            if c == '"':
                j += 1
                while j < n and s[j] != '"':
                    j += 2 if s[j] == "\\" else 1
                j += 1
                continue
            if c == open_:
                depth += 1
            elif c == close:
                depth -= 1
                if depth == 0:
                    return j
            j += 1
        raise _Unreadable(f"an unterminated ${open_}", self.line_at(i))


# --------------------------------------------------------------------------------------------
# reading a script's flow


@dataclass
class _Val:
    text: str  # expanded; unknown parts are \x00<n>\x00 markers (equal text = equal value)
    certain: bool  # no unknown part
    raw: str
    split: bool = False  # an unquoted expansion whose value may hold spaces or globs

    @property
    def shown(self) -> str:
        return self.raw


@dataclass
class _Build:
    dockerfile: Path
    context: Path
    tags: list[str]
    build_args: list[tuple[str, str]]  # (name, raw option text)
    options: list[str]  # raw option words, to write the replacement command
    binary: str
    sub: list[str]
    context_raw: str
    file_raw: str | None
    target: str | None
    platform: str | None
    assigned: dict[str, tuple[str | None, int, str]] = field(default_factory=dict)  # see _Reader.assigned


@dataclass
class _Event:
    kind: str  # build, create, cp, rm, mkdir, harmless, cleanup, extra, copy_in
    line: int
    text: str
    data: object = None
    conditional: bool = False
    end: int = 0
    test: bool = False  # a check whose failure is an expected outcome (`[ -f x ]`, grep, docker inspect)


@dataclass
class _Frame:
    kind: str  # if, while, until, for, select, case, {, (
    cond: bool  # what runs inside may not run
    fn: str | None  # the function this group is the body of
    saved: object  # a subshell's (cwd, env, cwd_moved) to restore


_HARMLESS = frozenset(
    {
        "echo", "printf", "set", "true", ":", "pwd", "sleep", "date", "ls", "whoami", "id", "uname", "[", "[[",
        "test", "which", "type", "hash", "wait", "exit", "return", "unset", "shift", "shopt", "trap", "umask",
        "cat", "grep", "head", "tail", "wc", "sort", "basename", "dirname", "realpath", "readlink", "stat", "du",
        "df", "nproc", "sha256sum", "md5sum", "file", "false", "local", "getopts", "read",
    }
)  # fmt: skip
_ASSIGNING = frozenset({"export", "readonly", "declare", "typeset", "local"})
_TESTS = frozenset({"[", "[[", "test", "grep", "which", "type", "hash", "false", "cmp", "getopts", "read"})
_DOCKER_HARMLESS = frozenset(
    {"rm", "rmi", "stop", "kill", "ps", "images", "inspect", "version", "info", "logs", "wait", "pull", "prune", "ls"}
)
_BUILD_VALUE = frozenset(
    {
        "-f", "--file", "-t", "--tag", "--build-arg", "--target", "--platform", "--network", "--label",
        "--cache-from", "--cache-to", "--iidfile", "--progress", "--secret", "--ssh", "-o", "--output", "--add-host",
        "--shm-size", "-m", "--memory", "--memory-swap", "-c", "--cpu-shares", "--cpuset-cpus", "--cpuset-mems",
        "--cpu-period", "--cpu-quota", "--ulimit", "--isolation", "--cgroup-parent", "--security-opt",
        "--build-context", "--builder", "--metadata-file", "--allow", "--annotation", "--attest", "--sbom",
        "--provenance",
    }
)  # fmt: skip
_BUILD_FLAG = frozenset(
    {"--no-cache", "--pull", "--rm", "--force-rm", "-q", "--quiet", "--squash", "--compress", "--load",
     "--disable-content-trust", "--push"}
)  # fmt: skip
# Options of the runtime build that the merged build needs too; the builder's are added when the runtime lacks them.
_CARRY = frozenset({"--build-arg", "--secret", "--ssh", "--network", "--add-host", "--platform", "--allow"})
_CREATE_VALUE = frozenset(
    {
        "--name", "-e", "--env", "--env-file", "-v", "--volume", "--mount", "--entrypoint", "-w", "--workdir", "-u",
        "--user", "--platform", "-l", "--label", "--label-file", "--network", "--net", "-p", "--publish", "--restart",
        "-h", "--hostname", "--pull", "--cidfile", "--add-host", "--dns", "-m", "--memory", "--cpus", "--log-driver",
        "--log-opt", "--ulimit", "--security-opt", "--cap-add", "--cap-drop", "--device", "--tmpfs", "--stop-signal",
        "--stop-timeout", "--ipc", "--pid", "--userns", "--runtime", "--shm-size", "--group-add", "--expose",
        "--volumes-from", "--link",
    }
)  # fmt: skip
_CREATE_FLAG = frozenset(
    {"-i", "--interactive", "-t", "--tty", "-it", "-ti", "--rm", "--init", "--privileged", "-d", "--detach", "-q",
     "--quiet", "--read-only", "-P", "--publish-all", "--no-healthcheck"}
)  # fmt: skip
_MOUNTS = frozenset({"-v", "--volume", "--mount", "--volumes-from", "--tmpfs"})
_INERT = re.compile(r"^(?:/bin/|/usr/bin/)?(?:true|:|sleep(?: \S+)?|echo(?: .*)?|tail -f /dev/null)$")


class _Reader:
    """Walks one script (or one Makefile target) and records what each top-level command does."""

    def __init__(self, units: list[list[_Cmd]], script_dir: Path, cwd: Path, make_names: dict[str, str]):
        self.units = units
        self.script_dir = script_dir
        self.start = cwd
        self.make_names = make_names  # opaque shell names standing for make variables -> `$(NAME)`
        self.events: list[_Event] = []
        self.opaque: dict[str, int] = {}
        self.functions: dict[str, str] = {}
        self.fs: dict[Path, str] = {}  # path -> "dir", "exists", "absent", "unknown"

    def shown(self, text: str) -> str:
        """Script text as the user wrote it (make variables back in make syntax)."""
        for name, original in self.make_names.items():
            text = text.replace("${" + name + "}", original)
        return text

    # ---- values

    def _mark(self, key: str) -> str:
        n = self.opaque.setdefault(key, len(self.opaque))
        return f"\x00{n}\x00"

    def val(self, word: _Word) -> _Val:
        out: list[str] = []
        certain, split = True, False
        for part in word.parts:
            if part.kind == "lit":
                out.append(part.text)
                if not part.quoted and re.search(r"[*?\[~]", part.text):
                    split = True
                continue
            text, known = self._expand(part)
            out.append(text)
            certain = certain and known
            if not part.quoted and (not known or re.search(r"\s", text)):
                split = True
        return _Val("".join(out), certain, word.raw, split)

    def _expand(self, part: _Part) -> tuple[str, bool]:
        if part.kind == "var":
            m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])(.*))?", part.text, re.DOTALL)
            if m:
                name, op, default = m.groups()
                if name in self.env:
                    text, known = self.env[name]
                    if op and op.startswith(":") and known and text == "":
                        return self._expand_text(default)
                    return text, known
                if name == "PWD" and not op and self.cwd is not None:
                    return str(self.cwd), True
                return self._mark(f"${part.text}@{self.versions.get(name, 0)}"), False
            return self._mark(f"${part.text}"), False
        if part.kind == "cmd":
            norm = " ".join(part.text.replace('"', " ").replace("'", " ").split())
            norm = re.sub(r"\s*(?:&>\s*/dev/null|[12]?>\s*/dev/null|2>&1)\s*", " ", norm).strip()
            norm = re.sub(r"\s--(?=\s)", "", norm)
            here = r"\$(?:0|\{0\}|\{?BASH_SOURCE(?:\[0\])?\}?)"
            if re.fullmatch(r"pwd(?: -P)?", norm) and self.cwd is not None:
                return str(self.cwd), True
            if re.fullmatch(rf"dirname {here}", norm) and not self.cwd_moved:
                return str(self.script_dir), True
            m = re.fullmatch(rf"cd \$\(dirname {here}\)((?:/\.\.)*)/? ?(?:&&|;) ?pwd(?: -P)?", norm)
            if m and not self.cwd_moved:
                return str(_norm(self.script_dir / m.group(1).lstrip("/"))) if m.group(1) else str(
                    self.script_dir
                ), True
            return self._mark(f"$({norm})"), False
        return self._mark(f"$(({part.text}))"), False

    def _expand_text(self, text: str) -> tuple[str, bool]:
        cmds = _Lexer(f"x {text}").lex()
        if len(cmds) != 1 or len(cmds[0].words) != 2:
            return self._mark(text), False
        v = self.val(cmds[0].words[1])
        return v.text, v.certain

    def path(self, v: _Val, what: str, line: int) -> Path:
        if not v.certain or v.split:
            raise _Unreadable(f"{what} `{v.shown}` depends on values the script does not set", line)
        if self.cwd is None and not v.text.startswith("/"):
            raise _Unreadable(f"{what} `{v.shown}` is relative, and the working directory is not known there", line)
        return _norm(Path(v.text) if v.text.startswith("/") else self.cwd / v.text)

    # ---- walking

    def run(self) -> list[_Event]:
        for unit in self.units:
            self.cwd: Path | None = self.start
            self.cwd_moved = False
            self.env: dict[str, tuple[str, bool]] = {}
            self.versions: dict[str, int] = {}
            self.frames: list[_Frame] = []
            self.dirstack: list[Path | None] = []
            self.exited = False
            self.prev_test = False
            # variables the script sets: name -> (the text to write instead of `$NAME` in a command of one's
            # own, or None when the script computes the value; line; the assignment as written)
            self.assigned: dict[str, tuple[str | None, int, str]] = {}
            self._unit(unit)
            if self.frames:
                raise _Unreadable(f"`{self.frames[-1].kind}` is never closed")
        return self.events

    def _unit(self, cmds: list[_Cmd]) -> None:
        k = 0
        pending_fn: str | None = None
        while k < len(cmds) and not self.exited:
            cmd = cmds[k]
            top = self.frames[-1].kind if self.frames else None
            if cmd.paren:
                k += 1
                if top == "case":
                    continue
                if cmd.paren == "(":
                    # a subshell runs like any command; what it changes (cd, variables) stays inside it
                    cond = self._conditional(cmd.before)
                    self.frames.append(_Frame("(", cond, None, (self.cwd, dict(self.env), self.cwd_moved)))
                    continue
                if top != "(":
                    raise _Unreadable("a `)` that closes nothing", cmd.line)
                self.cwd, self.env, self.cwd_moved = self.frames.pop().saved
                self.prev_test = False
                continue
            if (
                len(cmd.words) == 1
                and cmd.after == "("
                and k + 2 < len(cmds)
                and cmds[k + 1].paren == "("
                and cmds[k + 2].paren == ")"
            ):
                pending_fn = cmd.words[0].raw  # `name() { … }`
                k += 3
                continue
            if top == "case" and cmd.after in (")", "|"):
                j = k
                while j + 1 < len(cmds) and cmds[j].after == "|" and not cmds[j + 1].paren:
                    j += 1
                if cmds[j].after == ")":
                    k = j + 1  # a case pattern: `a|b)`
                    continue
            pending_fn = self._statement(cmd, pending_fn)
            k += 1

    def _conditional(self, before: str) -> bool:
        """Whether a command after `before` may not run on the script's way to success."""
        return before == "||" or (before == "&&" and self.prev_test) or any(f.cond for f in self.frames)

    def _statement(self, cmd: _Cmd, pending_fn: str | None) -> str | None:
        words = list(cmd.words)
        closes = {"fi": ("if",), "done": ("while", "until", "for", "select"), "esac": ("case",), "}": ("{",)}
        before = cmd.before
        while words:
            kw = words[0].keyword
            if kw in ("then", "do", "else", "elif", "!", "time"):
                words = words[1:]
            elif kw in ("if", "while", "until", "for", "select", "case"):
                self.frames.append(_Frame(kw, True, None, None))
                words = words[1:] if kw in ("if", "while", "until") else []
            elif kw in closes:
                if not self.frames or self.frames[-1].kind not in closes[kw]:
                    raise _Unreadable(f"`{kw}` closes nothing", cmd.line)
                self.frames.pop()
                words = words[1:]
                self.prev_test = False
            elif kw == "{":
                cond = pending_fn is not None or self._conditional(before)
                self.frames.append(_Frame("{", cond, pending_fn, None))
                if pending_fn:
                    self.functions.setdefault(pending_fn, "harmless")
                pending_fn = None
                words = words[1:]
                before = ";"
            elif kw == "function" and len(words) > 1:
                pending_fn = words[1].raw.removesuffix("()")
                words = words[2:]
            else:
                break
        if not words and not cmd.redirects:
            return pending_fn
        conditional = self._conditional(before)
        fn = next((f.fn for f in reversed(self.frames) if f.fn), None)
        where = _where(self.frames, fn, before)
        try:
            event = self._command(words, cmd, conditional)
        except _Unreadable:
            if conditional and _looks_docker(words):
                text = " ".join(w.raw for w in words)
                raise _Unreadable(
                    f"`{text}` runs {where}: the order of the docker steps cannot be read", cmd.line
                ) from None
            raise
        if event is None:
            return pending_fn
        self.prev_test = event.test or (conditional and before in ("&&", "||"))
        if event.kind in ("build", "create", "cp", "copy_in") and conditional:
            raise _Unreadable(f"`{event.text}` runs {where}: the order of the docker steps cannot be read", cmd.line)
        if fn is not None:
            if event.kind not in ("harmless", "cleanup"):
                self.functions[fn] = "extra"
            return pending_fn
        if cmd.after == "&" and event.kind in ("build", "create", "cp"):
            raise _Unreadable(f"`{event.text}` runs in the background", cmd.line)
        event.conditional = conditional
        event.end = max(cmd.end_line, cmd.line)
        self.events.append(event)
        return pending_fn

    def _command(self, words: list[_Word], cmd: _Cmd, conditional: bool) -> _Event | None:
        line = cmd.line
        text = " ".join(w.raw for w in words)
        assigns: list[tuple[str, _Word]] = []
        while words and self._assignment(words[0]):
            assigns.append(self._assignment(words[0]))
            words = words[1:]
        if not words:
            return self._assign(assigns, line, text, conditional)
        if words[0].keyword == "command" and len(words) > 1 and words[1].keyword in ("-v", "-V"):
            return _Event("harmless", line, text, test=True)  # `command -v docker`: is it installed?
        while words and words[0].keyword in ("exec", "command", "builtin", "nohup", "sudo", "env"):
            wrapper = words[0].keyword
            words = words[1:]
            while words and (
                (wrapper in ("sudo", "env") and (words[0].keyword or "").startswith("-")) or self._assignment(words[0])
            ):
                flag = words[0].keyword
                words = words[1:]
                if wrapper == "sudo" and flag in ("-u", "-g", "-C", "-h", "-p"):
                    words = words[1:]
        if not words:
            return _Event("harmless", line, text)
        writes = any(
            op in (">", ">>", ">|", "&>", "&>>", "<>") and t is not None and t.raw not in ("/dev/null", "/dev/stderr")
            for op, t in cmd.redirects
        )
        prog = self.val(words[0])
        name = posixpath.basename(prog.text) if prog.certain else None
        if name in ("docker", "podman") or (
            not prog.certain and re.fullmatch(r"\$\{\w+:?-(docker|podman)\}|\"\$\{\w+:?-(docker|podman)\}\"", prog.raw)
        ):
            event = self._docker(words[1:], line, text, prog.raw)
        elif not prog.certain and len(words) > 1 and words[1].keyword in ("build", "cp", "create", "container"):
            raise _Unreadable(f"the docker command is `{prog.raw}`, which the script does not set", line)
        elif name in self.functions:
            event = _Event(self.functions[name], line, text)
        elif name in ("cd", "pushd", "popd"):
            event = self._cd(name, words[1:], line, text, conditional)
        elif name in _ASSIGNING:
            found = [self._assignment(w) for w in words[1:] if self._assignment(w)]
            event = self._assign(found, line, text, conditional) if found else _Event("harmless", line, text)
        elif name in ("rm", "mkdir"):
            event = self._files(name, words[1:], line, text, conditional)
        elif name in (".", "source"):
            event = _Event("extra", line, text)
        elif name in _HARMLESS:
            event = _Event("harmless", line, text, test=name in _TESTS)
            if name == "exit" and not conditional and not self.frames:
                self.exited = True
        else:
            event = _Event("extra", line, text)
        if writes and event.kind in ("harmless", "cleanup"):
            event.kind = "extra"
        return event

    @staticmethod
    def _assignment(word: _Word) -> tuple[str, _Word] | None:
        if not word.parts or word.parts[0].kind != "lit" or word.parts[0].quoted:
            return None
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=", word.parts[0].text)
        if not m:
            return None
        rest = [_Part("lit", word.parts[0].text[m.end() :], False)] if word.parts[0].text[m.end() :] else []
        value = _Word(rest + word.parts[1:], word.raw[len(m.group(0)) :])
        return m.group(1), value

    def _assign(self, assigns: list[tuple[str, _Word]], line: int, text: str, conditional: bool) -> _Event:
        event = _Event("harmless", line, text)
        for name, value in assigns:
            self.versions[name] = self.versions.get(name, 0) + 1
            captured = self._capture(value, line, name)
            if captured is not None:
                event = captured
                continue
            self.assigned[name] = (None if conditional else self._inline(value), line, f"{name}={value.raw}")
            if conditional:
                self.env[name] = (self._mark(f"{name}@{self.versions[name]}:cond"), False)
                continue
            v = self.val(value)
            self.env[name] = (v.text, v.certain)
        return event

    def _inline(self, value: _Word) -> str | None:
        """What `$NAME` can be replaced with in a standalone command: a plain literal, or `${ENV:-default}`."""
        if all(p.kind == "lit" for p in value.parts):
            text = "".join(p.text for p in value.parts)
            return text if re.fullmatch(r"[\w./:@%+,=-]*", text) else None
        if len(value.parts) == 1 and value.parts[0].kind == "var":
            m = re.fullmatch(r"([A-Za-z_]\w*)(?::?[-=][\w./:@%+,=-]*)?", value.parts[0].text)
            if m and m.group(1) not in self.assigned:  # `IMAGE=${IMAGE:-acme/api}`: the environment's, or a default
                return "${" + value.parts[0].text + "}"
        return None

    def _capture(self, value: _Word, line: int, name: str) -> _Event | None:
        """`ID=$(docker create …)` or `IMG=$(docker build -q …)`: the variable stands for what docker printed."""
        if len(value.parts) != 1 or value.parts[0].kind != "cmd":
            return None
        inner = _Lexer(value.parts[0].text).lex()
        if len(inner) != 1 or not inner[0].words or self.val(inner[0].words[0]).text not in ("docker", "podman"):
            return None
        token = self._mark(f"{name}@{self.versions[name]}:output")
        self.env[name] = (token, False)
        event = self._docker(inner[0].words[1:], line, f"{name}=$({value.parts[0].text})", inner[0].words[0].raw)
        if event.kind == "create":
            event.data["container"] = token
        elif event.kind == "build":
            event.data.tags.append(token)
        return event

    def _cd(self, name: str, args: list[_Word], line: int, text: str, conditional: bool) -> _Event:
        if name == "popd":
            self.cwd = self.dirstack.pop() if self.dirstack else None
        else:
            vals = [self.val(w) for w in args if not (w.keyword or "").startswith("-") or w.keyword == "-"]
            if name == "pushd":
                self.dirstack.append(self.cwd)
            if len(vals) != 1 or not vals[0].certain or vals[0].split or vals[0].text == "-" or conditional:
                self.cwd = None
            elif vals[0].text.startswith("/") or self.cwd is not None:
                self.cwd = _norm(Path(vals[0].text) if vals[0].text.startswith("/") else self.cwd / vals[0].text)
        self.cwd_moved = True
        return _Event("harmless", line, text)

    def _files(self, name: str, args: list[_Word], line: int, text: str, conditional: bool) -> _Event:
        paths: list[Path] = []
        for word in args:
            if (word.keyword or "").startswith("-"):
                continue
            v = self.val(word)
            if not v.certain or v.split or (self.cwd is None and not v.text.startswith("/")):
                return _Event("extra", line, text)
            paths.append(self.path(v, name, line))
        for p in paths:
            if name == "mkdir":
                self.fs[p] = "unknown" if conditional else "dir"
            else:
                for known in list(self.fs):
                    if known == p or p in known.parents:
                        self.fs[known] = "unknown" if conditional else "absent"
                self.fs[p] = "unknown" if conditional else "absent"
        return _Event(name, line, text, tuple(paths))

    # ---- docker

    def _docker(self, args: list[_Word], line: int, text: str, binary: str) -> _Event:
        vals = [self.val(w) for w in args]
        i = 0
        while i < len(vals) and vals[i].text.startswith("-"):
            opt = vals[i].text.split("=", 1)[0]
            if opt in ("--context", "-c", "-H", "--host", "--config", "-l", "--log-level") and "=" not in vals[i].text:
                i += 2
            elif opt in ("-D", "--debug", "--tls", "--tlsverify") or "=" in vals[i].text:
                i += 1
            else:
                raise _Unreadable(f"docker option {vals[i].raw} is not understood", line)
        sub = [v.text for v in vals[i : i + 2]]
        if sub[:1] in (["container"], ["image"], ["buildx"], ["builder"]) and len(sub) == 2:
            group, verb, rest = sub[0], sub[1], i + 2
        else:
            group, verb, rest = "", (sub[0] if sub else ""), i + 1
        words, vals = args[rest:], vals[rest:]
        if verb == "build" and group in ("", "image", "buildx", "builder"):
            return _Event("build", line, text, self._build(words, vals, line, binary, [a.raw for a in args[i:rest]]))
        if verb in ("create", "run") and group in ("", "container"):
            return _Event("create", line, text, self._create(verb, vals, line))
        if verb == "cp" and group in ("", "container"):
            return self._cp(vals, line, text)
        if verb == "rm" and group == "image":
            return _Event("cleanup", line, text)
        if verb in _DOCKER_HARMLESS or (verb == "prune" and group):
            return _Event("cleanup", line, text, test=verb in ("inspect", "ps", "images", "ls"))
        return _Event("extra", line, text)

    def _build(self, words: list[_Word], vals: list[_Val], line: int, binary: str, sub: list[str]) -> _Build:
        file: _Val | None = None
        tags: list[str] = []
        build_args: list[tuple[str, str]] = []
        options: list[str] = []
        positional: list[_Val] = []
        target = platform = None
        raw_file: list[str] = []
        i = 0
        while i < len(vals):
            v = vals[i]
            if v.text == "--":
                positional += vals[i + 1 :]
                break
            if not v.text.startswith("-") or v.text == "-":
                positional.append(v)
                i += 1
                continue
            name, eq, value_text = v.text.partition("=")
            if not eq and re.fullmatch(r"-[ftomc].+", v.text):
                name, eq, value_text = v.text[:2], "=", v.text[2:]
            if name in _BUILD_FLAG:
                if name == "--push":
                    raise _Unreadable("the first docker build pushes its image (--push)", line)
                options.append(v.raw)
                i += 1
                continue
            if name not in _BUILD_VALUE:
                raise _Unreadable(f"docker build option {v.raw} is not understood", line)
            if eq:
                value = _Val(value_text, v.certain, v.raw.split("=", 1)[-1] if "=" in v.raw else v.raw[2:], v.split)
                raw = v.raw
                i += 1
            else:
                if i + 1 >= len(vals):
                    raise _Unreadable(f"docker build option {v.raw} has no value", line)
                value, raw = vals[i + 1], f"{v.raw} {vals[i + 1].raw}"
                i += 2
            if name in ("-f", "--file"):
                file = value
                raw_file.append(raw)
                continue
            if name in ("-o", "--output", "--build-context"):
                raise _Unreadable(f"docker build {name} is not the builder pattern this tool reads", line)
            options.append(raw)
            if name in ("-t", "--tag"):
                tags.append(_image_ref(value.text))
            elif name == "--build-arg":
                build_args.append((value.text.split("=", 1)[0], raw))
            elif name == "--target":
                target = value.text
            elif name == "--platform":
                platform = value.text
        if len(positional) != 1:
            raise _Unreadable(f"docker build with {len(positional)} context arguments", line)
        ctx = positional[0]
        if ctx.text == "-" or re.match(r"^[a-z]+://|^git@", ctx.text):
            raise _Unreadable(f"docker build context `{ctx.raw}` is not a local folder", line)
        context = self.path(ctx, "the build context", line)
        dockerfile = self.path(file, "the Dockerfile", line) if file is not None else None
        if dockerfile is None:
            dockerfile = context / "Dockerfile"
            if not dockerfile.is_file() and (context / "dockerfile").is_file():
                dockerfile = context / "dockerfile"
        file_raw = next((o for o in raw_file), None)
        return _Build(
            dockerfile,
            context,
            tags,
            build_args,
            options,
            binary,
            sub,
            ctx.raw,
            file_raw,
            target,
            platform,
            dict(self.assigned),
        )

    def _create(self, verb: str, vals: list[_Val], line: int) -> dict:
        """The container and image of docker create/run; `problem` says why it cannot be the builder pattern's."""
        data: dict = {"container": None, "image": None, "verb": verb, "problem": None}
        entrypoint = None
        i = 0
        while i < len(vals) and vals[i].text.startswith("-"):
            opt, eq, value = vals[i].text.partition("=")
            if opt in _CREATE_FLAG:
                i += 1
                continue
            if opt not in _CREATE_VALUE or (not eq and i + 1 >= len(vals)):
                data["problem"] = f"docker {verb} option {vals[i].raw} is not understood"
                return data
            if not eq:
                value = vals[i + 1].text
                i += 1
            i += 1
            if opt in _MOUNTS:
                data["problem"] = f"docker {verb} mounts a volume ({opt}): docker cp may read the volume"
            elif opt == "--name":
                data["container"] = value
            elif opt == "--entrypoint":
                entrypoint = value
        if i >= len(vals):
            data["problem"] = f"docker {verb} without an image"
            return data
        data["image"] = _image_ref(vals[i].text)
        command = " ".join(v.text for v in vals[i + 1 :])
        inert = entrypoint is not None and _INERT.match(f"{entrypoint} {command}".strip())
        if verb == "run" and not inert and data["problem"] is None:
            data["problem"] = (
                "docker run starts the image's command before docker cp, and what that command does to the files "
                "cannot be read here (docker create, or docker run --entrypoint true, can)"
            )
        return data

    def _cp(self, vals: list[_Val], line: int, text: str) -> _Event:
        positional = []
        for v in vals:
            if re.fullmatch(r"-[aLq]+|--archive|--follow-link|--quiet", v.text):
                continue
            if v.text.startswith("-") and v.text != "-":
                raise _Unreadable(f"docker cp option {v.raw} is not understood", line)
            positional.append(v)
        if len(positional) != 2:
            raise _Unreadable("docker cp needs a source and a destination", line)
        src, dest = positional
        container, path = _split_cp(src.text)
        if container is None:
            if _split_cp(dest.text)[0] is not None:
                return _Event("copy_in", line, text)
            raise _Unreadable("docker cp without a container side", line)
        if "\x00" in path or src.split and re.search(r"[*?\[]", path):
            raise _Unreadable(f"the container path of `{src.raw}` depends on values the script does not set", line)
        if dest.text == "-":
            raise _Unreadable("docker cp writes a tar stream to stdout; where its files land cannot be read", line)
        local = self.path(dest, "the docker cp destination", line)
        contents = path.endswith("/.")
        cpath = posixpath.normpath("/" + path.lstrip("/"))
        state = self.fs.get(local) or ("dir" if local.is_dir() else "exists" if local.exists() else "absent")
        if contents:
            target = local
        elif dest.text.endswith("/") or state == "dir":
            target = local / posixpath.basename(cpath)
        elif state == "unknown":
            raise _Unreadable(
                f"whether {dest.raw} is a folder when docker cp runs depends on a condition (docker cp then writes "
                "into it)",
                line,
            )
        else:
            target = local
        self.fs[target] = "exists"
        return _Event("cp", line, text, {"container": container, "path": cpath, "local": target, "contents": contents})


def _where(frames: list[_Frame], fn: str | None, before: str) -> str:
    if fn:
        return f"inside function {fn}"
    kinds = {"if": "an `if`", "while": "a `while` loop", "until": "an `until` loop", "for": "a `for` loop"}
    kinds |= {"select": "a `select`", "case": "a `case`", "{": "a `{ }` group", "(": "a subshell"}
    cond = [f for f in frames if f.cond]
    if cond:
        return f"inside {kinds.get(cond[-1].kind, 'a compound command')}"
    if before == "&&":
        return "only when the check before `&&` succeeds"
    return "only when the command before `||` fails"


def _looks_docker(words: list[_Word]) -> bool:
    raws = [w.raw for w in words]
    return any(re.search(r"docker|podman", r, re.IGNORECASE) for r in raws[:3]) and any(
        r in ("build", "create", "run", "cp") for r in raws[1:4]
    )


def _split_cp(arg: str) -> tuple[str | None, str]:
    """docker's splitCpArg: `container:path`, unless the argument is an absolute or ./ path."""
    if arg.startswith("/"):
        return None, arg
    head, sep, tail = arg.partition(":")
    if not sep or head.startswith("."):
        return None, arg
    return head, tail


def _image_ref(ref: str) -> str:
    """`name` and `name:latest` are one image."""
    last = ref.rsplit("/", 1)[-1]
    return ref if (":" in last or "@" in ref) else f"{ref}:latest"


def _opt_name(raw: str) -> str:
    return raw.split("=", 1)[0].split(" ", 1)[0]


def _related(path: Path, targets: list[Path]) -> bool:
    return any(path == t or path in t.parents or t in path.parents for t in targets)


def _decide(events: list[_Event], reader: _Reader) -> dict | None:
    """The builder-pattern steps among a script's events, or None when it runs no docker cp out of a container."""
    cps = [i for i, e in enumerate(events) if e.kind == "cp"]
    if not cps:
        return None
    first_cp, last_cp = cps[0], cps[-1]
    containers = {events[i].data["container"] for i in cps}
    if len(containers) > 1:
        raise _Unreadable("docker cp reads from more than one container", events[cps[1]].line)
    container = containers.pop()
    creators = [i for i in range(first_cp) if events[i].kind == "create" and events[i].data["container"] == container]
    if not creators:
        raise _Unreadable(
            f"`{events[first_cp].text}` reads a container the script does not create before it", events[first_cp].line
        )
    c = creators[-1]
    if events[c].data["problem"]:
        raise _Unreadable(events[c].data["problem"], events[c].line)
    image = events[c].data["image"]
    builds = [i for i, e in enumerate(events) if e.kind == "build"]
    b1s = [i for i in builds if i < c and image in events[i].data.tags]
    if not b1s:
        raise _Unreadable(f"`{events[c].text}` uses an image the script does not build before it", events[c].line)
    b1 = b1s[-1]
    b2s = [i for i in builds if i > last_cp]
    if not b2s:
        raise _Unreadable("no docker build after docker cp uses what was copied out", events[last_cp].line)
    if len(b2s) > 1:
        raise _Unreadable(
            f"{len(b2s)} docker builds after docker cp: which one is the runtime image cannot be told",
            events[b2s[1]].line,
        )
    b2 = b2s[0]
    for i in builds:
        if i not in (b1, b2):
            raise _Unreadable(
                f"the script also runs `{events[i].text}`: only one build file and one runtime file merge into one "
                "Dockerfile",
                events[i].line,
            )
    build, runtime = events[b1].data, events[b2].data
    for which in (build, runtime):
        if not which.dockerfile.is_file():
            raise _Unreadable(f"{which.dockerfile} does not exist", events[b1 if which is build else b2].line)
    if build.dockerfile == runtime.dockerfile:
        raise _Unreadable("both docker builds use the same Dockerfile", events[b2].line)
    targets = [events[i].data["local"] for i in cps]
    for i in range(b1 + 1, b2):
        e = events[i]
        if i == c or i in cps or e.kind in ("harmless", "cleanup"):
            continue
        if e.kind in ("rm", "mkdir") and all(_related(p, targets) for p in e.data):
            continue
        raise _Unreadable(f"`{e.text}` runs between the two builds; it may change what the second build uses", e.line)
    extra = []
    for i, e in enumerate(events):
        if b1 <= i <= b2 or e.kind in ("harmless", "cleanup"):
            continue
        if e.kind in ("rm", "mkdir") and all(_related(p, targets) for p in e.data):
            continue
        extra.append((e.line, f"`{reader.shown(e.text)}` (line {e.line})"))
    for t in targets:
        if not t.is_relative_to(runtime.context):
            raise _Unreadable(f"docker cp writes {t}, outside the second build's context {runtime.context}")
    computed: dict[str, str] = {}
    options = [_inline_vars(o, runtime.assigned, computed) for o in runtime.options]
    names = {name for name, _ in runtime.build_args}
    for raw in build.options:
        opt = _opt_name(raw)
        if opt in _CARRY and not (opt == "--build-arg" and _arg_name(raw) in names):
            carried = _inline_vars(raw, build.assigned, computed)
            if carried not in options:
                options.append(carried)
    file_opt = [_inline_vars(runtime.file_raw, runtime.assigned, computed)] if runtime.file_raw else []
    parts = [
        runtime.binary,
        *runtime.sub,
        *file_opt,
        *options,
        _inline_vars(runtime.context_raw, runtime.assigned, computed),
    ]
    command = reader.shown(" ".join(parts))
    for name, (line, assignment) in computed.items():
        extra.append((line, f"`{reader.shown(assignment)}` (line {line}), which sets ${name} for the builds"))
    return {
        "build_file": build.dockerfile,
        "runtime_file": runtime.dockerfile,
        "build_context": build.context,
        "runtime_context": runtime.context,
        "artifacts": tuple(
            Artifact(events[i].data["path"], events[i].data["local"], events[i].line, events[i].data["contents"])
            for i in cps
        ),
        "lines": (events[b1].line, _steps_end(events, b2, targets)),
        "build_args": tuple((n, reader.shown(r)) for n, r in build.build_args),
        "runtime_build_args": tuple((n, reader.shown(r)) for n, r in runtime.build_args),
        "command": command,
        "extra_steps": tuple(text for _, text in sorted(extra)),
        "build_target": build.target,
        "platforms": (build.platform, runtime.platform),
    }


def _steps_end(events: list[_Event], b2: int, targets: list[Path]) -> int:
    """Last line of the builder steps: the second build and the clean-up right after it."""
    end = events[b2].end
    for e in events[b2 + 1 :]:
        if (e.kind == "rm" and all(_related(p, targets) for p in e.data)) or e.kind == "cleanup":
            end = e.end
        elif e.kind != "harmless" or e.text.split(" ", 1)[0] not in ("echo", "printf"):
            break
    return end


def _inline_vars(raw: str, assigned: dict[str, tuple[str | None, int, str]], computed: dict) -> str:
    """raw with the script's own variables written out where that is possible; the others noted in computed."""

    def repl(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        if name not in assigned:
            return m.group(0)  # from the caller's environment, as in the script
        inline, line, assignment = assigned[name]
        if inline is None:
            computed[name] = (line, assignment)
            return m.group(0)
        return inline

    return re.sub(r"(?<!\\)\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))", repl, raw)


def _arg_name(raw: str) -> str:
    value = raw.split(" ", 1)[1] if raw.startswith("--build-arg ") else raw.split("=", 1)[-1]
    return value.strip("'\"").split("=", 1)[0]


# --------------------------------------------------------------------------------------------
# finding scripts and reading them


def _read_script(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_SCRIPT_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\x00" in data:
        return None
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n")


# Extensionless files that are never shell scripts: not worth opening to look for a #! line.
_NOT_SCRIPTS = frozenset(
    {
        "LICENSE",
        "LICENCE",
        "README",
        "CODEOWNERS",
        "AUTHORS",
        "VERSION",
        "Procfile",
        "Gemfile",
        "Pipfile",
        "Jenkinsfile",
        "Vagrantfile",
        "Brewfile",
        "CHANGELOG",
        "NOTICE",
        "COPYING",
    }
)


def _scripts_in(folder: Path) -> list[Path]:
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    out = []
    for p in entries:
        if not p.is_file():
            continue
        if p.suffix in (".sh", ".bash") or p.name in _MAKEFILES or p.suffix == ".mk":
            out.append(p)
        elif (
            not p.suffix
            and not p.name.startswith(".")
            and p.name not in _NOT_SCRIPTS
            and not is_dockerfile_name(p.name)
        ):
            try:
                with p.open("rb") as handle:
                    head = handle.read(64)
            except OSError:
                continue
            if re.match(rb"#!\s*\S*/(?:env\s+)?(?:ba|da|k|z)?sh\b", head):
                out.append(p)
    return out


_DOCKER_CP = re.compile(r"(?:docker|podman)[\w.${}()\"':-]*\s+(?:-\S+\s+)*(?:container\s+)?cp\b", re.IGNORECASE)


def shell_commands(text: str) -> list[_Cmd]:
    """The simple commands of a shell script, in order (raises when the text cannot be read with certainty)."""
    return _Lexer(text).lex()


def _shell_units(text: str) -> list[list[_Cmd]]:
    return [_Lexer(text).lex()]


def _make_targets(text: str, folder: Path) -> list[tuple[str, int, list[list[_Cmd]], dict[str, str], str | None]]:
    """Makefile targets whose recipe runs docker cp: (name, line, one unit per recipe line, make names, problem)."""
    lines = text.split("\n")
    variables: dict[str, str | None] = {"CURDIR": str(folder)}
    opaque: dict[str, str] = {}
    out = []
    depth = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        start = i
        while line.endswith("\\") and i + 1 < len(lines) and not lines[i + 1].startswith("\t"):
            i += 1
            line = line[:-1] + " " + lines[i].strip()
        i += 1
        stripped = line.strip()
        if line.startswith("\t") or not stripped or stripped.startswith("#"):
            continue
        if re.match(r"(ifeq|ifneq|ifdef|ifndef)\b", stripped):
            depth += 1
            continue
        if stripped == "endif" or stripped.startswith("endif "):
            depth = max(0, depth - 1)
            continue
        if stripped.startswith("define "):
            while i < len(lines) and lines[i].strip() != "endef":
                i += 1
            i += 1
            continue
        m = re.match(
            r"(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(::?=|:::=|\?=|\+=|=|!=)\s*(.*)$", stripped
        )
        if m:
            name, op, value = m.groups()
            simple = op in ("=", ":=", "::=", ":::=") and "$" not in value and depth == 0
            variables[name] = value.strip() if simple else None
            continue
        m = re.match(r"([^:#=\s][^:#=]*?)\s*::?(?!=)\s*([^;]*)(?:;(.*))?$", stripped)
        if not m or line.startswith(" "):
            continue
        names = m.group(1).split()
        recipe: list[tuple[int, str]] = []
        problem = "the target sits inside a Makefile conditional (ifeq/ifdef)" if depth else None
        if m.group(3):
            recipe.append((start + 1, m.group(3)))
        while i < len(lines) and (lines[i].startswith("\t") or not lines[i].strip() or lines[i].startswith("#")):
            if lines[i].startswith("\t"):
                first = i
                body = lines[i][1:]
                while body.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    nxt = lines[i][1:] if lines[i].startswith("\t") else lines[i]
                    body = body + "\n" + nxt
                recipe.append((first + 1, body))
            i += 1
        if i < len(lines) and re.match(r"\s*(ifeq|ifneq|ifdef|ifndef|else|endif)\b", lines[i]) and recipe:
            problem = problem or "the recipe continues across a Makefile conditional"
        joined = "\n".join(body for _, body in recipe)
        if not any("%" in n or n.startswith(".") for n in names) and _DOCKER_CP.search(joined):
            units = []
            for number, body in recipe:
                body = body.lstrip("@-+ \t")
                shell_text = _make_expand(body, variables, opaque)
                cmds = _Lexer(shell_text).lex()
                for cmd in cmds:
                    cmd.line += number - 1
                    cmd.end_line += number - 1
                units.append(cmds)
            out.append((names[0], start + 1, units, {v: k for k, v in opaque.items()}, problem))
    return out


def _make_expand(text: str, variables: dict[str, str | None], opaque: dict[str, str]) -> str:
    """Make's own `$(NAME)` and `$$` in a recipe line -> shell text; unknown make values become shell variables."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c != "$" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt in "({":
            close = ")" if nxt == "(" else "}"
            depth, j = 0, i + 1
            while j < len(text):
                if text[j] == nxt:
                    depth += 1
                elif text[j] == close:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            inner = text[i + 2 : j]
            i = j + 1
        else:
            inner = nxt
            i += 2
        value = variables.get(inner)
        if value is not None:
            out.append(value)
            continue
        name = opaque.setdefault(f"$({inner})", f"__make_{len(opaque)}")
        out.append("${" + name + "}")
    return "".join(out)


def _candidate_dirs(path: Path, root: Path | None) -> list[Path]:
    folder = _norm(path.parent)
    top = _norm(root) if root is not None else folder
    chain = [folder]
    if folder.is_relative_to(top):
        while chain[-1] != top and chain[-1].parent != chain[-1]:
            chain.append(chain[-1].parent)
    return chain


def scan(dockerfiles: list[Path], root: Path | None = None) -> Scan:
    """Pairs the scripts next to these Dockerfiles link, and the scripts that run docker cp but cannot be read.

    Scripts are looked for in each Dockerfile's folder and its parents up to `root` (the folder discovery
    started from), and in their scripts/, hack/, build/, ci/, bin/ and tools/ subfolders: `*.sh`, `*.bash`,
    shell scripts without an extension, Makefiles (each target separately). A script's relative paths are
    read from its own folder, or from the one folder where they name files that exist.
    """
    given = {_norm(p): Path(p) for p in dockerfiles}
    relative = bool(dockerfiles) and not Path(dockerfiles[0]).is_absolute()
    chains: dict[Path, list[Path]] = {}  # folder to search -> the folders its scripts may run from
    for p in dockerfiles:
        chain = _candidate_dirs(Path(p), root)
        for n, folder in enumerate(chain):
            if folder in chains:
                break  # this folder and its parents are already listed
            for d in (folder, *(folder / s for s in _SCRIPT_DIRS)):
                chains.setdefault(d, chain[n:])
    folders = list(chains)
    found = Scan()
    seen: set[Path] = set()
    candidates: list[tuple[Pair | None, Rejected | None]] = []
    for folder in folders:
        for script in _scripts_in(folder):
            key = _norm(script)
            if key in seen:
                continue
            seen.add(key)
            shown = Path(os.path.relpath(key)) if relative else key
            candidates += _analyze(key, shown, chains[folder], given)
    by_runtime: dict[Path, list[Pair]] = {}
    for pair, rejected in candidates:
        if rejected is not None:
            found.rejected.append(rejected)
        if pair is not None:
            by_runtime.setdefault(_norm(pair.runtime_file), []).append(pair)
    for group in by_runtime.values():
        first = group[0]
        same = all(
            (p.build_file, p.artifacts_key(), p.build_context, p.runtime_context)
            == (first.build_file, first.artifacts_key(), first.build_context, first.runtime_context)
            for p in group
        )
        if not same:
            for p in group:
                found.rejected.append(
                    Rejected(
                        p.script,
                        p.lines[0],
                        f"{_rel(p.runtime_file, p.script.parent)} is built differently by more than one script",
                        p.target,
                    )
                )
            continue
        others = tuple(p.script for p in group[1:] if p.script != first.script)
        found.pairs.append(_replace(first, others=others) if others else first)
    return found


def find_pairs(dockerfiles: list[Path], root: Path | None = None) -> list[Pair]:
    """The builder-pattern pairs among these Dockerfiles (see `scan` for the scripts that were not read)."""
    return scan(dockerfiles, root).pairs


def _replace(pair: Pair, **changes) -> Pair:
    import dataclasses

    return dataclasses.replace(pair, **changes)


def _analyze(
    script: Path, shown: Path, chain: list[Path], given: dict[Path, Path]
) -> list[tuple[Pair | None, Rejected | None]]:
    """script: its absolute path; shown: the path to report (relative when the Dockerfiles were given so)."""
    text = _read_script(script)
    if text is None or not _DOCKER_CP.search(text):
        return []
    if script.name in _MAKEFILES or script.suffix == ".mk":
        try:
            targets = _make_targets(text, script.parent)
        except _Unreadable as exc:
            return [(None, Rejected(shown, exc.line, exc.reason))]
        out = []
        for name, line, units, names, problem in targets:
            if problem:
                out.append((None, Rejected(shown, line, problem, name)))
                continue
            out.append(_outcome(script, shown, [(units, script.parent)], names, given, name))
        return out
    try:
        units = _shell_units(text)
    except _Unreadable as exc:
        return [(None, Rejected(shown, exc.line, f"the script cannot be read: {exc.reason}"))]
    cwds = [script.parent] + [c for c in chain if c != script.parent]
    return [_outcome(script, shown, [(units, cwd) for cwd in cwds], {}, given, None, text)]


def _outcome(
    script: Path,
    shown: Path,
    starts: list[tuple[list[list[_Cmd]], Path]],
    names: dict[str, str],
    given: dict[Path, Path],
    target: str | None,
    text: str = "",
) -> tuple[Pair | None, Rejected | None]:
    results: list[dict] = []
    first_error: _Unreadable | None = None
    for units, cwd in starts:
        reader = _Reader(units, script.parent, cwd, names)
        try:
            decided = _decide(reader.run(), reader)
        except _Unreadable as exc:
            first_error = first_error or exc
            continue
        if decided is None:
            if cwd == starts[0][1]:
                return None, None
            continue
        if decided not in results:
            results.append(decided)
    if not results:
        if first_error is None:
            return None, None
        reason = first_error.reason
        broken = [n for n, line in enumerate(text.split("\n"), 1) if re.search(r"\\[ \t]+$", line)]
        if broken:
            reason += (
                f"; note: line {broken[0]} ends with a backslash followed by spaces, so the shell does not continue "
                "that line"
            )
        return None, Rejected(shown, first_error.line, reason, target)
    if len(results) > 1:
        return None, Rejected(
            shown,
            results[0]["lines"][0],
            "the script names different files depending on the folder it runs from",
            target,
        )
    d = results[0]
    runtime_key, build_key = d["runtime_file"], d["build_file"]
    if runtime_key not in given:
        if build_key in given:
            reason = f"its runtime Dockerfile {d['runtime_file']} is not among the files being converted"
            return None, Rejected(shown, d["lines"][1], reason, target)
        return None, None
    if d["build_target"] is not None:
        return None, Rejected(shown, d["lines"][0], "the first build picks a stage with --target", target)
    if d["platforms"][0] != d["platforms"][1] and d["platforms"][0] is not None:
        return None, Rejected(shown, d["lines"][0], "the two builds use different --platform values", target)

    def present(path: Path) -> Path:
        return path if shown.is_absolute() else Path(os.path.relpath(path))

    pair = Pair(
        build_file=given.get(build_key, present(build_key)),
        runtime_file=given[runtime_key],
        script=shown,
        artifacts=d["artifacts"],
        build_context=d["build_context"],
        runtime_context=d["runtime_context"],
        target=target,
        lines=d["lines"],
        build_args=d["build_args"],
        runtime_build_args=d["runtime_build_args"],
        command=d["command"],
        extra_steps=d["extra_steps"],
    )
    unused = _unused(pair)
    if unused:
        pair = _replace(pair, extra_steps=pair.extra_steps + unused)
    return pair, None


# --------------------------------------------------------------------------------------------
# merging


class _NoMerge(Exception):
    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


def _unused(pair: Pair) -> tuple[str, ...]:
    """docker cp steps whose files the runtime file never copies: the script still produces them for someone."""
    from dockrewrite import source
    from dockrewrite.parse import ParseError, parse

    try:
        model = parse(source.read(pair.runtime_file)[0])
    except (OSError, source.SourceError, ParseError):
        return ()
    used: set[int] = set()
    for stage in model.stages:
        for ins in stage.instructions:
            if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None or ins.heredocs:
                continue
            for src in ins.args[:-1]:
                for n, art in enumerate(pair.artifacts):
                    rel = _context_rel(art.local_path, pair.runtime_context)
                    norm = _source_norm(src)
                    inside = norm == rel or norm.startswith(rel + "/")
                    if inside or norm == "." or rel.startswith(norm + "/") or _has_glob(src):
                        used.add(n)
    base = pair.script.parent
    return tuple(
        f"`docker cp` (line {a.line}) leaves {_rel(a.local_path, base)} on the host, and "
        f"{_rel(pair.runtime_file, base)} does not copy it"
        for n, a in enumerate(pair.artifacts)
        if n not in used
    )


def _context_rel(path: Path, context: Path) -> str:
    return Path(os.path.relpath(_norm(path), _norm(context))).as_posix()


def _source_norm(src: str) -> str:
    stripped = src.strip("/")
    return posixpath.normpath(stripped) if stripped else "."


def _has_glob(text: str) -> bool:
    return bool(re.search(r"[*?\[]", text))


def _gaps(model) -> tuple[list[tuple[list[str], object]], list[str]]:
    """[(lines between the previous instruction and this one, instruction)], footer lines; directives dropped."""
    from dockrewrite.model import DIRECTIVE_RE

    lines = [line.rstrip() for line in model.lines]
    skip = 0
    while skip < len(lines) and DIRECTIVE_RE.match(lines[skip]):
        skip += 1
    chunks = []
    prev = skip
    everything = [*model.global_args]
    for stage in model.stages:
        everything += [stage.from_, *stage.instructions]
    for ins in everything:
        chunks.append((lines[prev : ins.line - 1], ins))
        prev = ins.end_line
    footer = lines[prev:]
    return chunks, footer


def _directives(model) -> dict[str, str]:
    from dockrewrite.model import DIRECTIVE_RE

    out = {}
    for line in model.lines:
        m = DIRECTIVE_RE.match(line.strip())
        if not m:
            break
        out[m.group(1).lower()] = line.strip()
    return out


def _produced_files(stage) -> dict[str, str]:
    """Absolute paths the build stage writes as files with `go build -o`, resolved through WORKDIR -> how."""
    from dockrewrite import shell

    out: dict[str, str] = {}
    workdir: str | None = "/"
    for ins in stage.instructions:
        if ins.keyword == "WORKDIR":
            arg = ins.args[0] if ins.args else ""
            workdir = None if "$" in arg or workdir is None else shell.resolve(workdir, arg)
        if ins.keyword != "RUN" or workdir is None:
            continue
        cwd: str | None = workdir
        for seg in shell.segments(ins.shell):
            _, words = shell.env_prefix(seg.words())
            if words[:1] == ["cd"] and len(words) == 2 and cwd is not None:
                cwd = None if "$" in words[1] else shell.resolve(cwd, words[1])
            if words[:2] != ["go", "build"] or cwd is None:
                continue
            for n, w in enumerate(words):
                value = words[n + 1] if w == "-o" and n + 1 < len(words) else w[3:] if w.startswith("-o=") else None
                if value and "$" not in value and not value.endswith("/"):
                    out[shell.resolve(cwd, value)] = f"`go build -o {value}` (line {ins.line}) in WORKDIR {workdir}"
    return out


def _copy_text(keyword: str, flags: list[str], sources: list[str], dest: str, json_form: bool) -> str:
    import json

    head = " ".join([keyword, *flags])
    if json_form:
        return f"{head} {json.dumps([*sources, dest])}"
    return f"{head} {' '.join([*sources, dest])}"


def _rewrite_copies(stage, pair: Pair, produced: dict[str, str]) -> tuple[dict[int, str], list[str], set[int]]:
    """Runtime COPY/ADD of what the script copied out -> COPY --from=builder: (line -> text, notes, artifacts used)."""
    arts = []
    for n, a in enumerate(pair.artifacts):
        rel = _context_rel(a.local_path, pair.runtime_context)
        if rel == "." or rel.startswith("../"):
            raise _NoMerge(f"docker cp (script line {a.line}) writes the context folder itself, not a file in it")
        arts.append((n, rel, a.container_path))
    replaced: dict[int, str] = {}
    notes: list[str] = []
    used: set[int] = set()
    for ins in stage.instructions:
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None or ins.heredocs or len(ins.args) < 2:
            continue
        sources, dest = list(ins.args[:-1]), ins.args[-1]
        mapped: list[tuple[str, str | None]] = []
        for src in sources:
            hit = None
            if re.match(r"^[a-z][a-z0-9+.-]*://", src) or src.startswith("git@"):
                mapped.append((src, None))
                continue
            norm = _source_norm(src)
            for n, rel, cpath in arts:
                if _has_glob(src):
                    if _glob_hits(norm, rel):
                        raise _NoMerge(
                            f"`{ins.text}` (line {ins.line}) matches {rel} by a wildcard: which files it copies "
                            "cannot be told",
                            ins.line,
                        )
                    continue
                if norm == rel:
                    hit = (n, cpath, rel)
                elif norm.startswith(rel + "/"):
                    hit = (n, posixpath.join(cpath, norm[len(rel) + 1 :]), rel)
                elif norm == "." or rel.startswith(norm + "/"):
                    raise _NoMerge(
                        f"`{ins.text}` (line {ins.line}) copies the folder that holds {rel}, which the script copies "
                        "out of the container; split that COPY first",
                        ins.line,
                    )
            if hit is None:
                mapped.append((src, None))
                continue
            n, cpath, rel = hit
            used.add(n)
            if ins.keyword == "ADD" and (_ARCHIVE.search(cpath) or _ARCHIVE.search(norm)):
                raise _NoMerge(
                    f"`{ins.text}` (line {ins.line}) unpacks the archive {src}; COPY --from does not unpack", ins.line
                )
            dir_like = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
            if posixpath.basename(cpath) != posixpath.basename(norm) and dir_like:
                whole = norm == rel
                contents = whole and pair.artifacts[n].contents
                if whole and cpath in produced and not contents:
                    mapped.append((cpath, posixpath.join(dest, posixpath.basename(norm))))
                    continue
                if not contents:
                    raise _NoMerge(
                        f"the script renames {cpath} to {rel}, and `{ins.text}` (line {ins.line}) copies it into a "
                        "folder: whether it is a file or a folder decides the name, and that cannot be told",
                        ins.line,
                    )
            mapped.append((cpath, dest))
        if not any(target is not None for _, target in mapped):
            continue
        extra = [f for f in ins.flags if not re.match(r"--(chown|chmod|link)(=|$)", f, re.IGNORECASE)]
        if extra:
            raise _NoMerge(f"`{ins.text}` (line {ins.line}) uses {extra[0]}, which is not kept in a COPY --from")
        lines = _split_copy(ins, dest, mapped)
        replaced[ins.line] = "\n".join(lines)
        notes.append(f"`{ins.text}` (line {ins.line}) became `{' / '.join(lines)}`")
    return replaced, notes, used


def _split_copy(ins, dest: str, mapped: list[tuple[str, str | None]]) -> list[str]:
    """One COPY per run of sources: the context's as they were, the builder's as COPY --from (per destination)."""
    runs: list[list[tuple[str, str | None]]] = []
    for item in mapped:
        if runs and (runs[-1][-1][1] is None) == (item[1] is None):
            runs[-1].append(item)
        else:
            runs.append([item])
    lines: list[str] = []
    for items in runs:
        if items[0][1] is None:
            lines.append(_copy_text(ins.keyword, list(ins.flags), [s for s, _ in items], dest, ins.json))
            continue
        for target in dict.fromkeys(t for _, t in items):
            paths = [s for s, t in items if t == target]
            lines.append(_copy_text("COPY", [f"--from={BUILDER}", *ins.flags], paths, target, ins.json))
    return lines


def _glob_hits(pattern: str, rel: str) -> bool:
    """Whether a wildcard COPY source can match rel, a folder holding it, or something inside it."""
    import fnmatch

    parts = rel.split("/")
    if any(fnmatch.fnmatchcase("/".join(parts[:i]), pattern) for i in range(1, len(parts) + 1)):
        return True
    fixed = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    return fixed.startswith(rel + "/") or (rel + "/").startswith(fixed) and fixed != ""


def merge(pair: Pair) -> Result:
    """One multi-stage Dockerfile for the pair, as a Result for the runtime file (the caller writes it)."""
    from dockrewrite import source
    from dockrewrite.context import BuildContext
    from dockrewrite.parse import ParseError, parse
    from dockrewrite.plan import Options
    from dockrewrite.results import CHANGED, FAILED, SKIPPED, UNCHANGED, Result
    from dockrewrite.safety import UnsafeOutput, check
    from dockrewrite.transform import SKIP_MARK, convert_text

    base = pair.runtime_file.parent
    build_name, runtime_name, script_name = (_rel(p, base) for p in (pair.build_file, pair.runtime_file, pair.script))
    result = Result(path=str(pair.runtime_file), status=UNCHANGED, signals=[pair.describe()])
    try:
        runtime_text, fmt = source.read(pair.runtime_file)
    except (OSError, source.SourceError) as exc:
        result.status, result.reason = FAILED, f"cannot read: {exc}"
        return result
    result.original, result.encoding = runtime_text, fmt
    try:
        build_text, _ = source.read(pair.build_file)
    except (OSError, source.SourceError) as exc:
        result.status, result.reason = FAILED, f"cannot read {build_name}: {exc}"
        return result

    def stop(status: str, reason: str, line: int | None = None) -> Result:
        result.status, result.reason, result.line = status, reason, line
        return result

    for text, name in ((runtime_text, None), (build_text, build_name)):
        m = SKIP_MARK.search(text)
        if m:
            where = f" in {name}" if name else ""
            line = text.count("\n", 0, m.start()) + 1
            return stop(SKIPPED, f"opted out with a `# dockrewrite: skip` comment{where}", line)
    try:
        runtime = parse(runtime_text)
    except ParseError as exc:
        return stop(SKIPPED if exc.empty else FAILED, exc.message, exc.line)
    try:
        build = parse(build_text)
    except ParseError as exc:
        return stop(SKIPPED, f"{build_name} line {exc.line}: {exc.message}", None)
    if runtime.is_multistage:
        result.reason = (
            f"already multi-stage ({len(runtime.stages)} stages): left alone, although {script_name} still builds it "
            f"with {build_name}"
        )
        result.line = runtime.stages[1].from_.line
        return result
    try:
        output, notes = _assemble(pair, build, runtime, build_name, runtime_name, script_name)
    except _NoMerge as exc:
        return stop(SKIPPED, exc.reason, exc.line)
    try:
        check(runtime, output)
    except UnsafeOutput as exc:
        return stop(FAILED, f"safety check: {exc}")
    again = convert_text(output, BuildContext(pair.runtime_context), Options(), str(pair.runtime_file))
    if again.status != UNCHANGED:
        return stop(FAILED, "safety check: converting the merged Dockerfile again would change it")
    try:
        from dockrewrite.providers import detect

        result.language = detect(build, BuildContext(pair.build_context)).language
    except Exception:  # detection only labels the result
        result.language = None
    result.runtime = runtime.stages[-1].image
    result.status, result.output = CHANGED, output
    result.warnings = notes
    return result


def _assemble(pair: Pair, build, runtime, build_name: str, runtime_name: str, script_name: str):
    if len(build.stages) > 1:
        raise _NoMerge(
            f"{build_name} has {len(build.stages)} stages; only a single-stage build file becomes the builder stage",
        )
    for model, name in ((build, build_name), (runtime, runtime_name)):
        if model.escape != "\\":
            raise _NoMerge(f"{name} sets `# escape={model.escape}`; the two files cannot be merged safely")
    if _norm(pair.build_context) != _norm(pair.runtime_context):
        raise _NoMerge(
            f"{script_name} builds {build_name} with context {pair.build_context} and {runtime_name} with "
            f"{pair.runtime_context}; one Dockerfile has one context"
        )
    for f in (pair.build_file, pair.runtime_file):
        ignore = Path(f"{f}.dockerignore")
        if ignore.exists():
            raise _NoMerge(
                f"{ignore.name} gives {Path(f).name} its own ignore rules; the merged file could not keep them"
            )
    directives = _directives(build)
    for key, line in _directives(runtime).items():
        if directives.setdefault(key, line) != line:
            raise _NoMerge(f"the two files disagree on the `# {key}=` directive")
    bstage, rstage = build.stages[0], runtime.stages[0]
    if (rstage.name or "").lower() == BUILDER or rstage.image.lower() == BUILDER:
        raise _NoMerge(f"{runtime_name} already uses the name {BUILDER!r}", rstage.from_.line)
    for stage in (bstage, rstage):
        for ins in stage.instructions:
            if (ins.flag("from") or "").lower() == BUILDER or (
                ins.keyword == "RUN" and (ins.flag("mount") or "").lower().find(f"from={BUILDER}") >= 0
            ):
                raise _NoMerge(f"`{ins.text}` names an image called {BUILDER!r}", ins.line)
    globals_: dict[str, str] = {}
    for ins in (*build.global_args, *runtime.global_args):
        for arg in ins.args:
            name = arg.split("=", 1)[0]
            if globals_.setdefault(name, arg) != arg:
                raise _NoMerge(f"both files declare ARG {name} before FROM, with different defaults", ins.line)
    _check_build_args(pair, bstage, rstage, build, runtime)
    produced = _produced_files(bstage)
    replaced, copy_notes, used = _rewrite_copies(rstage, pair, produced)
    if not used:
        locals_ = ", ".join(_context_rel(a.local_path, pair.runtime_context) for a in pair.artifacts)
        raise _NoMerge(f"{runtime_name} never copies {locals_}, which {script_name} copies out of the container")

    out: list[str] = list(directives.values())
    bchunks, bfooter = _gaps(build)
    rchunks, rfooter = _gaps(runtime)
    seen_args: set[str] = set()
    for chunks in (bchunks, rchunks):
        for gap, ins in chunks:
            if ins in (*build.global_args, *runtime.global_args):
                if ins.text in seen_args:
                    continue
                seen_args.add(ins.text)
                out += gap + [ins.text]
    for gap, ins in bchunks:
        if ins in build.global_args:
            continue
        if ins is bstage.from_:
            text = " ".join(["FROM", *ins.flags, bstage.image, "AS", BUILDER])
            out += (gap if not build.global_args else gap) + [text]
        else:
            out += gap + [ins.text]
    out += bfooter
    while out and not out[-1]:
        out.pop()
    out.append("")
    for gap, ins in rchunks:
        if ins in runtime.global_args:
            continue
        if ins is rstage.from_:
            while gap and not gap[0]:
                gap = gap[1:]
        out += gap + [replaced.get(ins.line, ins.text)]
    out += rfooter
    while out and not out[-1]:
        out.pop()
    while out and not out[0]:
        out.pop(0)
    output = "\n".join(out) + "\n"

    notes = [f"{build_name} is now the `{BUILDER}` stage: " + "; ".join(copy_notes)]
    for a in pair.artifacts:
        how = produced.get(a.container_path)
        if how:
            notes[0] += f" ({a.container_path} is written by {how})"
    lines = f"lines {pair.lines[0]}-{pair.lines[1]}" if pair.lines[0] != pair.lines[1] else f"line {pair.lines[0]}"
    if pair.script_removable:
        notes.append(
            f"{build_name} and {script_name} are no longer needed (delete them, or convert with "
            f"--remove-builder-files); build with `{pair.command}`"
        )
    elif pair.target is not None:
        notes.append(
            f"{build_name} is no longer needed; in {script_name}, target {pair.target}: replace {lines} with "
            f"`{pair.command}`"
        )
    else:
        notes.append(
            f"{build_name} is no longer needed; keep {script_name}, which also runs "
            f"{', '.join(pair.extra_steps)}, and replace its {lines} with `{pair.command}`"
        )
    if pair.build_args:
        names = list(dict.fromkeys(n for n, _ in pair.build_args))
        proxies = [n for n in names if n in _PROXY_ARGS]
        declared = {a.split("=", 1)[0] for ins in bstage.find("ARG") for a in ins.args}
        note = (
            f"{script_name} passes --build-arg {', '.join(names)} to the {build_name} build; the builder stage keeps "
            "its ARG lines as they are, so give the merged build the same --build-arg options (the command above does)"
        )
        if proxies:
            note += f"; {', '.join(proxies)} are predefined: every stage sees them without an ARG line"
        unused = [n for n in names if n not in declared and n not in _PROXY_ARGS]
        if unused:
            note += f"; {', '.join(unused)} has no ARG line in {build_name} and had no effect there"
        notes.append(note)
    if pair.others:
        notes.append(
            f"{', '.join(_rel(o, pair.runtime_file.parent) for o in pair.others)} run the same builder steps; "
            "change them the same way"
        )
    return output, notes


def _check_build_args(pair: Pair, bstage, rstage, build, runtime) -> None:
    """A --build-arg given to both builds with different values cannot be kept apart in one build."""

    def declared(stage, model) -> set[str]:
        names = {a.split("=", 1)[0] for ins in stage.find("ARG") for a in ins.args}
        return names | _PROXY_ARGS

    mine = dict(pair.build_args)
    theirs = dict(pair.runtime_build_args)
    both = declared(bstage, build) & declared(rstage, runtime)
    for name in sorted(set(mine) & set(theirs) & both):
        if mine[name] != theirs[name]:
            raise _NoMerge(
                f"the two builds get different --build-arg {name} values ({mine[name]} and {theirs[name]}), and one "
                "build gives both stages one value"
            )
