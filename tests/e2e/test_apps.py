"""Each fixture app: build the original and the rewrite, smoke both, compare contract and size."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dockrewrite.plan import Options
from dockrewrite.verify import PASSED, verify_file, without_npm_banner

pytestmark = pytest.mark.e2e

APPS = Path(__file__).resolve().parents[2] / "fixtures" / "apps"

ALL_APPS = sorted(p.name for p in APPS.iterdir() if (p / "smoke.json").is_file())
GO_APPS = [name for name in ALL_APPS if (APPS / name / "go.mod").is_file()]
PYTHON_APPS = [name for name in ALL_APPS if name.startswith("py-")]
NODE_APPS = [name for name in ALL_APPS if (APPS / name / "package.json").is_file()]


def _explain(result) -> str:
    lines = [f"{result.status} at {result.stage}: {result.message}", *result.build_log[-15:]]
    lines += [d.describe() for d in result.differences]
    lines += [f"smoke {c.kind}: {c.status}: {c.detail}" for c in result.smoke]
    lines += ["--- rewrite ---", result.dockerfile or "(none)"]
    return "\n".join(lines)


def test_there_are_apps_for_each_language():
    assert {"go-http", "go-cgo", "go-templates", "go-scratch"} <= set(GO_APPS)
    assert {"py-flask", "py-psycopg2", "py-cli-tool", "py-split-reqs"} <= set(PYTHON_APPS)
    assert {"node-express", "node-ts", "node-vite-spa"} <= set(NODE_APPS)


@pytest.mark.parametrize("name", ALL_APPS)
def test_app(name: str, docker_engine):
    app: Path = APPS / name
    spec = json.loads((app / "smoke.json").read_text())
    result = verify_file(
        app / "Dockerfile",
        app,
        Options(runtime=spec.get("runtime", "auto")),
        network=docker_engine.network,
        smoke_env=spec.get("env", {}),
        smoke_cmd=spec.get("cmd"),
        smoke_http=spec.get("http"),
        http_env=spec.get("http_env", {}),
        smoke_user=spec.get("user"),
        timeout=spec.get("timeout", 30),
    )
    assert result.original is not None and result.rewrite is not None, _explain(result)

    assert result.smoke, "no smoke check ran"
    for check in result.smoke:
        assert check.status == PASSED, _explain(result)
    if "expect_stdout" in spec:
        run = next(c for c in result.smoke if c.kind == "run")
        assert run.original.exit_code == run.rewrite.exit_code == 0, _explain(result)
        assert run.rewrite.stdout in (run.original.stdout, without_npm_banner(run.original.stdout))
        assert spec["expect_stdout"] in run.rewrite.stdout, run.rewrite.stdout
    if spec.get("http"):
        http = next(c for c in result.smoke if c.kind == "http")
        assert http.rewrite.http_status == http.original.http_status == 200
        assert http.rewrite.http_body == http.original.http_body

    assert result.unintended == [], _explain(result)
    if "runs_as_root" not in spec:  # the spec says why an app keeps root (nginx starts as root, workers drop it)
        assert any(d.field == "user" and d.intended for d in result.differences), "the rewrite should run as non-root"
    assert result.ratio >= spec["min_ratio"], (
        f"{name}: {result.original.size / 1e6:.1f} MB -> {result.rewrite.size / 1e6:.1f} MB = "
        f"{result.ratio:.1f}x < {spec['min_ratio']}x; largest layer: {result.rewrite.largest_layer}"
    )
    assert result.status == PASSED, _explain(result)


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
