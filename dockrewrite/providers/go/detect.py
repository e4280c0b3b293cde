"""What marks a Dockerfile as Go: the golang images, the go commands and the module files in the context."""

from __future__ import annotations

import re

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.providers.base import Evidence, LanguageSignals, collect

SIGNALS = LanguageSignals(
    "go",
    re.compile(r"^(golang|go|tinygo)$"),
    re.compile(r"(?<![\w/.-])go\s+(build|install|mod\s+download|get|run|generate)\b"),
    ("go.mod", "go.sum", "Gopkg.toml", "glide.yaml"),
)


def detect(model: DockerfileModel, ctx: BuildContext) -> Evidence:
    """The evidence that this Dockerfile builds Go."""
    return collect(model, ctx, SIGNALS)
