"""--compose: development services of compose files move to the develop target, nothing else changes."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from dockrewrite.cli import app
from dockrewrite.compose import retarget

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "go" / "seed-minimal"
COMPOSE = """\
# Local development stack
services:
    api:
        build: .          # rebuilt on every change
        volumes:
          - .:/app
        ports:
          - "8080:8080"
    api-prod:
        build:
            context: .
            dockerfile: Dockerfile
    worker:
        build:
            context: .
            target: builder
        volumes: [".:/app"]
    db:
        image: postgres:16
"""


def _project(tmp_path: Path) -> Path:
    shutil.copytree(SEED, tmp_path / "svc", ignore=shutil.ignore_patterns("expected"))
    (tmp_path / "svc" / "docker-compose.yml").write_text(COMPOSE)
    return tmp_path / "svc"


def test_only_development_services_are_retargeted_and_layout_is_kept(tmp_path: Path):
    svc = _project(tmp_path)
    new, notes = retarget(svc / "docker-compose.yml", svc / "Dockerfile")
    expected = COMPOSE.replace(
        "        build: .          # rebuilt on every change\n",
        "        build:            # rebuilt on every change\n            context: .\n            target: develop\n",
    )
    assert new == expected
    assert any("api now builds target develop" in n for n in notes)
    assert any("api-prod builds this Dockerfile but does not look like a development setup" in n for n in notes)
    assert any("worker already builds target builder" in n for n in notes)


def test_other_dockerfiles_and_broken_yaml_are_left_alone(tmp_path: Path):
    svc = _project(tmp_path)
    other = tmp_path / "other" / "Dockerfile"
    other.parent.mkdir()
    other.write_text("FROM scratch\n")
    assert retarget(svc / "docker-compose.yml", other) == (None, [])
    (svc / "compose.yaml").write_text("services: [\n")
    new, notes = retarget(svc / "compose.yaml", svc / "Dockerfile")
    assert new is None and "not valid YAML" in notes[0]


def test_cli_needs_develop_and_writes_compose_with_write(tmp_path: Path):
    svc = _project(tmp_path)
    runner = CliRunner()
    refused = runner.invoke(app, ["convert", "--compose", str(svc)])
    assert refused.exit_code == 2 and "--targets develop" in refused.stderr
    shown = runner.invoke(app, ["convert", "--targets", "develop", "--compose", str(svc)])
    assert "+            target: develop" in shown.stdout
    assert (svc / "docker-compose.yml").read_text() == COMPOSE  # diff mode writes nothing
    written = runner.invoke(app, ["convert", "--targets", "develop,test", "--compose", "--write", str(svc)])
    assert written.exit_code == 0, written.stderr
    assert "target: develop" in (svc / "docker-compose.yml").read_text()
    assert "FROM builder AS develop" in (svc / "Dockerfile").read_text()
    bad = runner.invoke(app, ["convert", "--targets", "staging", str(svc)])
    assert bad.exit_code == 2 and "unknown target 'staging'" in bad.stderr
