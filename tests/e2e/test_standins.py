"""The stand-in recipe itself: a second ensure.sh after the first must not wait on the first one's lock.

A dockerd started by ensure.sh once inherited the lock's file descriptor and held the lock for as
long as the engine ran, so every later ensure.sh (the e2e fixture's, after .ci/run's) waited an hour.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ENSURE = Path(__file__).resolve().parent / "images" / "ensure.sh"


def _lock_path() -> Path:
    return Path(os.environ.get("STANDINS_CACHE", "/var/cache/dockrewrite-standins")) / "ensure.lock"


def _holders(lock: Path) -> list[str]:
    """Processes with the lock file open, as 'pid command'."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
            if any(os.readlink(fd) == str(lock) for fd in fds):
                found.append(f"{proc.name} {(proc / 'comm').read_text().strip()}")
        except OSError:
            continue  # the process ended, or its fds are not ours to read
    return found


def test_no_process_keeps_the_build_lock(docker_engine):
    lock = _lock_path()
    if not lock.exists() or not Path("/proc/self/fd").is_dir():
        pytest.skip(f"no lock file at {lock} or no /proc to inspect (ensure.sh used another cache)")
    assert _holders(lock) == []


def test_ensure_runs_again_without_waiting(docker_engine):
    proc = subprocess.run(["bash", str(ENSURE)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "building" not in proc.stderr  # the images are current, nothing is rebuilt


def test_nginx_renders_templates_like_the_official_image(docker_engine):
    """The nginx stand-in's entrypoint renders /etc/nginx/templates/*.template into conf.d with envsubst of the
    variables that are set (nginx's own $uri stays), as the official image does for an nginx command; the
    static-site rewrite relies on it for `listen ${PORT}`."""
    script = (
        "mkdir -p /etc/nginx/templates"
        " && printf 'server { listen ${PORT}; location / { try_files $uri /index.html; } }\\n'"
        " > /etc/nginx/templates/site.conf.template"
        " && /docker-entrypoint.sh nginx -t && cat /etc/nginx/conf.d/site.conf"
    )
    proc = subprocess.run(
        [docker_engine.binary, "run", "--rm", "-e", "PORT=8123", "--entrypoint", "sh", "nginx:alpine", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "listen 8123;" in proc.stdout and "try_files $uri /index.html;" in proc.stdout
