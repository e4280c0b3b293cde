"""Bulk `--write` under attack: SIGTERM, SIGHUP and SIGINT in the middle of a run, Ctrl-C at pool start-up,
a killed main process. Each test runs the real command line in its own session on a generated tree, and
waits on progress (files changing, processes appearing or going), never on a fixed time, so a loaded
machine only makes it slower."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dockrewrite import interrupts, source
from dockrewrite.runner import usable_cpus

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED = FIXTURES / "go" / "seed-minimal"
EXPECTED = (SEED / "expected" / "auto.Dockerfile").read_bytes()
POLL = 0.005
# Only a bound for a broken build, never a timing assumption: every wait below ends on a condition.
HANG = 600


def _tree(root: Path, count: int) -> dict[Path, bytes]:
    originals = {}
    for i in range(count):
        folder = root / f"svc{i:04d}"
        shutil.copytree(SEED, folder, ignore=shutil.ignore_patterns("expected"))
        originals[folder / "Dockerfile"] = (folder / "Dockerfile").read_bytes()
    return originals


def _start(root: Path, *args: str, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "dockrewrite", "convert", "--write", *args, str(root)]
    with open(log, "wb") as err:  # a file, not a pipe: a leftover process cannot hold the test up
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)


def _wait_for(condition, proc: subprocess.Popen | None = None, poll: float = POLL) -> bool:
    """Poll until condition() holds; False if proc ended first."""
    deadline = time.monotonic() + HANG
    while not condition():
        if proc is not None and proc.poll() is not None:
            return condition()
        assert time.monotonic() < deadline, "nothing happened for 10 minutes"
        time.sleep(poll)
    return True


def _session(sid: int) -> list[str]:
    """Processes (other than zombies) in the session the command was started in: its own, the workers,
    the fork server and the resource tracker all stay in it."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) != sid or fields[0] == "Z":
                continue
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append(f"{pid} {cmdline[:120]}")
    return found


def _assert_clean(root: Path, originals: dict[Path, bytes], proc: subprocess.Popen) -> int:
    """No process left, no temporary file, every file old or new; returns how many were written."""
    _wait_for(lambda: not _session(proc.pid), poll=0.05)
    assert not list(root.rglob(f"*{source.TEMP_SUFFIX}")), "temporary files were left behind"
    written = 0
    for path, old in originals.items():
        now = path.read_bytes()
        assert now in (old, EXPECTED), f"{path} is neither the original nor the rewrite"
        written += now != old
    return written


def _first_write(originals: dict[Path, bytes]):
    probe = next(iter(originals))
    return lambda: probe.read_bytes() != originals[probe]


@pytest.mark.parametrize(
    ("sig", "code", "jobs", "group"),
    [
        (signal.SIGTERM, 143, "2", True),  # `timeout`, a CI runner cancelling the job: the whole group
        (signal.SIGTERM, 143, "2", False),  # `kill -TERM <pid>`: the main process only
        (signal.SIGHUP, 129, "2", True),  # the terminal or the ssh session went away
        (signal.SIGINT, 130, "2", True),  # Ctrl-C
        (signal.SIGTERM, 143, "1", False),  # one process: BuildKit's Go threads live in the main process
    ],
    ids=["term-group", "term-main", "hup-group", "int-group", "term-single-process"],
)
def test_a_signal_mid_run_finishes_the_writes_and_leaves_nothing(tmp_path: Path, sig, code, jobs, group):
    originals = _tree(tmp_path / "repo", 400)
    proc = _start(tmp_path / "repo", "--jobs", jobs, log=tmp_path / "stderr")
    assert _wait_for(_first_write(originals), proc), "the run ended before a file was written"
    (os.killpg if group else os.kill)(proc.pid, sig)
    proc.wait(timeout=HANG)
    written = _assert_clean(tmp_path / "repo", originals, proc)
    stderr = (tmp_path / "stderr").read_text()
    assert proc.returncode == code, stderr[-3000:]
    assert "Traceback" not in stderr and "leaked" not in stderr, stderr[-3000:]
    assert f"{signal.Signals(sig).name}: stopping" in stderr
    assert 0 < written < len(originals)


def _has_fork_server(sid: int):
    return lambda: any("forkserver" in p for p in _session(sid))


@pytest.mark.skipif(usable_cpus() < 2, reason="one usable CPU: --jobs 2 runs in one process, no pool to start")
def test_ctrl_c_while_the_pool_starts(tmp_path: Path):
    """Ctrl-C reaches the whole group while the fork server is still importing: it used to die with a
    traceback (and the main process with a FileNotFoundError connecting to it)."""
    originals = _tree(tmp_path / "repo", 60)
    proc = _start(tmp_path / "repo", "--jobs", "2", log=tmp_path / "stderr")
    started = _wait_for(_has_fork_server(proc.pid), proc)
    assert started, f"the run ended before its fork server started: {(tmp_path / 'stderr').read_text()[-3000:]}"
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=HANG)
    _assert_clean(tmp_path / "repo", originals, proc)
    stderr = (tmp_path / "stderr").read_text()
    assert proc.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr and "Error" not in stderr, stderr[-3000:]


def _deaf(pid: str) -> bool | None:
    """Whether SIGHUP, SIGINT and SIGTERM are each blocked or ignored in a process (None: it is gone)."""
    try:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except (OSError, ValueError):
        return None
    held = int(status["SigBlk"], 16) | int(status["SigIgn"], 16)
    return all(held >> (sig - 1) & 1 for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM))


@pytest.mark.skipif(usable_cpus() < 2, reason="one usable CPU: --jobs 2 runs in one process, there are no workers")
def test_helper_processes_are_born_deaf_to_group_signals(tmp_path: Path):
    """Every process but the main one (fork server, resource tracker, workers) blocks or ignores the three
    signals from its start: the resource tracker's start used to unblock SIGINT and SIGTERM in the main
    process, so the fork server spawned next died of a Ctrl-C in its imports, with a traceback."""
    originals = _tree(tmp_path / "repo", 400)
    proc = _start(tmp_path / "repo", "--jobs", "2", log=tmp_path / "stderr")
    seen: dict[str, bool] = {}

    def all_helpers_seen() -> bool:
        for line in _session(proc.pid):
            pid = line.split()[0]
            if pid != str(proc.pid) and pid not in seen:
                deaf = _deaf(pid)
                if deaf is not None:
                    seen[pid] = deaf
        return len(seen) >= 4  # fork server, resource tracker, two workers

    assert _wait_for(all_helpers_seen, proc), f"the run ended first; seen: {seen}"
    proc.wait(timeout=HANG)
    _assert_clean(tmp_path / "repo", originals, proc)
    assert all(seen.values()), seen


@pytest.mark.skipif(usable_cpus() < 2, reason="one usable CPU: --jobs 2 runs in one process, there are no workers")
def test_workers_end_when_the_main_process_is_killed(tmp_path: Path):
    """SIGKILL cannot be handled; the workers must still not wait for work forever (holding the CI job's
    output pipes open), and what they were writing is finished or not started."""
    originals = _tree(tmp_path / "repo", 400)
    proc = _start(tmp_path / "repo", "--jobs", "2", log=tmp_path / "stderr")
    assert _wait_for(_first_write(originals), proc), "the run ended before a file was written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=HANG)
    written = _assert_clean(tmp_path / "repo", originals, proc)
    assert 0 < written < len(originals)


def test_a_signal_taken_by_another_thread_waits_for_the_write(tmp_path: Path, monkeypatch):
    """The signal lands on a thread other than the main one (BuildKit's parser runs Go threads that block
    nothing) while the main thread replaces a file: the write completes, then the run stops."""
    target = tmp_path / "Dockerfile"
    target.write_bytes(b"FROM old\n")
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    real_replace = os.replace

    def replace_after_a_signal(src, dst):
        signal.pthread_kill(other.ident, signal.SIGTERM)
        _wait_for(interrupts.stop_requested)  # the handler has run in the main thread, mid-write
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_after_a_signal)
    try:
        with interrupts.handled(), pytest.raises(interrupts.Interrupted) as stopped:
            source.write_atomic(target, b"FROM new\n")
    finally:
        release.set()
    assert stopped.value.code == 143
    assert target.read_bytes() == b"FROM new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]
    assert signal.getsignal(signal.SIGTERM) is not interrupts._handler  # the previous handler is back
