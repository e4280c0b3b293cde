"""Each fixture app: build the original and the rewrite, smoke both, compare contract and size."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from app_checks import APPS, check_verified, verify_app

from dockrewrite.plan import Options

pytestmark = pytest.mark.e2e

ALL_APPS = sorted(p.name for p in APPS.iterdir() if (p / "smoke.json").is_file())
GO_APPS = [name for name in ALL_APPS if (APPS / name / "go.mod").is_file()]
PYTHON_APPS = [name for name in ALL_APPS if name.startswith("py-")]
NODE_APPS = [name for name in ALL_APPS if (APPS / name / "package.json").is_file()]


def test_there_are_apps_for_each_language():
    assert {"go-http", "go-cgo", "go-templates", "go-scratch"} <= set(GO_APPS)
    assert {"py-flask", "py-psycopg2", "py-cli-tool", "py-split-reqs"} <= set(PYTHON_APPS)
    assert {"node-express", "node-ts", "node-vite-spa"} <= set(NODE_APPS)


@pytest.mark.parametrize("name", ALL_APPS)
def test_app(name: str, docker_engine):
    spec, result = verify_app(name, docker_engine.network)
    check_verified(name, spec, result)


@pytest.mark.parametrize(
    "name", [n for n in ALL_APPS if "targets" in json.loads((APPS / n / "smoke.json").read_text())]
)
def test_named_targets_of_the_rewrite(name: str, docker_engine, tmp_path: Path):
    """Extra stages the rewrite adds (e.g. `develop`) build with --target and run their own check."""
    from dockrewrite import source
    from dockrewrite.context import BuildContext
    from dockrewrite.transform import convert_text

    app = APPS / name
    spec = json.loads((app / "smoke.json").read_text())
    text, _ = source.read(app / "Dockerfile")
    result = convert_text(text, BuildContext(app), Options())
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(result.output)
    for target, cmd in spec["targets"].items():
        tag = f"dockrewrite-e2e-{name}-{target}:{tmp_path.name.lower()}"
        ok, lines, _ = docker_engine.build(dockerfile, app, tag, 900, extra=["--target", target])
        assert ok, "\n".join(lines[-20:])
        try:
            run = subprocess.run(
                [docker_engine.binary, "run", "--rm", tag, *cmd], capture_output=True, text=True, timeout=120
            )
            assert run.returncode == 0, run.stderr
            assert target in run.stdout, run.stdout
        finally:
            subprocess.run([docker_engine.binary, "rmi", "-f", tag], capture_output=True, timeout=120)
