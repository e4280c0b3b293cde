"""Workers listing a folder while another Dockerfile of it is being written: a rewrite must never name the
tool's own temporary files (they are gone once that write ends)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dockrewrite import source
from dockrewrite.context import BuildContext

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HANG = 600


def test_context_listing_leaves_out_temporary_files(tmp_path: Path):
    (tmp_path / "server.js").write_text("")
    (tmp_path / ".Dockerfile.d.mj3fnt52.dockrewrite").write_text("FROM half-written\n")
    (tmp_path / ".env.dockrewrite").write_text("")  # a user's file, not one of ours
    ctx = BuildContext(tmp_path)
    assert ctx.entries == [".env.dockrewrite", "server.js"]
    assert not ctx.exists(".Dockerfile.d.mj3fnt52.dockrewrite")


def test_several_dockerfiles_in_one_folder_written_in_parallel(tmp_path: Path):
    """27 Dockerfiles sharing one build context, written by parallel workers: each conversion lists the
    folder while others are being replaced there, and used to copy their temporary files."""
    folder = tmp_path / "web"
    shutil.copytree(FIXTURES / "node" / "express-npm-install", folder, ignore=shutil.ignore_patterns("expected"))
    for letter in "abcdefghijklmnopqrstuvwxyz":
        shutil.copy(folder / "Dockerfile", folder / f"Dockerfile.{letter}")
    names = set(os.listdir(folder))
    proc = subprocess.run(
        [sys.executable, "-m", "dockrewrite", "convert", "--write", "-j", "8", str(folder)],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "27 written" in proc.stderr
    assert set(os.listdir(folder)) == names
    for dockerfile in folder.glob("Dockerfile*"):
        text = dockerfile.read_text()
        assert "AS runtime" in text and source.TEMP_SUFFIX not in text, dockerfile
    check = subprocess.run(
        [sys.executable, "-m", "dockrewrite", "convert", "--check", str(folder)], capture_output=True, text=True
    )
    assert check.returncode == 0 and not check.stdout, check.stdout
