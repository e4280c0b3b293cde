"""Typed Dockerfile instructions a BuildPlan is made of: each op holds its parts and renders its own text.

Plan passes (cache and bind mounts, pins, image mirrors, the syntax line, targets) edit the parts of an
op and never search rendered text. An op read from an instruction's text (`step`) renders that text
unchanged until a pass edits a part (`edit` drops the text it was read from), so a plan no pass touches
renders byte for byte as its provider wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import ClassVar

from dockrewrite import shell

# `RUN`/`COPY`/`FROM` and the `--flag` words before the instruction's own arguments, continuations included.
_HEAD = re.compile(r"(?is)^\s*([a-z]+)\b(?:\s|\\\n)*((?:--\S+(?:\s|\\\n)+)*)")
_FLAG = re.compile(r"--\S+")
_AS = re.compile(r"(?i)^(\S+)(\s+AS\s+(\S+))?\s*$")


@dataclass(kw_only=True)
class Op:
    """One instruction of a plan, with the comment lines that travel above it."""

    comments: tuple[str, ...] = ()
    # The text the op was read from: rendered as is while no part has been edited.
    source: str | None = field(default=None, repr=False, compare=False)

    keyword: ClassVar[str] = ""
    # The macro of templates/runtimes/<runtime>.j2 that writes the op ("" for an op that writes itself).
    kind: ClassVar[str] = ""

    @property
    def text(self) -> str:
        return self.source if self.source is not None else self.render()

    def render(self) -> str:
        raise NotImplementedError

    def edit(self, **parts) -> Op:
        """A copy with some parts changed, rendered from its parts."""
        return replace(self, source=None, **parts)

    def flag(self, name: str) -> str | None:
        """The value of `--name=value` among the op's flags ("" for a bare `--name`), or None."""
        for item in getattr(self, "flags", ()):
            key, eq, value = item.partition("=")
            if key.lower() == f"--{name}":
                return value if eq else ""
        return None


@dataclass(kw_only=True)
class From(Op):
    """`FROM [--platform=…] image [AS name]`."""

    image: str
    name: str | None = None
    flags: tuple[str, ...] = ()
    written: str = "FROM"  # the keyword as the source spelled it
    as_word: str = "AS"

    keyword: ClassVar[str] = "FROM"

    def render(self) -> str:
        named = f" {self.as_word} {self.name}" if self.name else ""
        return f"{self.written} " + "".join(f + " " for f in self.flags) + self.image + named


@dataclass(kw_only=True)
class Run(Op):
    """`RUN [--mount=… --network=…] command`: the flags and the shell text (or exec form, or heredoc) it runs."""

    body: str
    flags: tuple[str, ...] = ()
    written: str = "RUN"
    # A step of the rewrite's own that reads nothing the build context put in the stage (the interpreter and
    # library gathers), so the features may bind-mount a manifest that only an earlier install reads.
    context_free: bool = field(default=False, compare=False)
    # A step of the rewrite's own that may stand anywhere in its stage (it makes empty folders): kept apart from
    # other RUNs (place_apart) when an edit would put it next to one.
    floats: bool = field(default=False, compare=False)

    keyword: ClassVar[str] = "RUN"

    @property
    def heredoc(self) -> bool:
        return self.body.lstrip().startswith("<<")

    @property
    def exec_form(self) -> bool:
        return self.body.lstrip().startswith("[")

    def mounts(self) -> list[dict[str, str]]:
        return [parse_mount(f[len("--mount=") :]) for f in self.flags if f.lower().startswith("--mount=")]

    def render(self) -> str:
        if not self.flags:
            return f"{self.written} {self.body}"
        if self.heredoc:
            # A heredoc starts on the RUN line itself.
            return f"{self.written} {' '.join(self.flags)} {self.body}"
        return f"{self.written} " + " \\\n    ".join(self.flags) + " \\\n    " + self.body


@dataclass(kw_only=True)
class Copy(Op):
    """`COPY`/`ADD [--from=… --chown=…] src… dest` in shell or JSON form."""

    args: str  # the sources and destination as written
    flags: tuple[str, ...] = ()
    written: str = "COPY"

    keyword: ClassVar[str] = "COPY"

    @property
    def add(self) -> bool:
        return self.written.upper() == "ADD"

    @property
    def paths(self) -> list[str]:
        """Sources then destination, quotes taken off."""
        text = self.args.strip()
        if text.startswith("["):
            import json

            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
        return shell.split_words(text)

    @property
    def sources(self) -> list[str]:
        return self.paths[:-1]

    @property
    def dest(self) -> str:
        paths = self.paths
        return paths[-1] if paths else ""

    def render(self) -> str:
        return f"{self.written} " + "".join(f + " " for f in self.flags) + self.args


@dataclass(kw_only=True)
class Env(Op):
    """`ENV key=value …` (or the legacy `ENV key value`)."""

    body: str
    written: str = "ENV"

    keyword: ClassVar[str] = "ENV"

    def items(self) -> list[tuple[str, str]]:
        words = shell.split_words(self.body)
        if not words:
            return []
        if "=" not in words[0]:
            return [(words[0], " ".join(words[1:]))]
        return [(w.split("=", 1)[0], w.split("=", 1)[1]) for w in words if "=" in w]

    def render(self) -> str:
        return f"{self.written} {self.body}"


@dataclass(kw_only=True)
class User(Op):
    """`USER name[:group]`."""

    user: str
    written: str = "USER"

    keyword: ClassVar[str] = "USER"

    def render(self) -> str:
        return f"{self.written} {self.user}"


@dataclass(kw_only=True)
class Workdir(Op):
    """`WORKDIR path`."""

    path: str
    written: str = "WORKDIR"

    keyword: ClassVar[str] = "WORKDIR"

    def render(self) -> str:
        return f"{self.written} {self.path}"


@dataclass(kw_only=True)
class Verbatim(Op):
    """Any other instruction (CMD, EXPOSE, LABEL, ARG, HEALTHCHECK …), kept as its text."""

    line: str

    @property
    def keyword(self) -> str:  # type: ignore[override]
        m = _HEAD.match(self.line)
        return m.group(1).upper() if m else ""

    def render(self) -> str:
        return self.line


@dataclass(kw_only=True)
class _ByRuntime(Op):
    """An op its runtime base writes: the `kind` macro of templates/runtimes/<runtime>.j2."""

    runtime: str  # the runtime base whose template says how

    def render(self) -> str:
        from dockrewrite.render import runtime_macro

        return runtime_macro(self.runtime, self.kind, self)


@dataclass(kw_only=True)
class Install(_ByRuntime):
    """Installing packages on a base with a package manager: the runtime base's template writes the RUN."""

    packages: tuple[str, ...]

    keyword: ClassVar[str] = "RUN"
    kind: ClassVar[str] = "install"


@dataclass(kw_only=True)
class AddUser(_ByRuntime):
    """Adding the unprivileged user the app runs as, with a home; `then` are shell commands chained after it
    in the same RUN (giving it the folders it writes)."""

    name: str
    uid: str
    then: tuple[str, ...] = ()

    keyword: ClassVar[str] = "RUN"
    kind: ClassVar[str] = "add_user"


def step(text: str, comments: tuple[str, ...] = ()) -> Op:
    """The typed op an instruction's text stands for (read once; rendered back unchanged)."""
    m = _HEAD.match(text)
    if m is None:
        return Verbatim(line=text, comments=comments, source=text)
    written, rest = text[m.start(1) : m.end(1)], text[m.end() :]
    flags = tuple(_FLAG.findall(m.group(2)))
    word = written.upper()
    made: Op
    if word == "FROM":
        parts = _AS.match(rest)
        if parts is None:
            return Verbatim(line=text, comments=comments, source=text)
        as_word = parts.group(2).split()[0] if parts.group(2) else "AS"
        made = From(image=parts.group(1), name=parts.group(3), flags=flags, written=written, as_word=as_word)
    elif word == "RUN":
        made = Run(body=rest, flags=flags, written=written)
    elif word in ("COPY", "ADD"):
        made = Copy(args=rest, flags=flags, written=written)
    elif word == "ENV" and not flags:
        made = Env(body=rest, written=written)
    elif word == "USER" and not flags:
        made = User(user=rest.strip(), written=written)
    elif word == "WORKDIR" and not flags:
        made = Workdir(path=rest.strip(), written=written)
    else:
        return Verbatim(line=text, comments=comments, source=text)
    made.comments, made.source = comments, text
    return made


def keyword(op: Op) -> str:
    """The instruction's keyword, upper case (`ADD` for an ADD read into a Copy)."""
    if isinstance(op, Copy):
        return op.written.upper()
    return op.keyword


def parse_mount(spec: str) -> dict[str, str]:
    """`type=cache,target=/x` -> {"type": "cache", "target": "/x"}; `dst`/`destination` are read as target."""
    out: dict[str, str] = {}
    for item in spec.split(","):
        key, eq, value = item.partition("=")
        out[key.strip().lower()] = value.strip() if eq else "true"
    for alias in ("dst", "destination"):
        if alias in out and "target" not in out:
            out["target"] = out[alias]
    return out


def mount_flag(options: dict[str, str]) -> str:
    order = ("type", "id", "source", "target", "sharing", "uid", "gid", "mode")
    keys = [k for k in order if k in options] + [k for k in options if k not in order]
    return "--mount=" + ",".join(f"{k}={options[k]}" for k in keys)


def _is_run(op: Op) -> bool:
    return op.text.lstrip().split(None, 1)[0].upper() == "RUN"


def _apart_at(stage: list[Op], start: int) -> int | None:
    """The latest index (not before `start`) where a step inserted would stand next to no RUN, None if none."""

    def run_at(i: int) -> bool:
        return 0 <= i < len(stage) and _is_run(stage[i])

    return next((i for i in range(len(stage), start, -1) if not run_at(i - 1) and not run_at(i)), None)


def place_apart(stage: list[Op], step: Op, start: int = 0) -> list[Op]:
    """The stage with `step` in it as late as it can go (not before `start`) without standing next to another RUN,
    whose pair hadolint's DL3059 would ask to merge while the stage's own RUNs are the user's; else last."""
    at = _apart_at(stage, start)
    at = len(stage) if at is None else at
    return [*stage[:at], step, *stage[at:]]


def apart(stage: list[Op], start: int = 0) -> list[Op]:
    """The stage with each floating step that stands next to a RUN moved where it stands next to none, if any."""
    for op in [s for s in stage if getattr(s, "floats", False)]:
        k = stage.index(op)
        if (k > 0 and _is_run(stage[k - 1])) or (k + 1 < len(stage) and _is_run(stage[k + 1])):
            rest = [s for s in stage if s is not op]
            at = _apart_at(rest, start)
            if at is not None:
                stage = [*rest[:at], op, *rest[at:]]
    return stage
