"""verify --choose on the engine: a Go service is built on each runtime it can use, and the smallest image
that keeps the contract and answers like the original is chosen (and written with --write)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockrewrite.cli import app

pytestmark = pytest.mark.e2e

APPS = Path(__file__).resolve().parents[2] / "fixtures" / "apps"


def test_a_go_service_gets_the_smallest_runtime_that_passes(docker_engine, tmp_path):
    service = tmp_path / "go-http"
    shutil.copytree(APPS / "go-http", service)
    args = ["verify", "--network", "host", "--choose", "--format", "json"]
    args += [
        "--smoke-env",
        "SELFTEST=1",
        "--smoke-http",
        "8080/healthz",
        "--timeout",
        "60",
        str(service / "Dockerfile"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (choice,) = json.loads(result.stdout)["files"]
    tried = {t["runtime"]: t for t in choice["tried"]}
    assert set(tried) == {"scratch", "distroless", "alpine", "slim"}
    built = [t for t in choice["tried"] if t["size"] is not None]
    assert all(t["status"] == "passed" for t in built), choice
    assert choice["chosen"] == min(built, key=lambda t: t["size"])["runtime"]
    assert tried["slim"]["size"] > tried[choice["chosen"]]["size"]

    before = (service / "Dockerfile").read_text()
    written = CliRunner().invoke(app, [*args[:-1], "--write", str(service / "Dockerfile")])
    assert written.exit_code == 0, written.output
    after = (service / "Dockerfile").read_text()
    assert after != before and "AS runtime" in after
