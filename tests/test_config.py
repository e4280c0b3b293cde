"""Project configuration and workflow formats, through the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockrewrite.cli import app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "go"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for name in ("seed-minimal", "cmd-server"):
        shutil.copytree(FIXTURES / name, tmp_path / "services" / name, ignore=shutil.ignore_patterns("expected"))
    return tmp_path


def _runtimes(result) -> dict[str, str]:
    return {Path(f["path"]).parent.name: f["runtime"] or f["status"] for f in json.loads(result.stdout)["files"]}


def test_config_sets_defaults_and_flags_beat_it(repo: Path):
    (repo / ".dockrewrite.toml").write_text('runtime = "scratch"\n')
    assert _runtimes(invoke("convert", "--format", "json", repo)) == {
        "seed-minimal": "scratch",
        "cmd-server": "scratch",
    }
    flagged = invoke("convert", "--format", "json", "--runtime", "alpine", repo)
    assert set(_runtimes(flagged).values()) == {"alpine"}


def test_pyproject_table_and_per_path_overrides(repo: Path):
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.dockrewrite]\nkeep-root = true\n\n'
        '[[tool.dockrewrite.overrides]]\npaths = ["services/cmd-server/**"]\nskip = true\n'
    )
    result = invoke("convert", "--format", "json", repo)
    files = {Path(f["path"]).parent.name: f for f in json.loads(result.stdout)["files"]}
    assert files["cmd-server"]["status"] == "skipped"
    assert "override" in files["cmd-server"]["reason"]
    out = invoke("convert", "-o", "-", repo / "services" / "seed-minimal" / "Dockerfile")
    assert "USER" not in out.stdout  # keep-root from the config
    assert "USER 65532" in invoke("convert", "--no-keep-root", "-o", "-", repo / "services" / "seed-minimal").stdout


def test_include_exclude_and_image_overrides(repo: Path):
    (repo / ".dockrewrite.toml").write_text(
        'exclude = ["services/cmd-server/**"]\nruntime = "distroless"\n\n[images]\n'
        '"gcr.io/distroless/static-debian12:nonroot" = "registry.example.com/distroless/static@sha256:'
        + "a" * 64
        + '"\n'
    )
    result = invoke("convert", "--format", "json", repo)
    files = json.loads(result.stdout)["files"]
    assert [Path(f["path"]).parent.name for f in files] == ["seed-minimal"]
    out = invoke("convert", "-o", "-", repo / "services" / "seed-minimal" / "Dockerfile").stdout
    assert "FROM registry.example.com/distroless/static@sha256:" in out
    assert "FROM golang:1.24 AS builder" in out  # the original's image is never remapped


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('runtim = "scratch"\n', "unknown key runtim"),
        ('runtime = "windows"\n', "runtime must be one of"),
        ('[[overrides]]\nruntime = "alpine"\n', "needs paths"),
        ("[[overrides]]\npaths = ['x']\nbogus = 1\n", "unknown key overrides[0].bogus"),
        ("keep-root = 'yes'\n", "keep-root must be true or false"),
        ("runtime = \n", "not valid TOML"),
    ],
)
def test_bad_config_is_a_usage_error_naming_file_and_key(repo: Path, text: str, message: str):
    (repo / ".dockrewrite.toml").write_text(text)
    result = invoke("convert", repo)
    assert result.exit_code == 2
    assert ".dockrewrite.toml" in result.stderr and message in result.stderr


def test_templates_folder_overrides_by_name(repo: Path, tmp_path: Path):
    own = tmp_path / "own-templates" / "go"
    own.mkdir(parents=True)
    (own / "scratch.Dockerfile.j2").write_text(
        '{% extends "_base.Dockerfile.j2" %}\n{% block runtime_note %}\n# Approved by platform team\n{% endblock %}\n'
    )
    out = invoke("convert", "--templates", own.parent, "-o", "-", repo / "services" / "seed-minimal" / "Dockerfile")
    assert "# Approved by platform team" in out.stdout


def test_github_annotations(repo: Path):
    result = invoke("convert", "--format", "github", repo, FIXTURES / "java-skipped" / "Dockerfile")
    lines = result.stdout.splitlines()
    assert any(line.startswith("::warning file=") and "seed-minimal/Dockerfile" in line for line in lines)
    assert any(line.startswith("::notice file=") and "java-skipped/Dockerfile,line=1" in line for line in lines)


def test_templates_command_lists_and_exports(tmp_path: Path):
    listed = invoke("templates", "--list")
    assert "go/distroless.Dockerfile.j2" in listed.stdout.splitlines()
    target = tmp_path / "mine"
    assert invoke("templates", "--export", target).exit_code == 0
    assert (target / "python" / "slim.Dockerfile.j2").is_file()
    again = invoke("templates", "--export", target)
    assert again.exit_code == 2 and "--force" in again.stderr
    assert invoke("templates", "--export", target, "--force").exit_code == 0
    assert invoke("templates").exit_code == 2


def test_json_report_matches_its_published_schema(repo: Path):
    import jsonschema

    schema = json.loads(
        (Path(__file__).resolve().parent.parent / "dockrewrite" / "schemas" / "convert-report.schema.json").read_text()
    )
    garbage = repo / "broken" / "Dockerfile"
    garbage.parent.mkdir()
    garbage.write_text("not a dockerfile\n")
    result = invoke("convert", "--format", "json", repo, FIXTURES / "java-skipped", FIXTURES / "already-multistage")
    report = json.loads(result.stdout)
    jsonschema.validate(report, schema)
    assert {f["status"] for f in report["files"]} == {"changed", "unchanged", "skipped", "failed"}
