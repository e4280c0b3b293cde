"""What every subcommand shares: option value types and how messages and usage errors are printed."""

from __future__ import annotations

from enum import Enum

import typer


class Runtime(str, Enum):
    auto = "auto"
    scratch = "scratch"
    distroless = "distroless"
    alpine = "alpine"
    slim = "slim"


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


def err(message: str) -> None:
    typer.echo(message, err=True)


def usage(message: str) -> None:
    err(f"dockrewrite: error: {message}")
    raise typer.Exit(2)
