"""What a builder-pattern scan finds: docker cp artifacts, the Dockerfile pairs they link, the scripts refused."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

BUILDER = "builder"


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
        return tuple((a.container_path, norm_path(a.local_path)) for a in self.artifacts)

    def describe(self) -> str:
        base = self.runtime_file.parent
        where = rel_path(self.script, base) + (f" target {self.target}" if self.target else "")
        copies = ", ".join(f"{a.container_path} -> {rel_path(a.local_path, base)}" for a in self.artifacts)
        files = f"{rel_path(self.build_file, base)} + {rel_path(self.runtime_file, base)}"
        return f"{files} linked by {where} (docker cp {copies})"


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


def rel_path(path: Path, base: Path) -> str:
    try:
        return os.path.relpath(Path(path).absolute(), Path(base).absolute())
    except ValueError:
        return str(path)


def norm_path(path: Path | str) -> Path:
    return Path(os.path.normpath(Path(path).absolute()))
