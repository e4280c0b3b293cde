"""Just enough POSIX shell reading to find and edit commands inside a RUN instruction's text."""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

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
    """Split shell text at unquoted &&, ||, ;, | and newlines that are not continuations."""
    out: list[Segment] = []
    i, start, n = 0, 0, len(text)
    quote: str | None = None
    while i < n:
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = None
            i += 1
            continue
        if c == "\\":
            i += 2
            continue
        if c in "'\"":
            quote = c
            i += 1
            continue
        if c == "#" and (i == 0 or text[i - 1] in " \t\n"):
            # a comment runs to the end of its line
            # a comment runs to the end of its line; inside a continuation Docker drops that line
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        op = 0
        if text.startswith(("&&", "||"), i):
            op = 2
        elif c in ";|\n" or (c == "&" and not text.startswith(">&", i - 1)):
            op = 1
        if op:
            out.append(Segment(start, i, text[start:i]))
            i += op
            start = i
            continue
        i += 1
    out.append(Segment(start, n, text[start:n]))
    return [s for s in out if s.text.strip()]


def split_words(text: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", text)
    try:
        return shlex.split(joined, comments=True)
    except ValueError:
        return joined.split()


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
