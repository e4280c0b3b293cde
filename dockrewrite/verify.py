"""verify: build the original and the rewrite with a real Docker engine and compare them.

Everything goes through the docker CLI (no SDK): `docker buildx build --load` when the buildx plugin
answers, else `DOCKER_BUILDKIT=1 docker build` on a client that still has the built-in BuildKit
(Docker < 23). DOCKER_HOST, DOCKER_CONTEXT and the rest of the environment are passed through.
Nothing is written next to the user's files: both Dockerfiles go to a temporary folder outside the
build context and are given with `-f`. Every image and container this module creates is removed
again (images only unless `keep_images`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
SAME_EFFECTS, EFFECTS_DIFFER, CHANGED_EFFECTS = "same", "differ", "CHANGED"

# Environment variables that only steer `go build`; they say nothing about how the image runs.
GO_BUILD_ONLY_ENV = frozenset(
    {
        "CGO_ENABLED", "GOOS", "GOARCH", "GOARM", "GOAMD64", "GO386", "GOFLAGS", "GO111MODULE", "GOPROXY",
        "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GONOSUMCHECK", "GOSUMDB", "GOINSECURE", "GOCACHE",
        "GOMODCACHE", "GOBIN", "GOROOT", "GOTOOLCHAIN", "GOEXPERIMENT", "CGO_CFLAGS", "CGO_LDFLAGS",
        "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CC", "CXX",
    }
)  # fmt: skip
# What the golang images set; used when the builder base image cannot be inspected locally.
GOLANG_BASE_ENV = frozenset({"GOLANG_VERSION", "GOPATH", "GOTOOLCHAIN"})
GO_TOOLCHAIN_DIRS = ("/go/bin", "/usr/local/go/bin")
# Env a rewrite may add for a runtime that lacks something the builder image had.
REWRITE_ENV = {"ZONEINFO": "time zone data copied from the Go toolchain (the runtime has no tzdata)"}

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


# --------------------------------------------------------------------------------------------
# result values


@dataclass
class ImageFacts:
    image_id: str
    size: int
    layers: int
    command: list[str]
    env: dict[str, str]
    exposed_ports: list[str]
    working_dir: str
    user: str
    labels: dict[str, str]
    healthcheck: dict | None
    stop_signal: str
    volumes: list[str]
    largest_layer: str = ""
    largest_layer_size: int = 0


@dataclass
class Difference:
    field: str
    original: object
    rewrite: object
    intended: bool
    reason: str = ""

    def describe(self) -> str:
        mark = "intended" if self.intended else "CHANGED"
        why = f" ({self.reason})" if self.reason else ""
        return f"{mark}: {self.field}: {_short(self.original)} -> {_short(self.rewrite)}{why}"


@dataclass
class SmokeRun:
    kind: str  # "run" or "http"
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    http_status: int | None = None
    http_body: str = ""
    seconds: float = 0.0
    error: str = ""
    changes: list[str] | None = None  # `docker diff` of the container after the run ("A /app/x.db"); None: not read


@dataclass
class SideEffects:
    """What the two smoke containers did to their file systems (`docker diff`), compared.

    Paths are leaves (a folder is left out when something below it changed), without noise (scratch
    space, bytecode, package-manager caches), the image's working directory written `<workdir>` and a
    home folder `~`, so the original's /root/x and the rewrite's /home/node/x are the same path.
    """

    verdict: str  # SAME_EFFECTS, EFFECTS_DIFFER (not explained by the log) or CHANGED_EFFECTS
    original: list[str]  # "A <workdir>/data.db"
    rewrite: list[str]
    missing: list[str] = field(default_factory=list)  # what the original did and the rewrite did not: "A /app/x.db"
    evidence: str = ""  # the rewrite's log line that says why (permission denied, no such file, read-only …)

    def describe(self) -> str:
        if self.verdict == SAME_EFFECTS:
            n = len(self.original)
            return f"same ({n} path{'s' if n != 1 else ''} written)" if n else "same (nothing written)"
        paths = [line[2:] for line in self.missing]
        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        if self.verdict == CHANGED_EFFECTS:
            return f"CHANGED: the rewrite did not write {shown}: {_short(self.evidence, 120)}"
        return f"differ: the rewrite did not write {shown} (its log shows no write error)"


@dataclass
class SmokeCheck:
    kind: str
    description: str
    original: SmokeRun
    rewrite: SmokeRun
    status: str  # PASSED, FAILED (the rewrite misbehaves) or ERROR (the original does not pass it)
    detail: str = ""
    side_effects: SideEffects | None = None  # None when a container's changes could not be read


@dataclass
class VerifyResult:
    path: str
    context: str
    status: str = PASSED
    stage: str = ""  # where it stopped: engine, convert, original-build, rewrite-build, pull, contract, smoke
    message: str = ""
    runtime: str | None = None
    warnings: list[str] = field(default_factory=list)
    dockerfile: str | None = None  # the rewrite that was built
    original: ImageFacts | None = None
    rewrite: ImageFacts | None = None
    build_seconds: dict[str, float] = field(default_factory=dict)
    build_log: list[str] = field(default_factory=list)  # tail of the failing build's output
    differences: list[Difference] = field(default_factory=list)
    smoke: list[SmokeCheck] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)  # tags, when kept

    @property
    def ok(self) -> bool:
        return self.status == PASSED

    @property
    def ratio(self) -> float | None:
        if self.original and self.rewrite and self.rewrite.size:
            return self.original.size / self.rewrite.size
        return None

    @property
    def unintended(self) -> list[Difference]:
        return [d for d in self.differences if not d.intended]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["ratio"] = round(self.ratio, 2) if self.ratio else None
        return data


# --------------------------------------------------------------------------------------------
# the docker CLI


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
            raise EngineError(_last_line(proc.stderr) or f"docker {' '.join(args[:2])} failed")
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
            raise EngineError(f"no Docker engine answers at {where}: {_last_line(proc.stderr) or 'no answer'}")
        chosen.version = proc.stdout.strip()
        if chosen.buildx and builder:
            proc = chosen.cmd(["buildx", "inspect", builder], timeout=60)
            if proc.returncode != 0:
                raise EngineError(f"buildx builder {builder!r}: {_last_line(proc.stderr)}")
        _DOCKER_CACHE[key] = chosen
        return chosen


# --------------------------------------------------------------------------------------------
# image facts


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


def _base_facts(docker: Docker, image: str | None) -> ImageFacts | None:
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


# --------------------------------------------------------------------------------------------
# contract comparison


def _is_root(user: str) -> bool:
    return user.split(":", 1)[0] in ("", "root", "0")


def _same_program(a: Sequence[str], b: Sequence[str]) -> str | None:
    """Why argv b stands for argv a (a moved binary path), or None."""
    if len(a) != len(b):
        return None
    moved = []
    for x, y in zip(a, b, strict=True):
        if x == y:
            continue
        if "/" in x + y and os.path.basename(x) == os.path.basename(y):
            moved.append(f"{x} -> {y}")
            continue
        return None
    return "binary path moved: " + ", ".join(moved) if moved else ""


_STATIC_SITE = "served by nginx"
# Node start commands the rewrite replaced by node on their output (`nest start`, `ts-node x.ts`, `nodemon x.js`)
_START_RESOLVED = ("compiled TypeScript at every start", "restarts node when files change")


def _script_runner(command: Sequence[str]) -> bool:
    """`npm start`, `yarn run serve`, `pnpm start` (or the same in shell form, `sh -c "yarn start"`): a
    package manager running a package.json script."""
    if len(command) == 3 and posixpath_base(command[0]) in ("sh", "bash") and command[1] == "-c":
        words = command[2].split()
        command = words[1:] if words[:1] == ["exec"] else words
    return (
        len(command) >= 2
        and posixpath_base(command[0]) in ("npm", "yarn", "pnpm")
        and command[1] in ("start", "run", "run-script")
    )


def posixpath_base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


_YARN_BANNER = re.compile(r"^(yarn run v\d|\$ |info Visit https://yarnpkg\.com|Done in \d)")


def without_npm_banner(stdout: str) -> str:
    """Output minus what npm and yarn print around a script they run (`> pkg@1.0.0 start`, `> node
    server.js`; `yarn run v1.22.22`, `$ node server.js`, `info Visit …`, `Done in 0.1s.`)."""
    lines = stdout.splitlines(keepends=True)
    while lines and (lines[0].startswith("> ") or _YARN_BANNER.match(lines[0]) or not lines[0].strip()):
        lines.pop(0)
    while lines and _YARN_BANNER.match(lines[-1]):
        lines.pop()
    return "".join(lines)


def _command_change(orig: list[str], new: list[str], shells: Iterable[list[str]]) -> str | None:
    """Why the rewrite's command is the same program as the original's, or None."""
    why = _same_program(orig, new)
    if why is not None:
        return why or "same"
    for prefix in shells:
        if orig[: len(prefix)] == prefix and len(orig) == len(prefix) + 1:
            try:
                words = shlex.split(orig[-1])
            except ValueError:
                return None
            if words and words[0] == "exec":
                words = words[1:]
            why = _same_program(words, new)
            if why is not None:
                return "shell form became exec form (the runtime has no /bin/sh)" + (f"; {why}" if why else "")
    return None


def compare(
    orig: ImageFacts,
    new: ImageFacts,
    orig_base: ImageFacts | None = None,
    new_base: ImageFacts | None = None,
    warnings: Sequence[str] = (),
    orig_base_name: str = "the builder base image",
    new_base_name: str = "the runtime base image",
) -> list[Difference]:
    """Every runtime-contract difference, each marked intended or not with the reason."""
    diffs: list[Difference] = []
    notes = " ".join(warnings)
    shells = [["/bin/sh", "-c"], ["sh", "-c"], ["/bin/bash", "-c"]]

    if orig.command != new.command:
        why = _command_change(orig.command, new.command, shells)
        if why is None and _script_runner(orig.command) and " ".join(new.command) in notes:
            why = "the package manager's start script, run directly (see the rewrite's notes)"
        built = new.command[:1] and f"({new.command[0]})" in notes
        if why is None and orig.command[:2] == ["go", "run"] and "`go run` at every start" in notes and built:
            why = "the program `go run` compiled at start, built once in the builder (see the rewrite's notes)"
        served = new.command[1:] if new.command[:1] == ["/docker-entrypoint.sh"] else new.command  # the nginx image's
        node_cmd = " ".join([posixpath_base(new.command[0]), *new.command[1:]]) if new.command else ""
        if why is None and any(m in notes for m in _START_RESOLVED) and f"runs `{node_cmd}`" in notes:
            why = "the program compiled or watched at every start, run by node on the builder's output (see the notes)"
        poe = [posixpath_base(w) for w in orig.command[:4]]
        if (
            why is None
            and ("poe" in poe or "poethepoet" in poe)
            and f"as what it runs (`{json.dumps(new.command)}`" in notes
        ):
            why = "the command of the poe task the original ran, run directly (see the rewrite's notes)"
        if why is None and _STATIC_SITE in notes and served[:1] == ["nginx"]:
            why = "static files served by nginx instead of a Node server (see the rewrite's notes)"
        diffs.append(Difference("command", orig.command, new.command, why is not None, why or ""))

    for key in sorted(set(orig.env) | set(new.env)):
        a, b = orig.env.get(key), new.env.get(key)
        if a == b or key in GO_BUILD_ONLY_ENV:
            continue
        why = ""
        if key == "PATH" and a is not None:
            kept = [p for p in a.split(":") if p not in GO_TOOLCHAIN_DIRS]
            toolchain = kept != a.split(":")
            same = (orig_base and orig_base.env.get("PATH") == a) or (b is not None and kept == b.split(":"))
            if toolchain and same:
                why = "PATH of the golang base image; the Go toolchain folders are not in the runtime"
            elif b is not None and new_base and new_base.env.get("PATH") == b and orig_base is None:
                why = ""
            elif b is not None and "PATH" in notes:
                why = "changed by the rewrite (see its notes)"
        elif b is None and a is not None:
            if orig_base is not None and orig_base.env.get(key) == a:
                why = f"set by {orig_base_name}, not by the Dockerfile"
            elif orig_base is None and key in GOLANG_BASE_ENV:
                why = "set by the golang base image, not by the Dockerfile"
        elif a is None and b is not None:
            if new_base is not None and new_base.env.get(key) == b:
                why = f"set by {new_base_name}"
            elif key in REWRITE_ENV or key in notes:
                why = REWRITE_ENV.get(key, "added by the rewrite (see its notes)")
        diffs.append(Difference(f"env {key}", a, b, bool(why), why))

    if orig.exposed_ports != new.exposed_ports:
        extra = set(new.exposed_ports) - set(orig.exposed_ports)
        inherited = (
            set(orig.exposed_ports) <= set(new.exposed_ports)
            and new_base is not None
            and extra <= set(new_base.exposed_ports)
        )
        why = f"{', '.join(sorted(extra))} exposed by {new_base_name} as well" if inherited else ""
        diffs.append(Difference("exposed ports", orig.exposed_ports, new.exposed_ports, inherited, why))

    for name in ("working_dir", "stop_signal", "volumes"):
        a, b = getattr(orig, name), getattr(new, name)
        if a == b:
            continue
        inherited = (
            orig_base is not None
            and getattr(orig_base, name) == a
            and (new_base is None or getattr(new_base, name) == b)
        )
        why = "inherited from the base image; the Dockerfile does not set it" if inherited else ""
        if not why and name == "working_dir" and _STATIC_SITE in notes:
            why = "nginx's document root: the static files are served from there (see the rewrite's notes)"
        diffs.append(Difference(name.replace("_", " "), a, b, bool(why), why))

    if orig.user != new.user:
        why = ""
        if _is_root(orig.user) and not _is_root(new.user):
            why = "runs as a non-root user"
        elif not _is_root(orig.user) and not _is_root(new.user) and "becomes" in notes:
            why = "the runtime image has no user of that name; the same ids are used"
        diffs.append(Difference("user", orig.user or "(root)", new.user or "(root)", bool(why), why))

    for key in sorted(set(orig.labels) | set(new.labels)):
        a, b = orig.labels.get(key), new.labels.get(key)
        if a == b:
            continue
        from_orig_base = a is None or (orig_base is not None and orig_base.labels.get(key) == a)
        from_new_base = b is None or (new_base is not None and new_base.labels.get(key) == b)
        why = ""
        if from_orig_base and from_new_base:
            why = "labels of the base images, not set by the Dockerfile"
        diffs.append(Difference(f"label {key}", a, b, bool(why), why))

    if orig.healthcheck != new.healthcheck:
        a, b = orig.healthcheck or {}, new.healthcheck or {}
        why = ""
        rest_a = {k: v for k, v in a.items() if k != "Test"}
        rest_b = {k: v for k, v in b.items() if k != "Test"}
        ta, tb = list(a.get("Test") or []), list(b.get("Test") or [])
        if rest_a == rest_b and ta[:1] == ["CMD-SHELL"] and tb[:1] == ["CMD"] and len(ta) == 2:
            why = _command_change(["/bin/sh", "-c", ta[1]], tb[1:], shells) or ""
        elif rest_a == rest_b and ta[:1] == tb[:1] == ["CMD"]:
            why = _same_program(ta[1:], tb[1:]) or ""
        diffs.append(Difference("healthcheck", orig.healthcheck, new.healthcheck, bool(why), why))
    return diffs


# --------------------------------------------------------------------------------------------
# side effects: what a smoke container did to its file system

# Changes that say nothing about the app: scratch space, the kernel's and the engine's mounts,
# bytecode, package-manager and tool caches (in a home folder, or at / for a user without one), and
# the toolchain folders of a builder image the runtime does not have.
_NOISE = re.compile(
    r"^/(tmp|var/tmp|run|var/run|dev|proc|sys|var/cache|var/lib/apt|go|usr/local/go)(/|$)"
    r"|/__pycache__(/|$)|\.py[co]$"
    r"|^~?/\.(npm|cache|yarn|yarnrc|node-gyp|node_repl_history|python_history|bash_history|wget-hsts|lesshst"
    r"|config/(configstore|yarn|corepack)|local/share/(pnpm|corepack))(/|$)"
    r"|^/usr/local/share/\.(cache|config)/yarn(/|$)"
)
_HOME = re.compile(r"^(/root|/home/[^/]+|/nonexistent)(?=/|$)")
# What a program prints when a write (or the folder it writes into) is refused or missing.
_WRITE_ERROR = re.compile(
    r"EACCES|EPERM|EROFS|ENOENT|permission denied|operation not permitted|no such file or directory|"
    r"read-only file system|unable to open database file|readonly database",
    re.IGNORECASE,
)
_CHANGE_WORD = {"A": "created", "C": "changed", "D": "deleted"}


def parse_diff(text: str) -> list[tuple[str, str]]:
    """`docker diff` output -> [(kind, path)], kind A (added), C (changed) or D (deleted)."""
    out = []
    for line in text.splitlines():
        if len(line) > 2 and line[0] in "ACD" and line[1] == " ":
            out.append((line[0], line[2:]))
    return out


def _normalise(path: str, workdir: str) -> str:
    """The app's folder as `<workdir>`, a home folder as `~`."""
    workdir = workdir.rstrip("/")
    if workdir and (path == workdir or path.startswith(workdir + "/")):
        return "<workdir>" + path[len(workdir) :]
    return _HOME.sub("~", path, count=1)


def _leaves(changes: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Changes below which nothing else changed (a folder is `C` only because a file in it was written)."""
    parents = set()
    for _, path in changes:
        parent = path.rsplit("/", 1)[0]
        while parent and parent not in parents:
            parents.add(parent)
            parent = parent.rsplit("/", 1)[0]
    return [(kind, path) for kind, path in changes if path not in parents]


def _effects(
    changes: Sequence[tuple[str, str]], workdir: str, volumes: Iterable[str] = ()
) -> list[tuple[str, str, str]]:
    """(kind, normalised path, path) of the changes that say something about the app. A VOLUME's mount
    point is the engine's doing (and what is written inside a volume does not show in docker diff)."""
    mounts = [v.rstrip("/") for v in volumes if v.rstrip("/")]
    out = []
    for kind, path in _leaves(changes):
        if any(path == m or path.startswith(m + "/") for m in mounts):
            continue
        key = _normalise(path, workdir)
        if not _NOISE.search(key):  # the key: an app in /go/src/app or /tmp/app is not noise
            out.append((kind, key, path))
    return out


def _write_errors(log: str, other_log: str) -> list[str]:
    """Lines of log that report a refused or impossible write and are not in other_log too."""
    seen = {line.strip() for line in other_log.splitlines()}
    return [line.strip() for line in log.splitlines() if _WRITE_ERROR.search(line) and line.strip() not in seen]


def compare_side_effects(
    orig_changes: Sequence[tuple[str, str]],
    new_changes: Sequence[tuple[str, str]],
    orig_workdir: str = "",
    new_workdir: str = "",
    orig_log: str = "",
    new_log: str = "",
    volumes: Iterable[str] = (),
) -> SideEffects:
    """What the original's container changed that the rewrite's did not; CHANGED when the rewrite's log
    explains it with a refused or impossible write (and the original's log does not say the same).
    volumes: the VOLUME paths of either image, left out."""
    volumes = list(volumes)
    orig = _effects(orig_changes, orig_workdir, volumes)
    new = _effects(new_changes, new_workdir, volumes)
    # everything the rewrite touched, with the folders above it: a folder the original only created
    # counts as made when the rewrite wrote into it
    touched = set()
    for _, path in new_changes:
        key = _normalise(path, new_workdir)
        while key and key not in touched:
            touched.add(key)
            key = key.rsplit("/", 1)[0]
    missing = [(kind, key, path) for kind, key, path in orig if key not in touched]
    result = SideEffects(
        SAME_EFFECTS,
        [f"{kind} {key}" for kind, key, _ in orig],
        [f"{kind} {key}" for kind, key, _ in new],
        [f"{kind} {path}" for kind, _, path in missing],
    )
    if not missing:
        return result
    errors = _write_errors(new_log, orig_log)
    if not errors:
        result.verdict = EFFECTS_DIFFER
        return result
    names = [path.rsplit("/", 1)[-1] for _, _, path in missing]
    result.verdict = CHANGED_EFFECTS
    result.evidence = next((line for line in errors if any(n and n in line for n in names)), errors[0])
    return result


def side_effect_differences(effects: SideEffects) -> list[Difference]:
    """A CHANGED contract item for each path the rewrite could not write."""
    if effects.verdict != CHANGED_EFFECTS:
        return []
    why = f"the rewrite's log: {effects.evidence}"
    return [
        Difference(f"file {line[2:]}", _CHANGE_WORD[line[0]], "not " + _CHANGE_WORD[line[0]], False, why)
        for line in effects.missing
    ]


# --------------------------------------------------------------------------------------------
# smoke runs


def _env_args(env: Iterable[tuple[str, str]]) -> list[str]:
    out: list[str] = []
    for key, value in env:
        out += ["-e", f"{key}={value}"]
    return out


def _user_args(user: str | None) -> list[str]:
    return ["--user", user] if user else []


def smoke_run(
    docker: Docker,
    image: str,
    cmd: Sequence[str],
    env: Iterable[tuple[str, str]],
    timeout: float,
    user: str | None = None,
):
    """Run the image once (default command unless cmd), bounded by timeout; the container is always removed.
    user runs it as that user (`docker run --user`), as platforms that run containers unprivileged do."""
    name = f"dockrewrite-smoke-{uuid.uuid4().hex[:12]}"
    run = SmokeRun("run")
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [docker.binary, "run", "--name", name, *_user_args(user), *_env_args(env), image, *cmd],
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        run.exit_code = proc.returncode
        run.stdout = proc.stdout.decode("utf-8", "replace")
        run.stderr = proc.stderr.decode("utf-8", "replace")[-2000:]
        if proc.returncode in (125, 126, 127) and "docker:" in run.stderr:
            run.error = _last_line(run.stderr)
    except subprocess.TimeoutExpired as exc:
        run.timed_out = True
        run.stdout = (exc.stdout or b"").decode("utf-8", "replace")
        run.stderr = (exc.stderr or b"").decode("utf-8", "replace")[-2000:]
    finally:
        run.seconds = round(time.monotonic() - start, 2)
        try:
            run.changes = container_changes(docker, name)
        finally:
            _remove_container(docker, name)
    return run


def http_check(
    docker: Docker,
    image: str,
    port: str,
    path: str,
    env: Iterable[tuple[str, str]],
    timeout: float,
    user: str | None = None,
) -> SmokeRun:
    """Start the image detached with PORT published on 127.0.0.1 and poll PATH until it answers or timeout."""
    name = f"dockrewrite-smoke-{uuid.uuid4().hex[:12]}"
    run = SmokeRun("http")
    start = time.monotonic()
    deadline = start + timeout
    try:
        proc = docker.cmd(
            ["run", "-d", "--name", name, "-p", f"127.0.0.1::{port}", *_user_args(user), *_env_args(env), image], 60
        )
        if proc.returncode != 0:
            run.error = f"could not start: {_last_line(proc.stderr)}"
            return run
        url = None
        while time.monotonic() < deadline:
            state = docker.cmd(["inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", name], 30).stdout.split()
            if state and state[0] != "true":
                run.exit_code = int(state[1]) if len(state) > 1 and state[1].lstrip("-").isdigit() else None
                run.error = f"the container exited ({run.exit_code}) before answering"
                break
            if url is None:
                mapped = docker.cmd(["port", name, f"{port}/tcp"], 30).stdout.split()
                if mapped:
                    host_port = mapped[0].rsplit(":", 1)[-1]
                    url = f"http://127.0.0.1:{host_port}{path}"
            if url:
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
                        run.http_status = response.status
                        run.http_body = response.read(4000).decode("utf-8", "replace")
                    break
                except urllib.error.HTTPError as exc:
                    run.http_status = exc.code
                    run.http_body = exc.read(4000).decode("utf-8", "replace")
                    if exc.code < 500:
                        break
                except (OSError, urllib.error.URLError):
                    pass
            time.sleep(0.25)
        else:
            run.timed_out = True
            run.error = f"no HTTP answer on {port}{path} within {timeout:.0f}s"
        # the log shows why it failed, or what it could not write (compared with the side effects)
        logs = docker.cmd(["logs", "--tail", "200", name], 30)
        run.stdout, run.stderr = logs.stdout[-4000:], logs.stderr[-4000:]
    finally:
        run.seconds = round(time.monotonic() - start, 2)
        try:
            run.changes = container_changes(docker, name)
        finally:
            _remove_container(docker, name)
    return run


def _run_both(runner: Callable[[str], SmokeRun], tags: dict[str, str]) -> dict[str, SmokeRun]:
    """The same smoke check on the original and the rewrite at once (halves the waiting)."""
    runs: dict[str, SmokeRun] = {}

    def one(which: str) -> None:
        try:
            runs[which] = runner(tags[which])
        except EngineError as exc:
            runs[which] = SmokeRun("run", error=str(exc))

    threads = [threading.Thread(target=one, args=(w,)) for w in ("original", "rewrite")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return runs


def container_changes(docker: Docker, name: str) -> list[str] | None:
    """`docker diff` of a container, before it is removed ("A /app/data.db"); None when it cannot be read."""
    try:
        proc = docker.cmd(["diff", name], 30)
    except (EngineError, OSError):
        return None
    return proc.stdout.splitlines()[:5000] if proc.returncode == 0 else None


def smoke_side_effects(
    check: SmokeCheck, orig_workdir: str, new_workdir: str, volumes: Iterable[str] = ()
) -> SideEffects | None:
    """The two containers' file-system changes compared; None when the original did not run or a diff is missing."""
    orig, new = check.original, check.rewrite
    if orig.error or orig.changes is None or new.changes is None:
        return None
    return compare_side_effects(
        parse_diff("\n".join(orig.changes)),
        parse_diff("\n".join(new.changes)),
        orig_workdir,
        new_workdir,
        orig.stdout + "\n" + orig.stderr,
        new.stdout + "\n" + new.stderr,
        volumes,
    )


def _remove_container(docker: Docker, name: str) -> None:
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run([docker.binary, "rm", "-f", name], capture_output=True, timeout=60)


def _judge_run(orig: SmokeRun, new: SmokeRun, timeout: float) -> tuple[str, str]:
    if orig.error:
        return ERROR, f"the original does not run: {orig.error}"
    if orig.timed_out and new.timed_out:
        return PASSED, f"both still running after {timeout:.0f}s (a service; add --smoke-http to probe it)"
    if orig.timed_out:
        return FAILED, f"the rewrite exited with {new.exit_code} while the original keeps running: {_tail(new)}"
    if new.timed_out:
        return FAILED, f"the original exits with {orig.exit_code}; the rewrite still runs after {timeout:.0f}s"
    if new.exit_code != orig.exit_code:
        return FAILED, f"exit code {orig.exit_code} -> {new.exit_code}: {_tail(new)}"
    if new.stdout != orig.stdout and without_npm_banner(orig.stdout) != new.stdout:
        return FAILED, f"stdout differs: {_short(orig.stdout)} -> {_short(new.stdout)}"
    note = "" if orig.exit_code == 0 else " (both fail the same way)"
    return PASSED, f"exit {new.exit_code}, same stdout ({len(new.stdout)} chars){note}"


def _judge_http(orig: SmokeRun, new: SmokeRun) -> tuple[str, str]:
    if orig.error or orig.http_status is None or orig.http_status >= 400:
        return ERROR, f"the original does not pass the HTTP check: {orig.error or orig.http_status}"
    if new.error or new.http_status is None:
        return FAILED, f"the rewrite does not answer: {new.error} {_tail(new)}".strip()
    if new.http_status != orig.http_status:
        return FAILED, f"HTTP {orig.http_status} -> {new.http_status}"
    if new.http_body != orig.http_body:
        return FAILED, f"body differs: {_short(orig.http_body)} -> {_short(new.http_body)}"
    return PASSED, f"HTTP {new.http_status} in {new.seconds:.1f}s, same body ({len(new.http_body)} chars)"


def _tail(run: SmokeRun) -> str:
    return _short((run.stderr or run.stdout).strip().splitlines()[-1] if (run.stderr or run.stdout).strip() else "")


def _short(value: object, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def parse_http(spec: str) -> tuple[str, str]:
    """'8080/healthz' -> ('8080', '/healthz'); '8080' -> ('8080', '/')."""
    port, _, path = spec.partition("/")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"--smoke-http wants PORT/PATH with a port from 1 to 65535, got {spec!r}")
    if any(ch.isspace() or ord(ch) < 32 for ch in path):
        raise ValueError(f"--smoke-http: the path must not hold spaces or control characters, got {spec!r}")
    return str(int(port)), "/" + path


# --------------------------------------------------------------------------------------------
# builds


def build_error(lines: list[str]) -> str:
    """The one line that says why a BuildKit build failed."""
    for line in reversed(lines):
        m = re.search(r"(?:^|\s)(?:ERROR|error):?\s*(.*)", line)
        if m and m.group(1).strip():
            return m.group(1).strip()
    return _last_line("\n".join(lines)) or "the build failed"


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


def _log_tail(lines: list[str], n: int = 25) -> list[str]:
    return [line for line in lines if not re.match(r"#\d+ (sha256:|extracting|transferring)", line)][-n:]


# --------------------------------------------------------------------------------------------
# the whole check


def verify_file(
    path: Path | str,
    context: Path | str | None = None,
    options=None,
    *,
    builder: str | None = None,
    network: str | None = None,
    smoke_cmd: str | Sequence[str] | None = None,
    smoke_env: Iterable[tuple[str, str]] | dict[str, str] = (),
    smoke_http: str | None = None,
    http_env: Iterable[tuple[str, str]] | dict[str, str] = (),
    smoke_user: str | None = None,
    timeout: float = 20.0,
    build_timeout: float = 1200.0,
    keep_images: bool = False,
    progress: Callable[[str, str], None] | None = None,
    rewrite: str | None = None,
) -> VerifyResult:
    """Convert path in memory, build original and rewrite, compare their contract, smoke-test both.

    timeout bounds each smoke run and HTTP wait; build_timeout each build. smoke_env applies to the
    command run, http_env to the HTTP check (which starts the image's default command); smoke_user runs both
    checks of both images as that user (`docker run --user`). rewrite: a Dockerfile text to verify as the
    rewrite instead of converting (a hand-made one, or a test of verify itself). Never raises for a problem
    with the file or the engine: the result's status and message say what happened.
    """
    from dockrewrite import source
    from dockrewrite.context import BuildContext
    from dockrewrite.plan import Options
    from dockrewrite.results import CHANGED, Result
    from dockrewrite.results import FAILED as CONVERT_FAILED
    from dockrewrite.transform import convert_text

    path = Path(path)
    ctx_dir = Path(context) if context is not None else path.parent
    options = options or Options()
    smoke_env = list(smoke_env.items()) if isinstance(smoke_env, dict) else list(smoke_env)
    http_env = list(http_env.items()) if isinstance(http_env, dict) else list(http_env)
    result = VerifyResult(path=str(path), context=str(ctx_dir))

    def say(message: str) -> None:
        if progress:
            progress(str(path), message)

    def stop(status: str, stage: str, message: str) -> VerifyResult:
        result.status, result.stage, result.message = status, stage, message
        return result

    # -- convert in memory ---------------------------------------------------------------------
    try:
        data = path.read_bytes()
        text, fmt = source.decode(data)
    except (OSError, source.SourceError) as exc:
        return stop(ERROR, "convert", f"cannot read: {getattr(exc, 'strerror', None) or exc}")
    if not ctx_dir.is_dir():
        return stop(ERROR, "convert", f"build context {ctx_dir} is not a directory")
    try:
        if rewrite is not None:
            converted = Result(str(path), CHANGED, reason="a given rewrite", output=rewrite)
        else:
            converted = convert_text(text, BuildContext(ctx_dir), options, str(path))
    except Exception as exc:  # a converter bug is a failed rewrite, not a traceback
        return stop(FAILED, "convert", f"conversion crashed: {type(exc).__name__}: {exc}")
    result.runtime, result.warnings = converted.runtime, list(converted.warnings)
    if converted.status == CONVERT_FAILED:
        return stop(FAILED, "convert", f"conversion failed: {converted.reason}")
    if converted.status != CHANGED or converted.output is None:
        return stop(SKIPPED, "convert", f"nothing to verify: {converted.status}: {converted.reason}")
    result.dockerfile = converted.output

    # -- engine --------------------------------------------------------------------------------
    try:
        docker = find_docker(builder, network)
    except EngineError as exc:
        return stop(ERROR, "engine", str(exc))

    tmp = Path(tempfile.mkdtemp(prefix="dockrewrite-verify-"))
    if tmp.resolve().is_relative_to(ctx_dir.resolve()):
        shutil.rmtree(tmp, ignore_errors=True)
        return stop(ERROR, "convert", f"the temporary folder {tmp} would be inside the build context")
    slug = re.sub(r"[^a-z0-9]+", "-", str(path.resolve().parent.name + "-" + path.name).lower()).strip("-")[:40]
    run_id = uuid.uuid4().hex[:10]
    tags = {
        "original": f"dockrewrite-verify/{slug or 'image'}:original-{run_id}",
        "rewrite": f"dockrewrite-verify/{slug or 'image'}:rewrite-{run_id}",
    }
    built: list[str] = []
    try:
        files = {"original": tmp / "original.Dockerfile", "rewrite": tmp / "rewrite.Dockerfile"}
        files["original"].write_bytes(data)
        try:
            files["rewrite"].write_bytes(source.encode(converted.output, fmt))
        except source.SourceError:
            files["rewrite"].write_text(converted.output, encoding="utf-8")
        ignore = path.with_name(path.name + ".dockerignore")
        if ignore.is_file():
            for which in files.values():
                shutil.copyfile(ignore, which.with_name(which.name + ".dockerignore"))

        for which, dockerfile in files.items():
            say(f"building the {which}")
            ok, lines, seconds = docker.build(
                dockerfile, ctx_dir, tags[which], build_timeout, lambda step, w=which: say(f"{w}: {step}")
            )
            result.build_seconds[which] = round(seconds, 1)
            if not ok:
                result.build_log = _log_tail(lines)
                text_of = data.decode("utf-8", "replace") if which == "original" else converted.output
                image = pull_failure(lines, from_images(text_of))
                if image:
                    return stop(ERROR, "pull", f"base image {image} cannot be pulled: {build_error(lines)}")
                if which == "original":
                    return stop(ERROR, "original-build", f"original does not build: {build_error(lines)}")
                return stop(FAILED, "rewrite-build", f"the rewrite does not build: {build_error(lines)}")
            built.append(tags[which])

        say("inspecting")
        result.original = inspect_image(docker, tags["original"])
        result.rewrite = inspect_image(docker, tags["rewrite"])
        if result.original is None or result.rewrite is None:
            return stop(ERROR, "engine", "the built images cannot be inspected (was --load honoured by the builder?)")
        orig_from = from_images(data.decode("utf-8", "replace"))
        new_from = from_images(converted.output)
        orig_base_name = orig_from[0] if orig_from else None
        new_base_name = new_from[-1] if new_from else None
        result.differences = compare(
            result.original,
            result.rewrite,
            _base_facts(docker, orig_base_name),
            _base_facts(docker, new_base_name),
            result.warnings,
            orig_base_name or "the builder base image",
            new_base_name or "the runtime base image",
        )

        # -- smoke ---------------------------------------------------------------------------
        cmd = shlex.split(smoke_cmd) if isinstance(smoke_cmd, str) else list(smoke_cmd or [])
        checks: list[tuple[str, str, Callable[[str], SmokeRun]]] = []
        if cmd or smoke_env or not smoke_http:
            shown = " ".join(f"{k}={v}" for k, v in smoke_env)
            shown = (shown + " " if shown else "") + (shlex.join(cmd) if cmd else "default command")
            checks.append(("run", shown, lambda image: smoke_run(docker, image, cmd, smoke_env, timeout, smoke_user)))
        if smoke_http:
            port, url_path = parse_http(smoke_http)
            checks.append(
                (
                    "http",
                    f"GET :{port}{url_path}",
                    lambda image: http_check(docker, image, port, url_path, http_env, timeout, smoke_user),
                )
            )
        for kind, shown, runner in checks:
            say(f"smoke {kind}: {shown}")
            runs = _run_both(runner, tags)
            status, detail = (
                _judge_run(runs["original"], runs["rewrite"], timeout)
                if kind == "run"
                else (_judge_http(runs["original"], runs["rewrite"]))
            )
            check = SmokeCheck(kind, shown, runs["original"], runs["rewrite"], status, detail)
            check.side_effects = smoke_side_effects(
                check,
                result.original.working_dir,
                result.rewrite.working_dir,
                {*result.original.volumes, *result.rewrite.volumes},
            )
            result.smoke.append(check)
            if check.side_effects:
                known = {d.field for d in result.differences}
                result.differences += [d for d in side_effect_differences(check.side_effects) if d.field not in known]

        # -- verdict -------------------------------------------------------------------------
        errors = [c for c in result.smoke if c.status == ERROR]
        failures = [c for c in result.smoke if c.status == FAILED]
        if errors:
            return stop(ERROR, "smoke", "; ".join(c.detail for c in errors))
        if result.unintended:
            return stop(FAILED, "contract", "contract changed: " + "; ".join(d.describe() for d in result.unintended))
        if failures:
            return stop(FAILED, "smoke", "; ".join(f"{c.kind}: {c.detail}" for c in failures))
        ratio = result.ratio
        return stop(PASSED, "", f"{ratio:.1f}x smaller" if ratio else "passed")
    except EngineError as exc:
        return stop(ERROR, "engine", str(exc))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if keep_images:
            result.images = {k: v for k, v in tags.items() if v in built}
        elif built:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                subprocess.run([docker.binary, "image", "rm", *built], capture_output=True, timeout=120)


def exit_code(results: Sequence[VerifyResult]) -> int:
    """0 all passed; 2 when the engine or an original is the problem; else 1 (a rewrite failed or was not made)."""
    if any(r.status == ERROR for r in results):
        return 2
    if all(r.status == PASSED for r in results):
        return 0
    return 1
