"""End-to-end tier: builds and runs real images. Skips only when no Docker engine answers.

Before the first test, tests/e2e/images/ensure.sh starts dockerd if it can and brings the local
stand-in base images up to date (seconds when they are current). DOCKREWRITE_E2E_ENSURE=0 skips that
step (for an engine whose images are managed elsewhere).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENSURE = Path(__file__).resolve().parent / "images" / "ensure.sh"
APPS = ROOT / "fixtures" / "apps"


def _engine_answers() -> tuple[bool, str]:
    from dockrewrite.verify.engine import EngineError, find_docker

    try:
        docker = find_docker(network="host")
    except EngineError as exc:
        return False, str(exc)
    proc = subprocess.run([docker.binary, "info"], capture_output=True, text=True, timeout=60)
    return proc.returncode == 0, proc.stderr.strip().splitlines()[-1] if proc.returncode else ""


def _ensure() -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ENSURE)], capture_output=True, text=True, timeout=2400)


@pytest.fixture(scope="session")
def docker_engine():
    """The verify.Docker client to use; skips the test when no engine answers, fails when stand-ins cannot be built."""
    from dockrewrite.verify.engine import find_docker

    want_ensure = os.environ.get("DOCKREWRITE_E2E_ENSURE", "1") != "0"
    ok, why = _engine_answers()
    ensured = None
    if not ok and want_ensure:
        ensured = _ensure()  # may start dockerd
        ok, why = _engine_answers()
    if not ok:
        detail = f"; ensure.sh: {ensured.stderr.strip()[-300:]}" if ensured is not None else ""
        if os.environ.get("CI"):
            # .ci/run starts the engine first; there a missing engine is a failure, not a skip.
            pytest.fail(f"no Docker engine answers in CI ({why}){detail}")
        pytest.skip(f"no Docker engine answers ({why}){detail}")
    if want_ensure and ensured is None:
        ensured = _ensure()
    if ensured is not None and ensured.returncode != 0:
        pytest.fail(
            f"stand-in images could not be built (ensure.sh exit {ensured.returncode}):\n{ensured.stderr[-3000:]}"
        )
    return find_docker(network="host")
