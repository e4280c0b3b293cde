"""What every language provider shares: evidence collection from the Dockerfile and the context, and the
hooks interface through which the features ask a language what they need to know."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.ops import Op
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


# -- hooks: what a language tells the language-neutral features -------------------------------------
@dataclass
class CacheUse:
    """The cache folders one command uses, and its text as it must read with them mounted."""

    tool: str
    caches: list[dict[str, str]]
    text: str | None = None  # the command rewritten (None: unchanged)


class CacheSite(Protocol):
    """Where a command runs, as the cache mounts feature sees it; `cache` resolves a folder into a mount."""

    env: dict[str, str]  # the step's ENV with the command's own assignments
    home: str  # the home folder of the user the step runs as
    cache_home: str  # $XDG_CACHE_HOME, else $HOME/.cache
    root: bool
    ctx: BuildContext
    builder_reused: bool  # --targets stages start FROM the build stages: what they need must stay in the layers

    def cache(self, folder: str | None, **extra: str) -> dict[str, str] | None: ...

    def note(self, text: str) -> None: ...


def uses(tool: str, *caches: dict[str, str] | None, text: str | None = None) -> CacheUse | None:
    """The CacheUse of the caches that resolved, or None when none did."""
    kept = [c for c in caches if c is not None]
    return CacheUse(tool, kept, text) if kept else None


class Hooks:
    """One language's answers to the features (cache and bind mounts, .dockerignore, --targets stages).

    Every answer defaults to "nothing of mine", so a language without hooks changes no feature's output.
    """

    language: str = ""
    # The versions --pin writes for the language's official images, newest first: image name -> versions.
    pin_versions: Mapping[str, tuple[str, ...]] = {}
    # Images whose own ENV the cache folders depend on: image name -> ENV.
    image_env: Mapping[str, Mapping[str, str]] = {}
    # Users the official images ship: image name -> user name or uid -> (uid, gid, home).
    image_users: Mapping[str, Mapping[str, tuple[str, str, str]]] = {}
    # Programs that read or write this language's manifests.
    managers: frozenset[str] = frozenset()
    # Manifest and lockfile names (a file's base name) an install may read through a bind mount.
    manifests: re.Pattern | None = None

    def caches(self, words: list[str], text: str, site: CacheSite) -> CacheUse | None:
        """The caches a command of this language's tools uses (words: the command, text: as written)."""
        return None

    def runs_tools(self, program: str) -> tuple[str, ...]:
        """The tools a program may run by itself (a Makefile, a script), which then need their cache mounts."""
        return ()

    def reads_manifests(self, words: list[str], names: set[str]) -> bool:
        """Whether the command installs from the manifests named (base names) and leaves them as they are."""
        return False

    def writes_manifests(self, words: list[str]) -> bool:
        """Whether the command changes a manifest or lockfile."""
        return False

    def ignored(self, ctx: BuildContext, built: str) -> tuple[list[str], set[str]]:
        """(.dockerignore candidates, build output folders the build steps make anew); built: their RUN text."""
        return [], set()

    def develop(self, plan: BuildPlan, ctx: BuildContext, source: str, contract: list[Op]) -> tuple[list[Op], list[Op]]:
        """(the develop stage's own steps after its FROM and WORKDIR, the runtime contract it ends with)."""
        return [], contract

    def test(self, plan: BuildPlan, ctx: BuildContext, base: str) -> list[Op] | str | None:
        """The test stage's steps after its FROM, why there are none, or None when no test command is known."""
        return None
