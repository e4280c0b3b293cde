"""`CMD ["go", "run", "."]`: the image compiles its program at every start. The rewrite builds it once in
the builder instead (`go build -o /usr/local/bin/<name>` with the same flags) and runs the binary: same
program, same arguments, no toolchain in the runtime.

Works on the model before planning: a RUN with the build is put where the command was, and the command
runs the binary, so the Go planner then sees an ordinary build.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
import shlex

from dockrewrite.model import Command, DockerfileModel, Instruction
from dockrewrite.parse import parse

# `go run` flags that take a separate value (the build flags plus -exec).
_VALUE_FLAGS = frozenset(
    {"tags", "ldflags", "gcflags", "asmflags", "mod", "modfile", "p", "pgo", "overlay", "exec", "C", "installsuffix"}
)
_BIN_DIR = "/usr/local/bin"


@dataclasses.dataclass(frozen=True)
class GoRun:
    keyword: str  # the instruction that runs `go run`: CMD or ENTRYPOINT
    build: str  # the RUN instruction's text
    command: str  # the new CMD/ENTRYPOINT text
    binary: str


def find(model: DockerfileModel) -> GoRun | None:
    """The `go run` the container starts with, as a build and a command; None when there is none or it is not
    a plain list of words (variables, shell operators)."""
    stage = model.stages[-1]
    entry = stage.last("ENTRYPOINT")
    ins = entry if entry is not None and entry.args else stage.last("CMD")
    if ins is None or not ins.args:
        return None
    argv = Command.of(ins).as_simple_argv()
    if not argv or len(argv) < 3 or posixpath.basename(argv[0]) != "go" or argv[1] != "run":
        return None
    flags: list[str] = []
    rest = list(argv[2:])
    while rest and rest[0].startswith("-") and rest[0] != "--":
        flag = rest.pop(0)
        flags.append(flag)
        if flag.lstrip("-") in _VALUE_FLAGS and "=" not in flag and rest:
            flags.append(rest.pop(0))
        if flag.lstrip("-").split("=")[0] in ("exec", "o", "race", "msan", "asan", "cover"):
            return None  # a wrapper program, an explicit output, or an instrumented dev build
    if not rest:
        return None
    files = []
    while rest and rest[0].endswith(".go"):
        files.append(rest.pop(0))
    packages = files or [rest.pop(0)]
    binary = posixpath.join(_BIN_DIR, _name(packages))
    build = "RUN " + shlex.join(["go", "build", *flags, "-o", binary, *packages])
    return GoRun(ins.keyword, build, f"{ins.keyword} {json.dumps([binary, *rest])}", binary)


def apply(model: DockerfileModel, run: GoRun) -> DockerfileModel:
    """The model with the build before the command and the command running the binary."""
    stage = model.stages[-1]
    target = stage.last(run.keyword)
    probe = parse(f"FROM scratch\n{run.build}\n{run.command}\n").stages[0].instructions
    build, command = (_at(i, target) for i in probe)
    instructions: list[Instruction] = []
    for ins in stage.instructions:
        if ins is target:
            instructions += [build, dataclasses.replace(command, comments=ins.comments)]
        else:
            instructions.append(ins)
    new_stage = dataclasses.replace(stage, instructions=tuple(instructions))
    return dataclasses.replace(model, stages=(*model.stages[:-1], new_stage))


def _at(ins: Instruction, where: Instruction) -> Instruction:
    return dataclasses.replace(ins, line=where.line, end_line=where.end_line, comments=())


def _name(packages: list[str]) -> str:
    first = packages[0]
    if first.endswith(".go"):
        return posixpath.basename(first)[:-3]
    parts = [p for p in first.split("@", 1)[0].split("/") if p not in ("", ".", "...")]
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        parts.pop()
    return parts[-1] if parts else "app"
