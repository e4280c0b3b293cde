"""What every subcommand shares: option value types, the rewrite's options and how they meet the configuration,
and how messages and usage errors are printed."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from dockrewrite.runtimes import select

Runtime = Enum("Runtime", [(name, name) for name in select.NAMES], type=str)


class Strategy(str, Enum):
    auto = "auto"
    user = "user"
    prefix = "prefix"
    venv = "venv"


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


class Format(str, Enum):
    text = "text"
    json = "json"


class ConvertFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"
    gitlab = "gitlab"
    junit = "junit"


RUNTIME = typer.Option(
    None,
    "--runtime",
    help="Runtime base (default: the config's, else auto). auto picks per language and case, the smallest "
    "base that holds what the app needs: Go scratch or distroless static (alpine when a shell is needed, "
    "Debian slim or distroless base for CGO); Node distroless nodejs when nothing needs a shell or npm "
    "(distroless static with the builder's own node for a pinned release, a major with no nodejs image or "
    "addons' libraries from another Debian release), else the slim image of the same major; Python "
    "distroless static with the builder's own interpreter and every library it links when nothing needs a "
    "shell, a package or a program the app does not declare, else the slim image of the same version; static "
    "sites nginx.",
    show_default=False,
)
STRATEGY = typer.Option(
    None,
    "--python-strategy",
    help="Where Python packages are installed in the builder and copied from: prefix (/install onto "
    "/usr/local), user (~/.local), venv (/opt/venv); auto (default) picks per case.",
    show_default=False,
)
KEEP_ROOT = typer.Option(
    None, "--keep-root/--no-keep-root", help="Keep running as root when the original has no USER.", show_default=False
)
TEMPLATES = typer.Option(
    None, "--templates", help="Folder of templates that override the built-in ones by name.", file_okay=False
)
CONFIG = typer.Option(
    None,
    "--config",
    help="Use this configuration file (.dockrewrite.toml, or a pyproject.toml with [tool.dockrewrite]) for every "
    "input instead of the nearest one.",
    dir_okay=False,
    show_default=False,
)
NO_CONFIG = typer.Option(False, "--no-config", help="Ignore configuration files; only flags and defaults apply.")
TARGETS = typer.Option(
    None,
    "--targets",
    help="Extra named stages, comma-separated: develop (toolchain, dev dependencies, dev command) and test "
    "(runs go test / npm test / pytest at build time). The production runtime stays the default target.",
    show_default=False,
)
CACHE_MOUNTS = typer.Option(
    False,
    "--cache-mounts",
    help="RUN --mount=type=cache for the Go module and build caches, pip/poetry/uv caches, npm/yarn/pnpm "
    "stores and apt in the build stages (BuildKit; Docker 20.10 and later).",
)
BIND_MOUNTS = typer.Option(
    False,
    "--bind-mounts",
    help="Bind-mount lockfiles into the install step instead of copying them, where nothing later needs the copy.",
)
IGNORE = typer.Option(
    None,
    "--ignore",
    help="Leave out notes with these codes or code prefixes, comma-separated (DR701,DR8); adds to the "
    "config's `ignore`. The codes: docs/notes.md.",
    metavar="CODES",
    show_default=False,
)
PIN = typer.Option(
    False,
    "--pin",
    help="Pin floating tags (latest, untagged, alpine:3.20) of the images the rewrite "
    "writes to exact versions; hadolint DL3006/DL3007.",
)
SYNTAX_LINE = typer.Option(
    False,
    "--syntax-line",
    help="Write `# syntax=docker/dockerfile:1` (otherwise only when a feature "
    "needs it: the line makes the engine pull the frontend image, which fails offline).",
)


def rewrite_flags(
    runtime, python_strategy, keep_root, templates, targets: str | None = None, ignore: str | None = None, **switches
) -> dict:
    """The rewrite's command-line choices as config keys (None: not given, the config or default decides)."""
    chosen = tuple(t.strip() for t in (targets or "").split(",") if t.strip())
    from dockrewrite.notes import selector_problem
    from dockrewrite.targets import KNOWN

    bad = [t for t in chosen if t not in KNOWN]
    if bad:
        usage(f"--targets: unknown target {bad[0]!r} (known: {', '.join(KNOWN)})")
    ignored = tuple(c.strip().upper() for c in (ignore or "").split(",") if c.strip())
    for selector in ignored:
        problem = selector_problem(selector)
        if problem:
            usage(f"--ignore: {problem}")
    return {
        "ignore": ignored or None,
        "runtime": runtime.value if runtime else None,
        "python-strategy": python_strategy.value if python_strategy else None,
        "keep-root": keep_root,
        "templates": str(templates) if templates else None,
        "targets": chosen or None,
        **{name.replace("_", "-"): (True if on else None) for name, on in switches.items()},
    }


def config_for(path: Path, chosen: Path | None, disabled: bool):
    """The configuration for a Dockerfile: --config's file, none with --no-config, else the nearest one."""
    from dockrewrite import config

    try:
        if disabled:
            return config.Config()
        return config.load_cached(chosen) if chosen is not None else config.for_file(path)
    except config.ConfigError as exc:
        usage(str(exc))


def err(message: str) -> None:
    typer.echo(message, err=True)


def usage(message: str) -> None:
    err(f"dockrewrite: error: {message}")
    raise typer.Exit(2)
