"""The values and events a build script's reading yields, and word helpers the reader and the decision share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dockrewrite.shell.lexer import Word


@dataclass
class Val:
    text: str  # expanded; unknown parts are \x00<n>\x00 markers (equal text = equal value)
    certain: bool  # no unknown part
    raw: str
    split: bool = False  # an unquoted expansion whose value may hold spaces or globs

    @property
    def shown(self) -> str:
        return self.raw


@dataclass
class Build:
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
    assigned: dict[str, tuple[str | None, int, str]] = field(default_factory=dict)  # see Reader.assigned


@dataclass
class Event:
    kind: str  # build, create, cp, rm, mkdir, harmless, cleanup, extra, copy_in
    line: int
    text: str
    data: object = None
    conditional: bool = False
    end: int = 0
    test: bool = False  # a check whose failure is an expected outcome (`[ -f x ]`, grep, docker inspect)


@dataclass
class Frame:
    kind: str  # if, while, until, for, select, case, {, (
    cond: bool  # what runs inside may not run
    fn: str | None  # the function this group is the body of
    saved: object  # a subshell's (cwd, env, cwd_moved) to restore


def where_text(frames: list[Frame], fn: str | None, before: str) -> str:
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


def looks_docker(words: list[Word]) -> bool:
    raws = [w.raw for w in words]
    return any(re.search(r"docker|podman", r, re.IGNORECASE) for r in raws[:3]) and any(
        r in ("build", "create", "run", "cp") for r in raws[1:4]
    )


def split_cp(arg: str) -> tuple[str | None, str]:
    """docker's splitCpArg: `container:path`, unless the argument is an absolute or ./ path."""
    if arg.startswith("/"):
        return None, arg
    head, sep, tail = arg.partition(":")
    if not sep or head.startswith("."):
        return None, arg
    return head, tail


def image_ref(ref: str) -> str:
    """`name` and `name:latest` are one image."""
    last = ref.rsplit("/", 1)[-1]
    return ref if (":" in last or "@" in ref) else f"{ref}:latest"


def opt_name(raw: str) -> str:
    return raw.split("=", 1)[0].split(" ", 1)[0]
