"""Shell scripts a container starts with (docker-entrypoint.sh and the like): which programs they run.

The runtime stage must have every program the script calls, so the planners read the script from the
build context and check them like the programs of CMD itself. Read, never run.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockrewrite.shell import lexer
from dockrewrite.tools import SHELLS

# Words that open or close a compound command; the command proper follows them.
_LEADING = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "(", "time"})
_CLOSING = frozenset({"fi", "done", "esac", "}", ")"})
# Words that run the next word as the program.
_WRAPPERS = frozenset({"exec", "command", "nohup", "builtin"})
_SHEBANG_SHELLS = frozenset({*SHELLS, "zsh"})
_ARGUMENTS = re.compile(r'"?\$(@|\{@\})"?')


@dataclass(frozen=True)
class Script:
    interpreter: str  # the shell of its #! line ("sh" when it has none)
    programs: tuple[tuple[str, int], ...]  # (program, line) for every command with a literal program name
    sources: tuple[int, ...]  # lines that source other files (`. file`), whose programs are not read
    runs_arguments: bool  # `exec "$@"`: the script runs the command it is given (an ENTRYPOINT's CMD)


def interpreter(text: str) -> str | None:
    """The shell a script's #! line names (`#!/usr/bin/env bash` -> bash), None for another interpreter."""
    first = text.split("\n", 1)[0]
    if not first.startswith("#!"):
        return "sh"  # exec'd without a #! line, the kernel refuses; run by `sh file`, sh reads it
    words = first[2:].split()
    if not words:
        return None
    name = posixpath.basename(words[0])
    if name == "env" and len(words) > 1:
        name = posixpath.basename(words[-1] if words[1].startswith("-") else words[1])
    return name if name in _SHEBANG_SHELLS else None


def read(text: str) -> Script | None:
    """The programs a shell script runs, or None when it is no shell script or cannot be read with certainty."""
    shell = interpreter(text)
    if shell is None:
        return None
    try:
        commands = lexer.commands(text)
    except Exception:  # the lexer refuses what it cannot read with certainty, in several ways
        return None
    programs: list[tuple[str, int]] = []
    sources: list[int] = []
    runs_arguments = False
    for index, cmd in enumerate(commands):
        for word in cmd.words:
            for part in word.parts:
                if part.kind == "cmd":  # $(…) and `…` run programs of their own
                    inner = read("#!/bin/sh\n" + part.text)
                    programs += [(p, cmd.line) for p, _ in inner.programs] if inner is not None else []
        following = commands[index + 1] if index + 1 < len(commands) else None
        if following is not None and not following.words and following.paren:
            continue  # a case pattern `web)` or a function name `f()`
        program = _program([w.raw for w in cmd.words])
        if program is not None and _ARGUMENTS.fullmatch(program):
            runs_arguments = True
        elif program in (".", "source"):
            sources.append(cmd.line)
        elif program is not None:
            programs.append((program, cmd.line))
    return Script(shell, tuple(programs), tuple(sources), runs_arguments)


def _program(words: list[str]) -> str | None:
    """The program a simple command runs, past keywords, assignments and exec-like wrappers."""
    while words and words[0] in _LEADING:
        words = words[1:]
    if not words or words[0] in _CLOSING or words[0] in ("case", "for", "select", "function"):
        return None  # `fi`, `case x in`, `for f in …`: no program here
    while words and "=" in words[0] and not words[0].startswith(("=", "'", '"')):
        words = words[1:]  # VAR=value before a command, or an assignment alone
    while words and words[0] in _WRAPPERS:
        words = words[1:]
        while words and words[0].startswith("-"):
            words = words[1:]
    if not words or _ARGUMENTS.fullmatch(words[0]):
        return words[0] if words else None
    if any(c in words[0] for c in "$`\"'*?"):
        return None  # a variable: what it runs is decided at run time
    return words[0]
