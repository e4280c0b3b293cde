"""What marks a Dockerfile as Node: node base images, npm/yarn/pnpm/node commands and the manifests."""

from __future__ import annotations

import re

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.providers.base import Evidence, LanguageSignals, collect

SIGNALS = LanguageSignals(
    "node",
    re.compile(r"^(node|nodejs)$|^node-|^node\d"),
    re.compile(
        r"\b(npm\s+(ci|install|i|run|start)|yarn(\s+install|\s+build)?|pnpm\s+\w+|npx\s+\S+|node\s+\S+\.m?js)\b"
    ),
    ("package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "npm-shrinkwrap.json"),
)


def detect(model: DockerfileModel, ctx: BuildContext) -> Evidence:
    """How much the Dockerfile and its context look like Node, and why."""
    return collect(model, ctx, SIGNALS)
