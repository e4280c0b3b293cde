"""--write changes a Dockerfile and the files its rewrite carries (.dockerignore, compose files, the
builder-pattern files it replaces) together: all of them, or, when one cannot be written, none."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockrewrite import source
from dockrewrite.cli import app

ROOT = Path(__file__).resolve().parent.parent
GO = 'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n'
COMPOSE = "services:\n  api:\n    build: .\n    volumes:\n      - .:/app\n"


def _project(tmp_path: Path) -> Path:
    (tmp_path / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    (tmp_path / "Dockerfile").write_text(GO)
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    return tmp_path


def _fail_for(monkeypatch, name: str) -> None:
    """Staging the new bytes of the file called `name` fails (a full disk, a read-only folder)."""
    stage = source._stage

    def failing(path, data):
        if Path(path).name == name:
            raise OSError(28, "No space left on device")
        return stage(path, data)

    monkeypatch.setattr(source, "_stage", failing)


def _convert(*args: str):
    return CliRunner().invoke(app, ["convert", *args])


def test_dockerfile_and_compose_are_written_together(tmp_path):
    svc = _project(tmp_path)
    result = _convert("--targets", "develop", "--compose", "--write", str(svc))
    assert result.exit_code == 0, result.output
    assert "AS develop" in (svc / "Dockerfile").read_text()
    assert "target: develop" in (svc / "docker-compose.yml").read_text()


@pytest.mark.parametrize("failing", ["docker-compose.yml", "Dockerfile"])
def test_a_file_that_cannot_be_written_leaves_both_as_they_were(tmp_path, monkeypatch, failing):
    svc = _project(tmp_path)
    _fail_for(monkeypatch, failing)
    result = _convert("--targets", "develop", "--compose", "--write", str(svc))
    assert result.exit_code == 2
    assert "No space left on device; nothing was written" in result.stderr
    assert (svc / "Dockerfile").read_text() == GO
    assert (svc / "docker-compose.yml").read_text() == COMPOSE
    assert [p.name for p in svc.iterdir() if p.name.endswith(source.TEMP_SUFFIX)] == []


def test_dockerignore_is_written_with_the_dockerfile_or_not_at_all(tmp_path, monkeypatch):
    svc = _project(tmp_path)
    (svc / "docker-compose.yml").unlink()
    _fail_for(monkeypatch, ".dockerignore")
    result = _convert("--dockerignore", "--write", str(svc))
    assert result.exit_code == 2
    assert (svc / "Dockerfile").read_text() == GO and not (svc / ".dockerignore").exists()
    monkeypatch.undo()
    result = _convert("--dockerignore", "--write", str(svc))
    assert result.exit_code == 0, result.output
    assert "note[DR701]: wrote " in result.stderr
    assert "node_modules" not in (svc / ".dockerignore").read_text()  # a Go project's list
    assert "AS builder" in (svc / "Dockerfile").read_text()


def test_builder_files_are_deleted_with_the_merged_dockerfiles_write(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT / "fixtures" / "builder-pattern" / "href-counter", repo, ignore=shutil.ignore_patterns("expected")
    )
    before = (repo / "Dockerfile").read_text()
    _fail_for(monkeypatch, "Dockerfile")
    result = _convert("--write", "--remove-builder-files", str(repo))
    assert result.exit_code == 2
    assert (repo / "Dockerfile").read_text() == before
    assert (repo / "Dockerfile.build").exists() and (repo / "build.sh").exists()
    monkeypatch.undo()
    result = _convert("--write", "--remove-builder-files", str(repo))
    assert result.exit_code == 0, result.output
    assert not (repo / "Dockerfile.build").exists() and not (repo / "build.sh").exists()
    assert "note[DR010]: deleted " in result.stderr


def test_without_write_the_compose_change_is_shown_not_made(tmp_path):
    svc = _project(tmp_path)
    result = _convert("--targets", "develop", "--compose", str(svc))
    assert result.exit_code == 0, result.output
    assert "+      target: develop" in result.stdout
    assert (svc / "docker-compose.yml").read_text() == COMPOSE


def test_a_proposed_dockerignore_stays_out_of_a_json_report(tmp_path):
    import json

    svc = _project(tmp_path)
    result = _convert("--dockerignore", "--format", "json", str(svc))
    assert json.loads(result.stdout)["files"][0]["status"] == "changed"
    text = _convert("--dockerignore", str(svc)).stdout
    assert "+++ b/" in text and "+.git" in text  # the text mode shows it as a diff
