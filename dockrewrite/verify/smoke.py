"""Smoke runs of both images: exit code and output, an HTTP probe, and what each container wrote (docker diff)."""

from __future__ import annotations

import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Sequence

from dockrewrite.verify.compare import Difference, short
from dockrewrite.verify.engine import Docker, EngineError, container_changes, last_line, remove_container
from dockrewrite.verify.results import (
    CHANGED_EFFECTS,
    EFFECTS_DIFFER,
    ERROR,
    FAILED,
    PASSED,
    SAME_EFFECTS,
    SideEffects,
    SmokeCheck,
    SmokeRun,
)

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
            run.error = last_line(run.stderr)
    except subprocess.TimeoutExpired as exc:
        run.timed_out = True
        run.stdout = (exc.stdout or b"").decode("utf-8", "replace")
        run.stderr = (exc.stderr or b"").decode("utf-8", "replace")[-2000:]
    finally:
        _finish(docker, name, run, start)
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
            run.error = f"could not start: {last_line(proc.stderr)}"
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
        _finish(docker, name, run, start)
    return run


def run_both(runner: Callable[[str], SmokeRun], tags: dict[str, str]) -> dict[str, SmokeRun]:
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


def judge_run(orig: SmokeRun, new: SmokeRun, timeout: float) -> tuple[str, str]:
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
        return FAILED, f"stdout differs: {short(orig.stdout)} -> {short(new.stdout)}"
    note = "" if orig.exit_code == 0 else " (both fail the same way)"
    return PASSED, f"exit {new.exit_code}, same stdout ({len(new.stdout)} chars){note}"


def judge_http(orig: SmokeRun, new: SmokeRun) -> tuple[str, str]:
    if orig.error or orig.http_status is None or orig.http_status >= 400:
        return ERROR, f"the original does not pass the HTTP check: {orig.error or orig.http_status}"
    if new.error or new.http_status is None:
        return FAILED, f"the rewrite does not answer: {new.error} {_tail(new)}".strip()
    if new.http_status != orig.http_status:
        return FAILED, f"HTTP {orig.http_status} -> {new.http_status}"
    if new.http_body != orig.http_body:
        return FAILED, f"body differs: {short(orig.http_body)} -> {short(new.http_body)}"
    return PASSED, f"HTTP {new.http_status} in {new.seconds:.1f}s, same body ({len(new.http_body)} chars)"


def _tail(run: SmokeRun) -> str:
    return short((run.stderr or run.stdout).strip().splitlines()[-1] if (run.stderr or run.stdout).strip() else "")


def parse_http(spec: str) -> tuple[str, str]:
    """'8080/healthz' -> ('8080', '/healthz'); '8080' -> ('8080', '/')."""
    port, _, path = spec.partition("/")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"--smoke-http wants PORT/PATH with a port from 1 to 65535, got {spec!r}")
    if any(ch.isspace() or ord(ch) < 32 for ch in path):
        raise ValueError(f"--smoke-http: the path must not hold spaces or control characters, got {spec!r}")
    return str(int(port)), "/" + path


def _finish(docker, name: str, run, start: float) -> None:
    """The run's time and the container's file-system changes, then the container removed."""
    run.seconds = round(time.monotonic() - start, 2)
    try:
        run.changes = container_changes(docker, name)
    finally:
        remove_container(docker, name)
