"""BuildPlan: everything a template needs to render a multi-stage Dockerfile, decided up front."""

from __future__ import annotations

from dataclasses import dataclass, field

from dockrewrite.ops import Op

PYTHON_STRATEGIES = ("auto", "user", "prefix", "venv")


@dataclass(frozen=True)
class Options:
    runtime: str = "auto"
    keep_root: bool = False
    python_strategy: str = "auto"
    images: tuple[tuple[str, str], ...] = ()  # runtime image the rewrite would write -> what to write instead
    templates: str | None = None  # a folder whose templates override the built-in ones by name
    cache_mounts: bool = False  # RUN --mount=type=cache for module/package caches in build steps
    bind_mounts: bool = False  # RUN --mount=type=bind for lockfiles where that beats a COPY
    syntax_line: bool = False  # write `# syntax=docker/dockerfile:1` even when no feature needs it
    pin: bool = False  # resolve latest/floating tags of the images the rewrite writes to pinned versions
    targets: tuple[str, ...] = ()  # extra named stages: "develop", "test"
    dockerignore: bool = False  # write a .dockerignore beside the rewrite when the context has none
    notes: bool = True  # work out advisory notes (import scans); --check shows none, so it skips them
    ignore: tuple[str, ...] = ()  # note codes (or prefixes) to leave out of every output (dockrewrite.notes)


@dataclass
class BuildPlan:
    language: str
    runtime: str
    header: list[str]
    global_args: list[Op]
    builder: list[Op]
    runtime_from: Op
    extra_stages: list[list[Op]] = field(default_factory=list)  # between builder and runtime, FROM first
    runtime_args: list[Op] = field(default_factory=list)
    runtime_setup: list[Op] = field(default_factory=list)
    workdir: str | None = None
    artifacts: list[Op] = field(default_factory=list)
    contract: list[Op] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rewritten: set[str] = field(default_factory=set)  # CMD/ENTRYPOINT the rewrite changed on purpose
    note: str = ""  # one line that says why this runtime image, shown above the runtime stage
    loads: list[str] = field(default_factory=list)  # context files the app loads at start (.env, config), carried
    intents: list = field(default_factory=list)  # intents.Intent values: contract changes made on purpose
