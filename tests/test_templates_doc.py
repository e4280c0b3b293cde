"""The documented examples render as shown: docs/templates.md (its overrides pass the safety checks, its block
list is the layout's) and README's before-and-after."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from dockrewrite.cli import app

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "templates.md").read_text()


def _example(name: str = "go/distroless.Dockerfile.j2") -> tuple[str, str]:
    found = dict(re.findall(r"<!-- example: (\S+) -->\n```jinja\n(.*?)```", DOC, re.S))
    assert name in found, f"docs/templates.md lost its {name} example"
    return name, found[name]


def test_the_documented_override_renders_as_shown(tmp_path):
    name, text = _example()
    templates = tmp_path / "repo" / "ci" / "dockrewrite-templates"
    (templates / name).parent.mkdir(parents=True)
    (templates / name).write_text(text)
    app_dir = tmp_path / "repo" / "svc"
    shutil.copytree(ROOT / "fixtures" / "go" / "seed-minimal", app_dir, ignore=shutil.ignore_patterns("expected"))
    (tmp_path / "repo" / ".git").mkdir()  # the templates folder must be inside the repository
    # a service on distroless, as the documented output shows (this one would otherwise get scratch)
    (tmp_path / "repo" / ".dockrewrite.toml").write_text(
        'templates = "ci/dockrewrite-templates"\nruntime = "distroless"\n'
    )
    result = CliRunner().invoke(app, ["convert", "-o", "-", str(app_dir / "Dockerfile")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("# Built to the platform team's rules: https://wiki.example.com/containers\nFROM golang:1.24")
    assert "# Runtime (distroless, gcr.io/distroless/static-debian12:nonroot): distroless static" in out
    (app_dir / "Dockerfile").write_text(out)
    again = CliRunner().invoke(app, ["convert", "--check", str(app_dir / "Dockerfile")])
    assert again.exit_code == 0, again.output  # already multi-stage: nothing to do


def test_the_documented_blocks_are_the_layouts_blocks():
    layout = (ROOT / "templates" / "_base.Dockerfile.j2").read_text()
    blocks = set(re.findall(r"{% block (\w+) %}", layout))
    table = DOC.split("## Blocks of `_base.Dockerfile.j2`", 1)[1].split("## Variables", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", table, re.M))
    assert documented == blocks


def test_a_builder_pattern_merge_renders_through_a_teams_template(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT / "fixtures" / "builder-pattern" / "href-counter", repo, ignore=shutil.ignore_patterns("expected")
    )
    builtin = (ROOT / "templates" / "builder" / "merge.Dockerfile.j2").read_text()
    ours = tmp_path / "templates" / "builder"
    ours.mkdir(parents=True)
    custom = builtin.replace(
        "{% for line in header %}", "# merged by the platform team's template\n{% for line in header %}"
    )
    (ours / "merge.Dockerfile.j2").write_text(custom)
    result = CliRunner().invoke(app, ["convert", "--templates", str(tmp_path / "templates"), str(repo)])
    assert result.exit_code == 0, result.output
    assert "+# merged by the platform team's template\n" in result.stdout
    assert "AS builder" in result.stdout


def test_the_documented_runtime_override_writes_every_install_and_user_on_that_base(tmp_path):
    """runtimes/slim.j2 from the docs reaches the output: the install and the user lines are the team's."""
    name, text = _example("runtimes/slim.j2")
    repo = tmp_path / "repo"
    templates = repo / "ci" / "dockrewrite-templates"
    (templates / name).parent.mkdir(parents=True)
    (templates / name).write_text(text)
    app_dir = repo / "svc"
    shutil.copytree(
        ROOT / "fixtures" / "python" / "psycopg2-source", app_dir, ignore=shutil.ignore_patterns("expected")
    )
    (repo / ".git").mkdir()
    (repo / ".dockrewrite.toml").write_text('templates = "ci/dockrewrite-templates"\n')
    result = CliRunner().invoke(app, ["convert", "-o", "-", str(app_dir / "Dockerfile")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    shown = DOC.split("<!-- example: runtimes/slim.j2 -->", 1)[1].split("```dockerfile\n", 1)[1].split("```", 1)[0]
    for part in shown.split("…\n"):
        assert part in out
    builtin = (ROOT / "fixtures" / "python" / "psycopg2-source" / "expected" / "auto.Dockerfile").read_text()
    assert "Acquire::Retries" not in builtin and "nologin" not in builtin
    assert out.count("Acquire::Retries=5") == 2 and "--shell /usr/sbin/nologin --uid 10001 app" in out


def test_the_readmes_before_and_after_is_what_convert_writes():
    """README.md shows the bundled example's rewrite; it must stay what the tool writes for it."""
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("\nbecomes\n\n```dockerfile\n", 1)[1].split("```", 1)[0]
    result = CliRunner().invoke(app, ["convert", "-o", "-", str(ROOT / "examples" / "go-service" / "Dockerfile")])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(shown)
