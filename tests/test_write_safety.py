"""--write keeps files whole and where they belong: symlinks, read-only files, ownership, huge files, SIGINT."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockrewrite.cli import app

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "go" / "seed-minimal"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def _service(folder: Path) -> Path:
    shutil.copytree(SEED, folder, ignore=shutil.ignore_patterns("expected"))
    return folder / "Dockerfile"


def test_symlink_inside_the_root_is_written_through(tmp_path: Path):
    shared = _service(tmp_path / "repo" / "shared")
    real = shared.rename(shared.parent / "service.dockerfile-source")  # a name discovery does not pick up
    link = tmp_path / "repo" / "svc" / "Dockerfile"
    link.parent.mkdir()
    (link.parent / "go.mod").write_text("module example.com/x\n\ngo 1.22\n")
    link.symlink_to(real)
    result = invoke("convert", "--write", tmp_path / "repo")
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and "AS runtime" in real.read_text()


def test_symlink_leaving_the_root_is_not_written(tmp_path: Path):
    outside = _service(tmp_path / "outside")
    before = outside.read_bytes()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "go.mod").write_text("module example.com/x\n\ngo 1.22\n")
    (repo / "Dockerfile").symlink_to(outside)
    result = invoke("convert", "--write", repo)
    assert "outside" in result.stderr and "not read" in result.stderr
    assert outside.read_bytes() == before


def test_read_only_file_is_reported_not_written(tmp_path: Path):
    dockerfile = _service(tmp_path / "svc")
    before = dockerfile.read_bytes()
    dockerfile.chmod(0o444)
    result = invoke("convert", "--write", dockerfile)
    assert result.exit_code == 2
    assert "read-only file (mode 0o444): not written" in result.stderr
    assert dockerfile.read_bytes() == before


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")
def test_ownership_is_kept(tmp_path: Path):
    dockerfile = _service(tmp_path / "svc")
    os.chown(dockerfile, 1234, 4321)
    assert invoke("convert", "--write", dockerfile).exit_code == 0
    info = dockerfile.stat()
    assert (info.st_uid, info.st_gid) == (1234, 4321)


def test_huge_file_is_skipped_with_its_size(tmp_path: Path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_bytes(b"FROM golang:1.22\n" + b"# padding\n" * 120_000)
    result = invoke("convert", dockerfile)
    assert result.exit_code == 0
    assert "files over 1048576 bytes are not read" in result.stderr


def test_interrupted_write_leaves_every_file_old_or_new(tmp_path: Path):
    """SIGINT in the middle of `--write` over many files: no file is half-written or lost."""
    originals = {}
    for i in range(1000):
        dockerfile = _service(tmp_path / "repo" / f"svc{i:04d}")
        originals[dockerfile] = dockerfile.read_bytes()
    expected = (SEED / "expected" / "auto.Dockerfile").read_bytes()
    probe = next(iter(originals))
    exe = [sys.executable, "-m", "dockrewrite", "convert", "--write", "--jobs", "2", str(tmp_path / "repo")]
    proc = subprocess.Popen(exe, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    # Wait on progress, not on the clock (a 60 s limit once ran out on a loaded machine): writing has begun
    # once the first file changed.
    while proc.poll() is None and probe.read_bytes() == originals[probe]:
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait()
    written = sum(1 for path, old in originals.items() if path.read_bytes() != old)
    for path, old in originals.items():
        assert path.read_bytes() in (old, expected), f"{path} is neither the original nor the rewrite"
    assert not list((tmp_path / "repo").rglob("*.dockrewrite")), "temporary files were left behind"
    assert proc.returncode == 130 and 0 < written < len(originals), (proc.returncode, written)


WARM_THEN_RUN = """
import sys
from pathlib import Path

import dockerfile

from dockrewrite.plan import Options
from dockrewrite.runner import Job, run

if __name__ == "__main__":
    path = Path(sys.argv[1])
    for _ in range(20000):
        dockerfile.parse_string(path.read_text())  # the parent's Go runtime is up, with its threads
    jobs = [Job(path, path.parent, Options()) for _ in range(64)]
    print(sum(1 for _ in run(jobs, workers=2)))
"""


def test_parallel_run_after_the_parent_parsed_does_not_hang(tmp_path: Path):
    """BuildKit's parser is Go code; a Go runtime started in the parent (the builder-pattern merge parses
    there) does not survive fork(), so the worker processes must not be forked from the parent."""
    script = tmp_path / "warm_then_run.py"
    script.write_text(WARM_THEN_RUN)
    dockerfile = _service(tmp_path / "svc")
    proc = subprocess.run([sys.executable, str(script), str(dockerfile)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "64"


def _set_xattr_or_skip(path: Path, name: str, value: bytes, why: str) -> None:
    try:
        os.setxattr(path, name, value)
    except (OSError, AttributeError) as exc:  # AttributeError: no xattr calls on this platform
        pytest.skip(f"{why}: setting {name} on {path.parent} failed ({exc}), so keeping it cannot be tested here")


def test_extended_attributes_are_kept(tmp_path: Path):
    dockerfile = _service(tmp_path / "svc")
    _set_xattr_or_skip(dockerfile, "user.owner", b"payments-team", "no user extended attributes on this filesystem")
    assert invoke("convert", "--write", dockerfile).exit_code == 0
    assert "AS runtime" in dockerfile.read_text()
    assert os.getxattr(dockerfile, "user.owner") == b"payments-team"


def _acl(*entries: tuple[int, int, int]) -> bytes:
    """The kernel's system.posix_acl_access value: version 2, then (tag, permissions, id) entries."""
    import struct

    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *entry) for entry in entries)


def test_posix_acl_is_kept(tmp_path: Path):
    dockerfile = _service(tmp_path / "svc")
    anyone = 0xFFFFFFFF
    # owner rw, user 1234 r, group r, mask r, others r (what `setfacl -m u:1234:r` gives a 0644 file)
    acl = _acl((0x01, 6, anyone), (0x02, 4, 1234), (0x04, 4, anyone), (0x10, 4, anyone), (0x20, 4, anyone))
    _set_xattr_or_skip(dockerfile, "system.posix_acl_access", acl, "no POSIX ACLs on this filesystem")
    assert invoke("convert", "--write", dockerfile).exit_code == 0
    assert "AS runtime" in dockerfile.read_text()
    assert os.getxattr(dockerfile, "system.posix_acl_access") == acl
    assert stat_mode(dockerfile) == 0o644


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_hard_linked_dockerfile_is_written_in_place(tmp_path: Path):
    """A file with another name outside the tree: both names keep sharing one file, which a rename would
    have split (the other name keeping the old text)."""
    dockerfile = _service(tmp_path / "repo" / "svc")
    other = tmp_path / "shared" / "go-service.dockerfile"
    other.parent.mkdir()
    os.link(dockerfile, other)
    result = invoke("convert", "--write", tmp_path / "repo")
    assert result.exit_code == 0, result.stderr
    assert os.path.samefile(dockerfile, other)
    assert "AS runtime" in other.read_text()
    assert "written in place: the file has 1 other name (hard links)" in result.stderr


def test_two_names_of_one_file_in_one_run_are_converted_once(tmp_path: Path):
    dockerfile = _service(tmp_path / "svc")
    os.link(dockerfile, dockerfile.parent / "Dockerfile.prod")
    result = invoke("convert", "--write", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert os.path.samefile(dockerfile, dockerfile.parent / "Dockerfile.prod")
    assert dockerfile.read_bytes() == (SEED / "expected" / "auto.Dockerfile").read_bytes()
    assert f"the same file as {dockerfile}: converted there" in result.stderr
    assert "1 written, 1 unchanged" in result.stderr
