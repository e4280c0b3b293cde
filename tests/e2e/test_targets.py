"""--targets develop,test on a real engine: the test stage runs the project's tests at build time
(and fails the build when a test fails), the develop stage builds, production stays the default."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from dockrewrite import source
from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED
from dockrewrite.transform import convert_text

pytestmark = pytest.mark.e2e
APPS = Path(__file__).resolve().parents[2] / "fixtures" / "apps"
BROKEN = {
    "go-http": ("main_test.go", '\nfunc TestBroken(t *testing.T) { t.Fatal("deliberately broken") }\n'),
    "py-flask": ("tests/test_app.py", "\n\ndef test_broken():\n    assert False, 'deliberately broken'\n"),
}


def _rewrite(app: Path, dest: Path) -> Path:
    text, fmt = source.read(app / "Dockerfile")
    result = convert_text(text, BuildContext(app), Options(targets=("develop", "test")))
    assert result.status == CHANGED, result.reason
    assert "AS test" in result.output and "AS develop" in result.output
    dockerfile = dest / "Dockerfile.rewrite"
    dockerfile.write_bytes(source.encode(result.output, fmt))
    return dockerfile


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_test_target_runs_the_tests(name: str, docker_engine, tmp_path: Path):
    ctx = tmp_path / "ctx"
    shutil.copytree(APPS / name, ctx)
    dockerfile = _rewrite(ctx, tmp_path)
    tags = [f"dockrewrite-e2e-targets/{name}:{t}-{uuid.uuid4().hex[:8]}" for t in ("test", "develop", "broken")]
    try:
        ok, lines, _ = docker_engine.build(dockerfile, ctx, tags[0], 900, extra=["--target", "test"])
        assert ok, "\n".join(lines[-30:])
        ok, lines, _ = docker_engine.build(dockerfile, ctx, tags[1], 900, extra=["--target", "develop"])
        assert ok, "\n".join(lines[-30:])

        rel, broken = BROKEN[name]
        with (ctx / rel).open("a") as handle:
            handle.write(broken)
        ok, lines, _ = docker_engine.build(dockerfile, ctx, tags[2], 900, extra=["--target", "test"])
        assert not ok, "a failing test must fail `docker build --target test`"
        assert "deliberately broken" in "\n".join(lines)
    finally:
        subprocess.run([docker_engine.binary, "image", "rm", "-f", *tags], capture_output=True, timeout=120)
