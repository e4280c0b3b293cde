"""Builder-pattern migration on a real engine: the seed's two-step build.sh against the merged Dockerfile.

fixtures/builder-pattern/href-counter-stdlib is the seed's href-counter (Dockerfile.build + Dockerfile +
build.sh) with the standard library only (no module proxy here). The test runs build.sh itself, with a
`docker` shim first on PATH that only adds what builds need on this engine (BuildKit, --network=host), then
builds the merged Dockerfile in the same context after build.sh has removed ./app, and compares the two
runtime images: output, configuration, the binary itself, size. Every image and container is removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from dockrewrite import builder as bp
from dockrewrite.discover import discover
from dockrewrite.results import CHANGED
from dockrewrite.verify import inspect_image

pytestmark = pytest.mark.e2e

CASE = Path(__file__).resolve().parents[2] / "fixtures" / "builder-pattern" / "href-counter-stdlib"
PAGE = (
    "<html><body>\n"
    '<a href="/about">About</a> <a class="x" href="/blog/">Blog</a>\n'
    "<a href='https://github.com/alexellis'>GitHub</a> <A HREF=\"https://example.com/\">elsewhere</A>\n"
    '<a href="https://example.com/docs">Docs</a>\n'
    "</body></html>\n"
)
BINARY = "/root/app"


def _shim(folder: Path, docker) -> dict[str, str]:
    """A `docker` first on PATH: `docker build` gets BuildKit and the engine's network, the rest passes through."""
    build = f'"{docker.binary}" buildx build --load' if docker.buildx else f'DOCKER_BUILDKIT=1 "{docker.binary}" build'
    network = f" --network={docker.network}" if docker.network else ""
    shim = folder / "docker"
    shim.write_text(
        f'#!/bin/sh\nif [ "$1" = build ]; then shift; exec env {build}{network} "$@"; fi\nexec "{docker.binary}" "$@"\n'
    )
    shim.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}


def _run(docker, *args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [docker.binary, *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_merged_dockerfile_builds_the_same_image_as_build_sh(docker_engine, tmp_path: Path):
    repo = tmp_path / "repo"
    shutil.copytree(CASE, repo, ignore=shutil.ignore_patterns("expected"))
    name = f"dockrewrite-e2e-bp-{uuid.uuid4().hex[:10]}"
    original, merged_tag = f"{name}:latest", f"{name}:merged"
    (tmp_path / "bin").mkdir()
    env = {**os.environ, **_shim(tmp_path / "bin", docker_engine), "IMAGE": name, "CONTAINER": f"{name}-extract"}
    try:
        # 1. the old way, exactly as the repo's script does it
        script = subprocess.run(
            ["sh", "build.sh"], cwd=repo, env=env, capture_output=True, text=True, timeout=1800, check=False
        )
        assert script.returncode == 0, script.stdout[-3000:] + script.stderr[-3000:]
        assert not (repo / "app").exists(), "build.sh removes the binary it copied out"

        # 2. the pair and its merged Dockerfile, built in the same context (which now holds no ./app)
        files = [p for p in discover([repo])[0]]
        (pair,) = bp.find_pairs(files, root=repo)
        assert pair.container_path == "/go/src/github.com/alexellis/href-counter/app"
        result = bp.merge(pair)
        assert result.status == CHANGED, result.reason
        assert result.output == (CASE / "expected" / "Dockerfile").read_text()
        dockerfile = tmp_path / "Dockerfile.merged"
        dockerfile.write_text(result.output)
        ok, lines, _ = docker_engine.build(dockerfile, pair.runtime_context, merged_tag, 1800, extra=["--no-cache"])
        assert ok, "\n".join(lines[-30:])

        # 3. same behaviour
        runs = {tag: _run(docker_engine, "run", "--rm", "-i", tag, stdin=PAGE) for tag in (original, merged_tag)}
        for tag, run in runs.items():
            assert run.returncode == 0, f"{tag}: {run.stderr}"
        assert runs[original].stdout == runs[merged_tag].stdout == '{"internal":2,"external":3}\n'

        # 4. same image: configuration, the binary byte for byte, no toolchain, about the same size
        facts = {tag: inspect_image(docker_engine, tag) for tag in (original, merged_tag)}
        a, b = facts[original], facts[merged_tag]
        assert (a.command, a.working_dir, a.env, a.user, a.exposed_ports) == (
            b.command,
            b.working_dir,
            b.env,
            b.user,
            b.exposed_ports,
        )
        assert a.command == ["./app"] and a.working_dir == "/root/"
        sums = {tag: _run(docker_engine, "run", "--rm", "--entrypoint", "sha256sum", tag, BINARY) for tag in facts}
        assert sums[original].returncode == 0, sums[original].stderr
        assert sums[original].stdout.split()[0] == sums[merged_tag].stdout.split()[0], "Go builds are reproducible"
        no_go = _run(
            docker_engine, "run", "--rm", "--entrypoint", "sh", merged_tag, "-c", "command -v go || ls /usr/local/go"
        )
        assert no_go.returncode != 0, "the runtime image must not carry the Go toolchain"
        assert abs(a.size - b.size) <= 0.05 * a.size, (a.size, b.size)
        assert b.size < 50_000_000
    finally:
        _run(docker_engine, "rm", "-f", f"{name}-extract")
        _run(docker_engine, "rmi", "-f", f"{name}:build", original, merged_tag)
