"""The docker CLI: find a client that builds with BuildKit, build, inspect images, read and remove containers.

Everything goes through the docker CLI (no SDK): `docker buildx build --load` when the buildx plugin
answers, else `DOCKER_BUILDKIT=1 docker build` on a client that still has the built-in BuildKit
(Docker < 23). DOCKER_HOST, DOCKER_CONTEXT and the rest of the environment are passed through.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dockrewrite.verify.compare import ImageFacts

_PULL_ERROR = re.compile(
    r"pull access denied|failed to resolve source metadata|failed to load metadata|manifest unknown|"
    r"not found: manifest|repository does not exist|no such host|failed to do request|TLS handshake timeout|"
    r"failed to authorize|unexpected status code \[manifests|server misbehaving|i/o timeout|"
    r"network is unreachable|dial tcp",
    re.IGNORECASE,
)
_FROM = re.compile(r"^\s*FROM\s+((?:--\S+\s+)*)(\S+)", re.IGNORECASE | re.MULTILINE)


class EngineError(Exception):
    """No usable docker client or no engine answering: nothing can be verified."""


@dataclass
class Docker:
    binary: str
    buildx: bool
    builder: str | None = None
    network: str | None = None
    version: str = ""

    def cmd(self, args: Sequence[str], timeout: float = 60, check: bool = False) -> subprocess.CompletedProcess:
        try:
            proc = subprocess.run(
                [self.binary, *args],
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise EngineError(f"`docker {' '.join(args[:2])}` did not answer within {timeout:.0f}s") from exc
        if check and proc.returncode != 0:
            raise EngineError(last_line(proc.stderr) or f"docker {' '.join(args[:2])} failed")
        return proc

    def build(
        self,
        dockerfile: Path,
        context: Path,
        tag: str,
        timeout: float,
        on_step: Callable[[str], None] | None = None,
        extra: Sequence[str] = (),
    ) -> tuple[bool, list[str], float]:
        """Run one build; returns (ok, output lines, seconds). Kills the build at the timeout."""
        args = [self.binary]
        env = dict(os.environ)
        if self.buildx:
            args += ["buildx", "build", "--load"]
            if self.builder:
                args += ["--builder", self.builder]
        else:
            args += ["build"]
            env["DOCKER_BUILDKIT"] = "1"
        args += ["--progress=plain", "-f", str(dockerfile), "-t", tag]
        if self.network:
            args += ["--network", self.network]
        args += [*extra, str(context)]
        start = time.monotonic()
        proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            env=env,
            start_new_session=True,
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, 9)

        timer = threading.Timer(timeout, kill)
        timer.start()
        lines: list[str] = []
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip("\n")
                lines.append(line)
                if len(lines) > 4000:
                    del lines[:1000]
                m = re.match(r"#\d+ (\[[^\]]*\] .*)", line)
                if m and on_step:
                    on_step(m.group(1)[:100])
            proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                kill()
                proc.wait()
        seconds = time.monotonic() - start
        if killed.is_set():
            lines.append(f"ERROR: the build did not finish within {timeout:.0f}s and was stopped")
            return False, lines, seconds
        return proc.returncode == 0, lines, seconds


def _client_major(binary: str) -> int | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=15).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"version (\d+)\.", out)
    return int(m.group(1)) if m else None


def _has_buildx(binary: str) -> bool:
    try:
        return subprocess.run([binary, "buildx", "version"], capture_output=True, timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _candidates() -> list[str]:
    explicit = os.environ.get("DOCKREWRITE_DOCKER")
    if explicit:
        return [explicit]
    found: list[str] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/bin"]:
        path = os.path.join(folder or ".", "docker")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            real = os.path.realpath(path)
            if real not in {os.path.realpath(f) for f in found}:
                found.append(path)
    return found


_DOCKER_CACHE: dict[tuple, Docker] = {}
_DOCKER_LOCK = threading.Lock()


def find_docker(builder: str | None = None, network: str | None = None) -> Docker:
    """A docker client that can build with BuildKit, with an engine that answers; else EngineError."""
    key = (builder, network, os.environ.get("DOCKER_HOST"), os.environ.get("DOCKREWRITE_DOCKER"))
    with _DOCKER_LOCK:
        if key in _DOCKER_CACHE:
            return _DOCKER_CACHE[key]
        candidates = _candidates()
        if not candidates:
            raise EngineError("no docker client found on PATH (set DOCKREWRITE_DOCKER to its path)")
        chosen: Docker | None = None
        for binary in candidates:
            if _has_buildx(binary):
                chosen = Docker(binary, buildx=True, builder=builder, network=network)
                break
        if chosen is None:
            if builder:
                raise EngineError(f"--builder {builder} needs the docker buildx plugin, and no docker client has it")
            for binary in candidates:
                major = _client_major(binary)
                if major is not None and major < 23:
                    chosen = Docker(binary, buildx=False, network=network)
                    break
        if chosen is None:
            raise EngineError(
                f"{candidates[0]} cannot build with BuildKit: it has no buildx plugin (install docker-buildx) "
                "and is too new for DOCKER_BUILDKIT=1 without it"
            )
        proc = chosen.cmd(["version", "--format", "{{.Server.Version}}"], timeout=30)
        if proc.returncode != 0 or not proc.stdout.strip():
            where = os.environ.get("DOCKER_HOST") or "the default socket"
            raise EngineError(f"no Docker engine answers at {where}: {last_line(proc.stderr) or 'no answer'}")
        chosen.version = proc.stdout.strip()
        if chosen.buildx and builder:
            proc = chosen.cmd(["buildx", "inspect", builder], timeout=60)
            if proc.returncode != 0:
                raise EngineError(f"buildx builder {builder!r}: {last_line(proc.stderr)}")
        _DOCKER_CACHE[key] = chosen
        return chosen


def inspect_image(docker: Docker, ref: str, history: bool = True) -> ImageFacts | None:
    proc = docker.cmd(["image", "inspect", ref], timeout=60)
    if proc.returncode != 0:
        return None
    data = json.loads(proc.stdout)[0]
    cfg = data.get("Config") or {}
    env = {}
    for item in cfg.get("Env") or []:
        key, _, value = item.partition("=")
        env[key] = value
    facts = ImageFacts(
        image_id=data.get("Id", ""),
        size=int(data.get("Size") or 0),
        layers=len((data.get("RootFS") or {}).get("Layers") or []),
        command=list(cfg.get("Entrypoint") or []) + list(cfg.get("Cmd") or []),
        env=env,
        exposed_ports=sorted((cfg.get("ExposedPorts") or {}).keys()),
        working_dir=cfg.get("WorkingDir") or "",
        user=cfg.get("User") or "",
        labels=dict(cfg.get("Labels") or {}),
        healthcheck=cfg.get("Healthcheck") or None,
        stop_signal=cfg.get("StopSignal") or "",
        volumes=sorted((cfg.get("Volumes") or {}).keys()),
    )
    if history:
        proc = docker.cmd(["image", "history", "--no-trunc", "--human=false", "--format", "{{json .}}", ref], 60)
        best = (-1, "")
        for line in proc.stdout.splitlines():
            try:
                row = json.loads(line)
                size = int(row.get("Size") or 0)
            except ValueError:
                continue
            if size > best[0]:
                created = " ".join((row.get("CreatedBy") or "").split())
                best = (size, created or f"a base image layer ({row.get('Comment') or 'no build step recorded'})")
        facts.largest_layer_size, facts.largest_layer = max(best[0], 0), best[1]
    return facts


_BASE_CACHE: dict[tuple[str, str], ImageFacts | None] = {}


def base_facts(docker: Docker, image: str | None) -> ImageFacts | None:
    if not image or image == "scratch" or "$" in image:
        return None
    key = (docker.binary, image)
    if key not in _BASE_CACHE:
        _BASE_CACHE[key] = inspect_image(docker, image, history=False)
    return _BASE_CACHE[key]


def from_images(text: str) -> list[str]:
    """Images named by FROM lines, stage names excluded."""
    images: list[str] = []
    stages: set[str] = set()
    for m in _FROM.finditer(text):
        image = m.group(2)
        rest = text[m.end() :].split("\n", 1)[0].split()
        if image.lower() not in stages:
            images.append(image)
        if len(rest) >= 2 and rest[0].lower() == "as":
            stages.add(rest[1].lower())
    return images


def last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def build_error(lines: list[str]) -> str:
    """The one line that says why a BuildKit build failed."""
    for line in reversed(lines):
        m = re.search(r"(?:^|\s)(?:ERROR|error):?\s*(.*)", line)
        if m and m.group(1).strip():
            return m.group(1).strip()
    return last_line("\n".join(lines)) or "the build failed"


def pull_failure(lines: list[str], images: Sequence[str]) -> str | None:
    """The base image a failed build could not pull, when that is why it failed."""
    text = "\n".join(lines[-60:])
    if not _PULL_ERROR.search(text) or re.search(
        r"\[\d+/\d+\] RUN |process \".*\" did not complete|executor failed running", text
    ):
        return None
    for image in images:
        name = image.split("@", 1)[0]
        if name in text or name.split("/")[-1] in text:
            return image
    return images[0] if images else "a base image"


def log_tail(lines: list[str], n: int = 25) -> list[str]:
    return [line for line in lines if not re.match(r"#\d+ (sha256:|extracting|transferring)", line)][-n:]


def container_changes(docker: Docker, name: str) -> list[str] | None:
    """`docker diff` of a container, before it is removed ("A /app/data.db"); None when it cannot be read."""
    try:
        proc = docker.cmd(["diff", name], 30)
    except (EngineError, OSError):
        return None
    return proc.stdout.splitlines()[:5000] if proc.returncode == 0 else None


def remove_container(docker: Docker, name: str) -> None:
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run([docker.binary, "rm", "-f", name], capture_output=True, timeout=60)
