"""The wheel carries the templates: build it, install it in a clean venv, convert a fixture."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_and_converts(tmp_path: Path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        timeout=300,
    )
    wheel = next(dist.glob("dockrewrite-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    subprocess.run([bin_dir / "pip", "install", "-q", str(wheel)], check=True, timeout=600)
    case = tmp_path / "case"
    shutil.copytree(ROOT / "fixtures" / "go" / "seed-minimal", case)
    proc = subprocess.run(
        [bin_dir / "dockrewrite", "convert", "-o", "-", case / "Dockerfile"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (case / "expected" / "auto.Dockerfile").read_text()
    module = subprocess.run([bin_dir / "python", "-m", "dockrewrite", "--version"], capture_output=True, text=True)
    assert module.stdout.startswith("dockrewrite ")
    schema = subprocess.run(
        [bin_dir / "python", "-c", "import importlib.resources as r; print(r.files('dockrewrite') / 'schemas')"],
        capture_output=True,
        text=True,
    )
    assert (Path(schema.stdout.strip()) / "convert-report.schema.json").is_file()


def test_sdist_carries_what_its_tests_need(tmp_path: Path):
    import tarfile

    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "-o", str(tmp_path), str(ROOT)],
        check=True,
        timeout=600,
        capture_output=True,
    )
    sdist = next(tmp_path.glob("dockrewrite-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for needed in (
        "LICENSE",
        "README.md",
        "CONTRIBUTING.md",
        "action.yml",
        "action/check.sh",
        "examples/go-service/Dockerfile",
        "dockrewrite/schemas/convert-report.schema.json",
        "templates/go/distroless.Dockerfile.j2",
        "fixtures/go/seed-minimal/Dockerfile",
        "tests/conftest.py",
    ):
        assert needed in names, f"the sdist lacks {needed}"
    assert not any(name.startswith((".venv/", "bench/longtail/")) for name in names)
