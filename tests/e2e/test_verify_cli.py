"""`dockrewrite verify` through its Typer command: exit codes, JSON, the Markdown report, error messages."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dockrewrite.cli_verify import register

pytestmark = pytest.mark.e2e

APPS = Path(__file__).resolve().parents[2] / "fixtures" / "apps"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def _other() -> None:  # a second command keeps `verify` a subcommand, as in dockrewrite's app
        pass

    return app


def _invoke(app, args, **env):
    return CliRunner().invoke(app, ["verify", "--network", "host", *args], env=env or None)


def _go_app(tmp_path: Path, main: str) -> Path:
    (tmp_path / "go.mod").write_text("module example.com/t\n\ngo 1.22\n")
    (tmp_path / "main.go").write_text(textwrap.dedent(main))
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o /app/t .\nCMD ["/app/t"]\n')
    return dockerfile


def test_no_engine_is_a_clear_error(app):
    result = _invoke(app, [str(APPS / "go-http" / "Dockerfile")], DOCKER_HOST="unix:///nonexistent/docker.sock")
    assert result.exit_code == 2, result.output
    assert "no Docker engine answers" in result.output or "docker client" in result.output
    assert "Traceback" not in result.output


def test_json_and_report(app, docker_engine, tmp_path):
    report = tmp_path / "sizes.md"
    app_dir = APPS / "go-templates"
    result = _invoke(
        app,
        [str(app_dir / "Dockerfile"), "--smoke-env", "SELFTEST=1", "--format", "json", "--report", str(report)],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["passed"] == 1
    (file,) = data["files"]
    assert file["status"] == "passed" and file["ratio"] >= 20
    assert file["smoke"][0]["rewrite"]["stdout"].startswith("<h1>Fixture site</h1>")
    table = report.read_text()
    assert "| Dockerfile |" in table and "go-templates/Dockerfile" in table and "passed" in table


def test_text_table(app, docker_engine):
    result = _invoke(app, [str(APPS / "go-http" / "Dockerfile"), "--smoke-http", "8080/healthz", "--timeout", "30"])
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.stdout and "x smaller" in result.stdout
    assert "smoke http: GET :8080/healthz: ok" in result.stdout
    assert "intended: user:" in result.stdout


def test_original_that_does_not_build(app, docker_engine, tmp_path):
    dockerfile = _go_app(tmp_path, "package main\n\nfunc main() { undefined_name() }\n")
    result = _invoke(app, [str(dockerfile)])
    assert result.exit_code == 2, result.output
    assert "original does not build" in result.stdout
    assert "undefined: undefined_name" in result.stdout  # the compiler's message is shown


def test_base_image_that_cannot_be_pulled(app, docker_engine, tmp_path):
    dockerfile = _go_app(tmp_path, "package main\n\nfunc main() {}\n")
    dockerfile.write_text(dockerfile.read_text().replace("golang:1.22", "golang:1.19.99-nonexistent"))
    result = _invoke(app, [str(dockerfile)])
    assert result.exit_code == 2, result.output
    assert "base image golang:1.19.99-nonexistent cannot be pulled" in result.stdout


def test_behaviour_change_fails_verification(app, docker_engine, tmp_path):
    # GOPATH comes from the golang base image; a program that prints it behaves differently on the runtime.
    dockerfile = _go_app(
        tmp_path,
        """\
        package main

        import (
        \t"fmt"
        \t"os"
        )

        func main() { fmt.Println("gopath=" + os.Getenv("GOPATH")) }
        """,
    )
    result = _invoke(app, [str(dockerfile), "--format", "json"])
    assert result.exit_code == 1, result.output
    (file,) = json.loads(result.stdout)["files"]
    assert file["status"] == "failed" and file["stage"] == "smoke"
    assert "gopath=/go" in file["message"]


def test_usage_errors(app):
    result = _invoke(app, [str(APPS / "go-http" / "Dockerfile"), "--smoke-env", "NOVALUE"])
    assert result.exit_code == 2 and "KEY=VALUE" in result.output
    result = _invoke(app, [str(APPS / "go-http" / "Dockerfile"), "--smoke-http", "healthz"])
    assert result.exit_code == 2 and "PORT/PATH" in result.output
