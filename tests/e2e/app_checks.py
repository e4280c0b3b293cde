"""One fixture app verified on the engine and judged the same way by every e2e test that runs it: the
rewrite builds, its smoke checks pass with the original's output and HTTP answer, no contract item changed
unannounced, it runs as non-root, and it is at least the app's min_ratio smaller."""

from __future__ import annotations

import json
from pathlib import Path

from dockrewrite.plan import Options
from dockrewrite.verify import PASSED, verify_file, without_npm_banner

APPS = Path(__file__).resolve().parents[2] / "fixtures" / "apps"


def explain(result) -> str:
    lines = [f"{result.status} at {result.stage}: {result.message}", *result.build_log[-15:]]
    lines += [d.describe() for d in result.differences]
    lines += [f"smoke {c.kind}: {c.status}: {c.detail}" for c in result.smoke]
    lines += ["--- rewrite ---", result.dockerfile or "(none)"]
    return "\n".join(lines)


def verify_app(name: str, network: str | None, runtime: str | None = None):
    """(smoke spec, VerifyResult) for fixtures/apps/<name>, on the runtime given or the one its spec names."""
    app = APPS / name
    spec = json.loads((app / "smoke.json").read_text())
    result = verify_file(
        app / "Dockerfile",
        app,
        Options(runtime=runtime or spec.get("runtime", "auto")),
        network=network,
        smoke_env=spec.get("env", {}),
        smoke_cmd=spec.get("cmd"),
        smoke_http=spec.get("http"),
        http_env=spec.get("http_env", {}),
        smoke_user=spec.get("user"),
        timeout=spec.get("timeout", 30),
    )
    assert result.original is not None and result.rewrite is not None, explain(result)
    return spec, result


def check_verified(name: str, spec: dict, result) -> None:
    """Every check a verified app must pass (the spec's `runs_as_root` says why an app keeps root)."""
    assert result.smoke, "no smoke check ran"
    for check in result.smoke:
        assert check.status == PASSED, explain(result)
    if "expect_stdout" in spec:
        run = next(c for c in result.smoke if c.kind == "run")
        assert run.original.exit_code == run.rewrite.exit_code == 0, explain(result)
        assert run.rewrite.stdout in (run.original.stdout, without_npm_banner(run.original.stdout))
        assert spec["expect_stdout"] in run.rewrite.stdout, run.rewrite.stdout
    if spec.get("http"):
        http = next(c for c in result.smoke if c.kind == "http")
        assert http.rewrite.http_status == http.original.http_status == 200
        assert http.rewrite.http_body == http.original.http_body

    assert result.unintended == [], explain(result)
    if "runs_as_root" not in spec:  # nginx starts as root, its workers drop it
        assert any(d.field == "user" and d.intended for d in result.differences), "the rewrite should run as non-root"
    assert result.ratio >= spec["min_ratio"], (
        f"{name}: {result.original.size / 1e6:.1f} MB -> {result.rewrite.size / 1e6:.1f} MB = "
        f"{result.ratio:.1f}x < {spec['min_ratio']}x; largest layer: {result.rewrite.largest_layer}"
    )
    assert result.status == PASSED, explain(result)
