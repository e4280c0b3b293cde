"""The parsed Dockerfile: frozen values that keep each instruction's original text."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

# Instructions that describe how the image runs rather than how it is built.
RUNTIME_KEYWORDS = frozenset(
    {"CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK", "LABEL", "STOPSIGNAL", "VOLUME", "USER", "MAINTAINER"}
)
KNOWN_KEYWORDS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    text: str
    flags: tuple[str, ...]
    args: tuple[str, ...]
    json: bool
    line: int
    end_line: int
    comments: tuple[str, ...] = ()
    sub_keyword: str | None = None
    heredocs: tuple[str, ...] = ()

    def flag(self, name: str) -> str | None:
        prefix = f"--{name}="
        for item in self.flags:
            if item.lower().startswith(prefix):
                return item[len(prefix) :]
            if item.lower() == f"--{name}":
                return ""
        return None

    @property
    def shell(self) -> str:
        """The command text for RUN/CMD/ENTRYPOINT, joined the way Docker joins it."""
        if self.json:
            return " ".join(shlex.quote(a) for a in self.args)
        text = self.args[0] if self.args else ""
        if self.heredocs and text.lstrip().startswith("<<"):
            # `RUN <<EOT` runs the heredoc itself as the script
            return "\n".join(self.heredocs)
        return text

    def command(self) -> Command:
        return Command.of(self)


@dataclass(frozen=True)
class Command:
    """An ENTRYPOINT/CMD/HEALTHCHECK command: exec form (argv) or shell form (a string for /bin/sh -c)."""

    exec_form: bool
    argv: tuple[str, ...] = ()
    shell: str = ""

    @classmethod
    def of(cls, ins: Instruction) -> Command:
        if ins.json:
            return cls(True, tuple(ins.args))
        raw = ins.args[0] if ins.args else ""
        # Docker treats an exec form that is not valid JSON as shell form; keep that meaning.
        if raw.startswith("["):
            try:
                value = json.loads(raw)
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    return cls(True, tuple(value))
            except ValueError:
                pass
        return cls(False, shell=raw)

    @property
    def program(self) -> str | None:
        if self.exec_form:
            return self.argv[0] if self.argv else None
        try:
            words = shlex.split(self.shell)
        except ValueError:
            return None
        while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
            words.pop(0)
        if words and words[0] == "exec":
            words.pop(0)
        return words[0] if words else None

    def as_simple_argv(self) -> tuple[str, ...] | None:
        """The argv a shell-form command stands for, when no shell feature is involved."""
        if self.exec_form:
            return self.argv
        if not self.shell.strip() or _needs_shell(self.shell):
            return None
        try:
            words = shlex.split(self.shell)
        except ValueError:
            return None
        if words and words[0] == "exec":
            words = words[1:]
        if not words or "=" in words[0]:
            return None
        return tuple(words)


@dataclass(frozen=True)
class Stage:
    from_: Instruction
    image: str
    name: str | None
    platform: str | None
    instructions: tuple[Instruction, ...]

    def find(self, *keywords: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword in keywords]

    def last(self, keyword: str) -> Instruction | None:
        found = self.find(keyword)
        return found[-1] if found else None


@dataclass(frozen=True)
class DockerfileModel:
    header: tuple[str, ...]
    global_args: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    footer: tuple[str, ...] = ()
    escape: str = "\\"
    lines: tuple[str, ...] = field(default=(), repr=False)

    @property
    def directives(self) -> tuple[str, ...]:
        return tuple(line for line in self.header if DIRECTIVE_RE.match(line))

    @property
    def is_multistage(self) -> bool:
        return len(self.stages) > 1

    def comment_lines(self) -> list[tuple[int, str]]:
        return [(n, line.strip()) for n, line in enumerate(self.lines, 1) if line.lstrip().startswith("#")]


DIRECTIVE_RE = re.compile(r"^#\s*(syntax|escape|check)\s*=", re.IGNORECASE)


# Outside quotes these make the shell do more than split words; inside double quotes only $ ` and \ do.
_UNQUOTED_SPECIAL = frozenset("$`|&;<>(){}*?[~#\\\n")
_DOUBLE_QUOTED_SPECIAL = frozenset("$`\\")


def _needs_shell(text: str) -> bool:
    """Whether running `sh -c text` does anything but split it into quoted words."""
    quote = None
    for char in text:
        if quote == "'":
            quote = None if char == "'" else quote
        elif quote == '"':
            if char in _DOUBLE_QUOTED_SPECIAL:
                return True
            quote = None if char == '"' else quote
        elif char in ("'", '"'):
            quote = char
        elif char in _UNQUOTED_SPECIAL:
            return True
    return quote is not None
