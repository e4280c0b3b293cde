"""Node.js: detection now; the rewrite arrives with its own issue."""

from __future__ import annotations

import re

from dockrewrite.providers.base import LanguageSignals, Provider


class NodeProvider(Provider):
    language = "node"
    signals = LanguageSignals(
        "node",
        re.compile(r"^(node|nodejs)$|^node-|^node\d"),
        re.compile(
            r"\b(npm\s+(ci|install|i|run|start)|yarn(\s+install|\s+build)?|pnpm\s+\w+|npx\s+\S+|node\s+\S+\.m?js)\b"
        ),
        ("package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "npm-shrinkwrap.json"),
    )
