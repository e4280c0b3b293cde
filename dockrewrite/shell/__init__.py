"""Find and edit the commands and words of a RUN instruction's text, read by the one lexer (shell.lexer)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockrewrite.shell.lexer import Command, Lexer

_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=+?][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class Segment:
    """One simple command of a shell line: text[start:end], and the operator that ended it."""

    start: int
    end: int
    text: str

    def words(self) -> list[str]:
        return split_words(self.text)


def segments(text: str) -> list[Segment]:
    """The simple commands of shell text, split at unquoted &&, ||, ;, |, & and newlines; commands inside
    ( … ) subshells, { …; } groups and $( … ) come out as segments of their own, in the order they start."""
    out: list[Segment] = []
    _collect(text, 0, text, out)
    return sorted((s for s in out if s.text.strip()), key=lambda s: s.start)


def _collect(text: str, base: int, whole: str, out: list[Segment]) -> None:
    for cmd in Lexer(text, strict=False).lex():
        if not cmd.words and not cmd.redirects:
            continue  # a subshell's parenthesis
        start, end = cmd.start, cmd.end
        if cmd.words and cmd.words[0].keyword == "{":
            start = cmd.words[0].start + 1  # the group's brace is no command
        if [w.keyword for w in cmd.words] == ["}"] and not cmd.redirects:
            continue
        if not cmd.words and all(op in ("<<", "<<-") for op, _ in cmd.redirects):
            # `RUN <<EOT` alone: Docker runs the here-document as the script
            for a, z in cmd.bodies:
                _collect(text[a:z], base + a, whole, out)
            continue
        out.append(Segment(base + start, base + end, whole[base + start : base + end]))
        if _reads_stdin_script(cmd):
            for a, z in cmd.bodies:
                _collect(text[a:z], base + a, whole, out)
        for word in cmd.words:
            for part in word.parts:
                if part.kind == "cmd" and part.offset >= 0:
                    _collect(part.text, base + part.offset, whole, out)


def _reads_stdin_script(cmd: Command) -> bool:
    """`bash <<EOF` / `sh -e <<EOF`: a shell without a script argument runs its here-document."""
    values = [w.value for w in cmd.words]
    return bool(values) and posixpath.basename(values[0]) in _SHELLS and all(v.startswith("-") for v in values[1:])


def split_words(text: str) -> list[str]:
    """The words of shell text with quotes removed and $-expansions kept as written; redirects dropped."""
    return [w.value for cmd in Lexer(text, strict=False).lex() for w in cmd.words]


def env_prefix(words: list[str]) -> tuple[dict[str, str], list[str]]:
    """Leading VAR=value words (and `env` itself) -> (assignments, remaining words)."""
    env: dict[str, str] = {}
    rest = list(words)
    if rest and rest[0] == "env":
        rest.pop(0)
    while rest and _ASSIGN.match(rest[0]):
        key, _, value = rest.pop(0).partition("=")
        env[key] = value
    return env, rest


def exported(words: list[str]) -> dict[str, str] | None:
    """The assignments of an `export A=1 B=2` command; None when the words are no export."""
    if words[:1] != ["export"]:
        return None
    return {key: value for key, eq, value in (w.partition("=") for w in words[1:]) if eq}


def variables(text: str) -> set[str]:
    return {a or b for a, b in _VAR.findall(text)}


def substitute(text: str, values: dict[str, str]) -> str | None:
    """Expand $X / ${X} from values; None when a variable has no known value."""
    missing = False

    def repl(m: re.Match) -> str:
        nonlocal missing
        name = m.group(1) or m.group(2)
        if name in values:
            return values[name]
        missing = True
        return m.group(0)

    result = _VAR.sub(repl, text)
    return None if missing else result


def resolve(cwd: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(cwd or "/", path))
