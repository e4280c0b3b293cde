"""Pieces every language provider uses the same way."""

from __future__ import annotations

import re

from dockrewrite import shell
from dockrewrite.context import BuildContext
from dockrewrite.model import Command, DockerfileModel, Instruction, Stage
from dockrewrite.plan import Options, Step
from dockrewrite.results import Skip

_RUN_PREFIX = re.compile(r"(?is)^\s*run\b(?:\s|\\\n)*(?:--\S+(?:\s|\\\n)+)*")


def run_prefix(text: str) -> str:
    """`RUN --mount=… ` at the start of a RUN instruction's text: what precedes the command."""
    m = _RUN_PREFIX.match(text)
    return text[: m.end()] if m else "RUN "


def chain(prefix: str, segments) -> str:
    """A RUN made of some of another RUN's commands (the rest went to another stage), one per line."""
    return prefix + " \\\n && ".join(s.text.strip() for s in segments)


def healthcheck_command(ins: Instruction) -> Command:
    """The command of `HEALTHCHECK CMD …`. `|| exit 1` only maps failures to 1, which Docker already treats as
    unhealthy, so it does not make the check need a shell."""
    if ins.json:
        return Command(True, tuple(ins.args[1:]))
    text = ins.args[1] if len(ins.args) > 1 else ""
    return Command(False, shell=re.sub(r"\s*\|\|\s*exit\s+1\s*$", "", text))


def global_args(model: DockerfileModel) -> dict[str, str]:
    """Defaults of the ARGs declared before the first FROM."""
    values: dict[str, str] = {}
    for ins in model.global_args:
        for item in ins.args:
            key, _, value = item.partition("=")
            values[key] = value.strip("\"'")
    return values


def resolved_image(model: DockerfileModel) -> str:
    """The first stage's image with ARG defaults filled in (for analysis; the output keeps the ARGs)."""
    image = model.stages[0].image
    return shell.substitute(image, global_args(model)) or image


def package_step(packages: list[str], family: str, comments: tuple[str, ...] = ()) -> Step:
    """One RUN that installs runtime packages on alpine (apk) or Debian (apt-get), cleaning up after itself."""
    if family == "alpine":
        return Step(f"RUN apk add --no-cache {' '.join(packages)}", (*comments, "# hadolint ignore=DL3018"))
    return Step(
        "RUN apt-get update \\\n"
        f" && apt-get install -y --no-install-recommends {' '.join(packages)} \\\n"
        " && rm -rf /var/lib/apt/lists/*",
        (*comments, "# hadolint ignore=DL3008"),
    )


class Planner:
    """What every language's planner starts from: the single stage, its inputs, and the notes it collects."""

    def __init__(self, model: DockerfileModel, ctx: BuildContext, options: Options):
        self.model = model
        self.ctx = ctx
        self.options = options
        self.stage: Stage = model.stages[0]
        self.warnings: list[str] = []
        self.rewritten: set[str] = set()  # CMD/ENTRYPOINT changed on purpose (the safety checks allow it)

    def refuse_unsupported(self) -> None:
        """Instructions no rewrite can carry safely into a split build."""
        for ins in self.stage.instructions:
            if not ins.args and not ins.heredocs:
                raise Skip(f"{ins.keyword} has nothing after it; Docker gives such a line no clear meaning", ins.line)
            if ins.keyword == "ONBUILD":
                raise Skip(
                    "ONBUILD triggers run in images built FROM this one; splitting stages would move them", ins.line
                )
            if ins.keyword == "SHELL":
                raise Skip("SHELL changes how every later command runs; not supported yet", ins.line)
