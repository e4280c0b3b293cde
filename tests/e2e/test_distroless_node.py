"""Node apps rewritten with `--runtime distroless`: built on the engine, they keep the original's contract.

The rewrite runs on gcr.io/distroless/nodejs20-debian12 (node as the entrypoint, no shell, no npm), so the
start script must have become a plain node command. Each app gets the smoke comparison test_apps.py
gives it on the default runtime: exit code, output, HTTP answer and file-system side effects
(verify_file judges them), size ratio and a non-root user.
"""

from __future__ import annotations

import pytest
from app_checks import check_verified, verify_app

pytestmark = pytest.mark.e2e

# Every Node app but the static front ends (node-serve-port, node-vite-spa), which nginx serves on any runtime.
DISTROLESS_APPS = [
    "node-dev-require",
    "node-dotenv",
    "node-express",
    "node-libpq",
    "node-nest-start",
    "node-ts",
    "node-ts-node-start",
    "node-tsc-start",
]
RUNTIME = "gcr.io/distroless/nodejs20-debian12"


@pytest.mark.parametrize("name", DISTROLESS_APPS)
def test_node_app_on_distroless(name: str, docker_engine):
    spec, result = verify_app(name, docker_engine.network, runtime="distroless")
    runtime_from = [line for line in (result.dockerfile or "").splitlines() if line.startswith("FROM ")][-1]
    assert runtime_from.split()[1].split(":")[0] == RUNTIME, runtime_from
    check_verified(name, spec, result)
