"""The composite GitHub Action: its metadata is valid, inputs never reach a script's text, and its check
script (run here as the runner would) annotates, counts and produces a patch that applies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "fixtures" / "go" / "seed-minimal"


def _action() -> dict:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load((ROOT / "action.yml").read_text())


def test_action_metadata():
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"paths", "format", "fail-on-changes", "patch-name"}
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], f"an expression spliced into a script: {step.get('name')}"


def _run_check(repo: Path, **env) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    output = repo.parent / "github_output"
    output.write_text("")
    bin_dir = str(Path(sys.executable).parent)
    full = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ["PATH"],
        "GITHUB_OUTPUT": str(output),
        "GITHUB_ACTION_PATH": str(ROOT),
        "DOCKREWRITE_PATHS": ".",
        "DOCKREWRITE_FORMAT": "github",
        "DOCKREWRITE_PATCH": "dockrewrite-patch",
        **env,
    }
    proc = subprocess.run(
        ["bash", str(ROOT / "action" / "check.sh")], cwd=repo, env=full, capture_output=True, text=True, timeout=300
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return proc, outputs


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(SEED, root / "svc", ignore=shutil.ignore_patterns("expected"))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_check_annotates_counts_and_writes_a_patch_that_applies(repo: Path):
    proc, outputs = _run_check(repo)
    assert proc.returncode == 0, proc.stderr
    assert "::warning file=svc/Dockerfile" in proc.stdout
    assert outputs["convertible"] == "1"
    patch = repo / "dockrewrite.patch"
    assert patch.read_text().startswith("--- a/svc/Dockerfile")
    applied = subprocess.run(["git", "apply", "dockrewrite.patch"], cwd=repo, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr
    assert "AS runtime" in (repo / "svc" / "Dockerfile").read_text()
    again, outputs = _run_check(repo)
    assert again.returncode == 0 and outputs["convertible"] == "0"


def test_check_writes_sarif(repo: Path):
    proc, outputs = _run_check(repo, DOCKREWRITE_FORMAT="sarif")
    assert proc.returncode == 0, proc.stderr
    assert '"version": "2.1.0"' in (repo / "dockrewrite.sarif").read_text()


def test_a_hostile_paths_input_is_data(repo: Path):
    proc, outputs = _run_check(repo, DOCKREWRITE_PATHS="svc $(touch pwned) ;touch pwned2")
    assert not (repo / "pwned").exists() and not (repo / "pwned2").exists()
    assert not list(repo.parent.glob("pwned*"))


def test_an_unknown_format_is_refused(repo: Path):
    proc, _ = _run_check(repo, DOCKREWRITE_FORMAT="xml")
    assert proc.returncode == 2 and "must be github or sarif" in proc.stdout
