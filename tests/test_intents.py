"""Rewrites declare the contract changes they make on purpose as typed intents: the values verify reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockrewrite.context import BuildContext
from dockrewrite.intents import CommandChanged, Declared, EnvSet, UserMapped, WorkdirChanged
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED
from dockrewrite.transform import convert_text
from dockrewrite.verify.compare import ImageFacts, compare

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _intents(case: str) -> tuple:
    folder = FIXTURES / case
    result = convert_text((folder / "Dockerfile").read_text(), BuildContext(folder), Options(), str(folder))
    assert result.status == CHANGED, result.reason
    return result.intents


@pytest.mark.parametrize(
    "case, expected",
    [
        ("go/go-run", CommandChanged("go-run", ("/usr/local/bin/app",), prefix=True)),
        ("go/named-user", UserMapped("app", "10001")),
        ("node/nodemon-start", CommandChanged("compiled-at-start", ("node", "src/app.js"))),
        ("node/vite-serve", CommandChanged("static-site", ("nginx",), prefix=True)),
        (
            "node/vite-serve",
            WorkdirChanged("/usr/share/nginx/html", "nginx's document root: the static files are served from there"),
        ),
        ("node/next-standalone", CommandChanged("start-script", ("node", "server.js"))),
        # ENV the runtime stage sets and the original did not: read off the plan's typed ops, noted or not
        ("node/next-standalone", EnvSet("HOSTNAME", "added by the rewrite (see its notes)")),
        ("python/poe-task", CommandChanged("poe-task", ("gunicorn", "--bind", "0.0.0.0:8000", "inventory.wsgi:app"))),
        ("python/seed-requirements", EnvSet("PYTHONUNBUFFERED", "added by the rewrite (see its notes)")),
    ],
)
def test_conversions_declare_what_they_change(case, expected):
    assert expected in _intents(case)


def test_a_rewrite_that_keeps_the_command_declares_no_command_change():
    # ts-node stays (no outDir to run node on): the dev dependencies are kept, the command is the original's
    assert not [i for i in _intents("node/ts-node-at-start") if isinstance(i, CommandChanged)]


def test_verify_accepts_what_a_conversion_declared_and_nothing_else():
    declared = Declared(_intents("node/next-standalone"))

    def facts(command, env):
        return ImageFacts("sha256:x", 1, 1, command, env, [], "/app", "", {}, None, "", [])

    orig = facts(["npm", "start"], {})
    diffs = {
        d.field: d for d in compare(orig, facts(["node", "server.js"], {"HOSTNAME": "0.0.0.0"}), declared=declared)
    }
    assert diffs["command"].intended and diffs["env HOSTNAME"].intended
    diffs = {d.field: d for d in compare(orig, facts(["node", "index.js"], {"DEBUG": "1"}), declared=declared)}
    assert not diffs["command"].intended and not diffs["env DEBUG"].intended
