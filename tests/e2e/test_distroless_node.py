"""Node apps rewritten with `--runtime distroless`: built on the engine, they keep the original's contract.

The rewrite runs on gcr.io/distroless/nodejs20-debian12 (node as the entrypoint, no shell, no npm), so the
start script must have become a plain node command. Each app gets the smoke comparison test_apps.py
gives it on the default runtime: exit code, output, HTTP answer and file-system side effects
(verify_file judges them), size ratio and a non-root user.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockrewrite.plan import Options
from dockrewrite.verify import PASSED, verify_file, without_npm_banner

pytestmark = pytest.mark.e2e

APPS = Path(__file__).resolve().parents[2] / "fixtures" / "apps"
# Every Node app but the static front ends (node-serve-port, node-vite-spa), which nginx serves on any runtime.
DISTROLESS_APPS = [
    "node-dev-require",
    "node-dotenv",
    "node-express",
    "node-nest-start",
    "node-ts",
    "node-ts-node-start",
    "node-tsc-start",
]
RUNTIME = "gcr.io/distroless/nodejs20-debian12"


def _explain(result) -> str:
    lines = [f"{result.status} at {result.stage}: {result.message}", *result.build_log[-15:]]
    lines += [d.describe() for d in result.differences]
    lines += [f"smoke {c.kind}: {c.status}: {c.detail}" for c in result.smoke]
    lines += ["--- rewrite ---", result.dockerfile or "(none)"]
    return "\n".join(lines)


@pytest.mark.parametrize("name", DISTROLESS_APPS)
def test_node_app_on_distroless(name: str, docker_engine):
    app = APPS / name
    spec = json.loads((app / "smoke.json").read_text())
    result = verify_file(
        app / "Dockerfile",
        app,
        Options(runtime="distroless"),
        network=docker_engine.network,
        smoke_env=spec.get("env", {}),
        smoke_cmd=spec.get("cmd"),
        smoke_http=spec.get("http"),
        http_env=spec.get("http_env", {}),
        smoke_user=spec.get("user"),
        timeout=spec.get("timeout", 30),
    )
    assert result.original is not None and result.rewrite is not None, _explain(result)
    runtime_from = [line for line in (result.dockerfile or "").splitlines() if line.startswith("FROM ")][-1]
    assert runtime_from.split()[1].split(":")[0] == RUNTIME, runtime_from

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
    assert any(d.field == "user" and d.intended for d in result.differences), "the rewrite should run as non-root"
    assert result.ratio >= spec["min_ratio"], (
        f"{name}: {result.original.size / 1e6:.1f} MB -> {result.rewrite.size / 1e6:.1f} MB = "
        f"{result.ratio:.1f}x < {spec['min_ratio']}x; largest layer: {result.rewrite.largest_layer}"
    )
    assert result.status == PASSED, _explain(result)
