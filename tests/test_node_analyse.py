"""The Node analysis: the frozen facts one original and its context give, before any planning."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from dockrewrite.context import BuildContext
from dockrewrite.parse import parse
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node.analyse import analyse
from dockrewrite.results import Skip

DOCKERFILE = """ARG NODE=20
FROM node:${NODE}-alpine
ENV NODE_ENV=production
RUN npm i -g pm2 pnpm@8
WORKDIR /app
COPY package.json package-lock.json ./
RUN apk add --no-cache python3 make g++ && npm ci
COPY . .
RUN npm run build && npm ci --omit=dev
USER node
EXPOSE 3000
CMD ["pm2-runtime", "dist/server.js"]
"""


def _context(tmp_path: Path) -> BuildContext:
    files = {
        "package.json": {"name": "app", "dependencies": {"express": "4"}, "scripts": {"build": "tsc"}},
        "package-lock.json": "{}",
        "src/server.ts": "",
        "public/index.html": "",
    }
    for rel, content in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return BuildContext(tmp_path)


def test_facts_of_an_original(tmp_path):
    facts = analyse(parse(DOCKERFILE), _context(tmp_path))
    assert facts.args == {"NODE": "20"}
    assert (facts.resolved, facts.major, facts.alpine) == ("node:20-alpine", 20, True)
    assert facts.pkg.deps() == {"express": "4"}
    assert (facts.workdir, facts.app_dir) == ("/app", "/app")
    assert facts.items[facts.install_index].ins.line == 7
    assert facts.install.words[:2] == ["npm", "ci"]
    assert facts.install_env == {"NODE_ENV": "production"}
    assert facts.entry is None and facts.cmd is not None and not facts.no_command
    assert facts.user == "node"
    assert facts.env == {"NODE_ENV": "production"}
    assert facts.native == "python3 make g++ installed for node-gyp (line 7)"
    assert facts.copied_entries == ("package-lock.json", "package.json", "public", "src")
    assert {"pm2", "pm2-runtime", "pnpm"} <= facts.global_bins
    assert facts.pnpm_install == "npm i -g pm2 pnpm@8"
    (after,) = [it for it in facts.items if it.ins.line == 9]
    assert [s.kind for s in after.segments] == [cmds.BUILD, cmds.PRUNE]  # the second install


def test_facts_are_frozen(tmp_path):
    facts = analyse(parse(DOCKERFILE), _context(tmp_path))
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.workdir = "/"  # type: ignore[misc]
    with pytest.raises(TypeError):
        facts.env["PORT"] = "80"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.items[0].workdir = "/"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("FROM python:3.12\nRUN npm ci\n", "not an official node image"),
        ("FROM node:20\nWORKDIR /app\nCOPY . .\nCMD node x.js\n", "no npm, yarn or pnpm install"),
        ("FROM node:20\nWORKDIR $DIR\nRUN npm ci\n", "depends on a build argument"),
        ("FROM node:20\nRUN cd /app && npm ci\n", "after `cd`"),
    ],
)
def test_what_analysis_refuses(tmp_path, text, reason):
    with pytest.raises(Skip, match=reason):
        analyse(parse(text), _context(tmp_path))
