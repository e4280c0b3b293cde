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
    assert file["smoke"][0]["side_effects"]["verdict"] == "same"  # on distroless as nonroot, as on golang as root
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


# --- side effects: what the smoke containers wrote (`docker diff`) ------------------------------

WRITER = """\
import json, sqlite3, sys

try:
    with open("cache.json", "w") as f:  # next to the app: the rewrite's user may not own the folder
        json.dump({"warm": True}, f)
except OSError as exc:
    print(f"warning: cache not written: {exc}", file=sys.stderr)  # the app carries on
if len(sys.argv) > 1:
    db = sqlite3.connect("data.db")
    db.execute("create table if not exists hits (n integer)")
    db.execute("insert into hits values (1)")
    db.commit()
print("hello")
"""
WRITER_ORIGINAL = 'FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py .\nCMD ["python", "app.py"]\n'
# a hand-made "rewrite" that runs as a user who cannot write the root-owned /app
WRITER_REWRITE = 'FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py .\nUSER 65532\nCMD ["python", "app.py"]\n'


def _writer_app(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(WRITER)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(WRITER_ORIGINAL)
    return dockerfile


def test_a_rewrite_that_cannot_write_next_to_itself_is_flagged(docker_engine, tmp_path):
    from dockrewrite.verify import CHANGED_EFFECTS, FAILED, PASSED, verify_file

    result = verify_file(_writer_app(tmp_path), network="host", rewrite=WRITER_REWRITE, timeout=60)
    # the app prints the same and exits 0 either way: only its side effects tell the images apart
    (run,) = result.smoke
    assert run.status == PASSED, run.detail
    assert run.side_effects is not None and run.side_effects.verdict == CHANGED_EFFECTS, run.side_effects
    assert run.side_effects.missing == ["A /app/cache.json"]
    assert "Permission denied" in run.side_effects.evidence and "cache.json" in run.side_effects.evidence
    changed = [d for d in result.unintended if d.field.startswith("file ")]
    assert [d.field for d in changed] == ["file /app/cache.json"]
    assert result.status == FAILED and result.stage == "contract", result.message
    assert "CHANGED: file /app/cache.json: created -> not created" in result.message


def test_a_sqlite_database_the_rewrite_cannot_open_is_named(docker_engine, tmp_path):
    from dockrewrite.verify import FAILED, verify_file

    result = verify_file(
        _writer_app(tmp_path), network="host", rewrite=WRITER_REWRITE, smoke_cmd="python app.py db", timeout=60
    )
    (run,) = result.smoke
    assert run.status == FAILED  # sqlite3.OperationalError: the exit code differs as well
    fields = {d.field: d for d in result.unintended}
    assert "file /app/data.db" in fields and "file /app/cache.json" in fields, result.message
    assert result.status == FAILED and result.stage == "contract"


def test_same_side_effects_in_json_and_report(app, docker_engine, tmp_path):
    """py-flask as root and as its rewrite's user (bytecode written by one and not the other): no false positive."""
    report = tmp_path / "report.md"
    args = ["--smoke-cmd", "python app.py", "--smoke-env", "SELFTEST=1", "--smoke-http", "8000/healthz"]
    args += ["--timeout", "60", "--format", "json", "--report", str(report)]
    result = _invoke(app, [str(APPS / "py-flask" / "Dockerfile"), *args])
    assert result.exit_code == 0, result.output
    (flask,) = json.loads(result.stdout)["files"]
    for check in flask["smoke"]:
        assert check["side_effects"]["verdict"] == "same", check
        assert check["original"]["changes"] is not None and check["rewrite"]["changes"] is not None
    # gunicorn as root wrote bytecode next to the app and the standard library; the rewrite did not: noise
    http = next(c for c in flask["smoke"] if c["kind"] == "http")
    assert "A /app/__pycache__/app.cpython-311.pyc" in http["original"]["changes"], http["original"]["changes"]
    assert http["side_effects"]["original"] == [] and http["side_effects"]["missing"] == []
    table = report.read_text()
    assert "| file system |" in table
    assert "py-flask/Dockerfile" in table and "| same | passed |" in table
