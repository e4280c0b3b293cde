"""What every language provider shares: evidence collection from the Dockerfile and the context."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.plan import BuildPlan, Options

# Weights: the base image says most about the toolchain, the commands next, the context least
# (a Go repo often carries a package.json for its front-end tooling).
BASE_WEIGHT, COMMAND_WEIGHT, FILE_WEIGHT = 3, 2, 1


@dataclass
class Evidence:
    language: str
    score: int = 0
    signals: list[str] = field(default_factory=list)

    def add(self, weight: int, signal: str) -> None:
        self.score += weight
        self.signals.append(signal)


@dataclass(frozen=True)
class LanguageSignals:
    """Table of what marks a language: image names, command words and context files."""

    language: str
    images: re.Pattern
    commands: re.Pattern
    files: tuple[str, ...] = ()
    file_globs: tuple[str, ...] = ()


def image_name(image: str) -> str:
    """`docker.io/library/golang:1.22-alpine@sha256:...` -> `golang`."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def collect(model: DockerfileModel, ctx: BuildContext, table: LanguageSignals) -> Evidence:
    ev = Evidence(table.language)
    for stage in model.stages:
        if table.images.search(image_name(stage.image)):
            ev.add(BASE_WEIGHT, f"base image {stage.image} (line {stage.from_.line})")
            break
    seen: set[str] = set()
    for stage in model.stages:
        for ins in stage.instructions:
            if ins.keyword not in ("RUN", "CMD", "ENTRYPOINT"):
                continue
            for m in table.commands.finditer(ins.shell):
                word = " ".join(m.group(0).split())
                if word not in seen:
                    seen.add(word)
                    # One command is enough evidence; more of them only add explanation.
                    weight = COMMAND_WEIGHT if len(seen) == 1 else 0
                    ev.add(weight, f"`{word}` ({ins.keyword} line {ins.line})")
    for name in table.files:
        if ctx.exists(name):
            ev.add(FILE_WEIGHT, f"{name} in the context")
    if table.file_globs:
        import fnmatch

        for entry in ctx.entries:
            if any(fnmatch.fnmatch(entry, g) for g in table.file_globs) and entry not in table.files:
                ev.add(FILE_WEIGHT, f"{entry} in the context")
    return ev


class Provider:
    language: str = ""
    signals: LanguageSignals
    supported: bool = False

    def detect(self, model: DockerfileModel, ctx: BuildContext) -> Evidence:
        return collect(model, ctx, self.signals)

    def plan(self, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
        raise NotImplementedError
