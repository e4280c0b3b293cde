"""verify --choose without an engine: which candidates are built, which one is chosen, and --write."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from dockrewrite.cli import app
from dockrewrite.verify import choose as chooser
from dockrewrite.verify.compare import ImageFacts
from dockrewrite.verify.results import FAILED, PASSED, SKIPPED, VerifyResult

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SIZES = {"scratch": 2_000_000, "distroless": 4_000_000, "alpine": 9_000_000, "slim": 80_000_000}


def _fake(failing=(), sizes=SIZES):
    calls = []

    def verify(path, context, options):
        calls.append(options.runtime)
        facts = ImageFacts("sha256:x", sizes[options.runtime], 1, [], {}, [], "/", "", {}, None, "", [])
        status = FAILED if options.runtime in failing else PASSED
        return VerifyResult(
            str(path), str(context), status=status, message="smoke: exit 1" if status == FAILED else "", rewrite=facts
        )

    return verify, calls


def _app(tmp_path: Path, case: str) -> Path:
    shutil.copytree(FIXTURES / case, tmp_path / "app", ignore=shutil.ignore_patterns("expected"))
    return tmp_path / "app" / "Dockerfile"


def test_the_smallest_passing_runtime_is_chosen(tmp_path):
    from dockrewrite.plan import Options

    verify, calls = _fake(failing=("scratch",))
    choice = chooser.choose(_app(tmp_path, "go/seed-minimal"), None, Options(), verify)
    assert choice.chosen is not None and choice.chosen.runtime == "distroless"
    assert [t.runtime for t in choice.tried] == ["scratch", "distroless", "alpine", "slim"]
    assert choice.tried[0].status == FAILED and "scratch" in calls
    assert "<- chosen" in chooser.table(choice).splitlines()[2]


def test_candidates_the_converter_refuses_are_not_built(tmp_path):
    from dockrewrite.plan import Options

    verify, calls = _fake()
    choice = chooser.choose(_app(tmp_path, "python/seed-requirements"), None, Options(), verify)
    scratch = choice.tried[0]
    assert scratch.runtime == "scratch" and scratch.status == SKIPPED and scratch.message.startswith("not converted")
    assert "scratch" not in calls
    assert choice.chosen is not None and choice.chosen.status == PASSED


def test_nothing_is_chosen_when_no_candidate_passes(tmp_path):
    from dockrewrite.plan import Options

    verify, _ = _fake(failing=tuple(SIZES))
    choice = chooser.choose(_app(tmp_path, "go/seed-minimal"), None, Options(), verify)
    assert choice.chosen is None
    assert "no runtime passed" in chooser.table(choice)


def test_cli_writes_the_chosen_rewrite(tmp_path, monkeypatch):
    from dockrewrite import verify as v

    dockerfile = _app(tmp_path, "go/seed-minimal")
    before = dockerfile.read_text()
    verify, _ = _fake(failing=("scratch",))
    monkeypatch.setattr(v, "find_docker", lambda *a, **k: None)
    monkeypatch.setattr(v, "verify_file", lambda path, context, options, **kw: verify(path, context, options))
    result = CliRunner().invoke(app, ["verify", "--choose", str(dockerfile)])
    assert result.exit_code == 0, result.output
    assert dockerfile.read_text() == before  # reported, not written
    assert "distroless" in result.stdout and "<- chosen" in result.stdout
    result = CliRunner().invoke(app, ["verify", "--choose", "--write", str(dockerfile)])
    assert result.exit_code == 0, result.output
    assert "FROM gcr.io/distroless/static-debian12:nonroot" in dockerfile.read_text()
    assert "wrote the distroless rewrite" in result.stderr


def test_cli_exit_code_and_usage(tmp_path, monkeypatch):
    from dockrewrite import verify as v

    dockerfile = _app(tmp_path, "go/seed-minimal")
    verify, _ = _fake(failing=tuple(SIZES))
    monkeypatch.setattr(v, "find_docker", lambda *a, **k: None)
    monkeypatch.setattr(v, "verify_file", lambda path, context, options, **kw: verify(path, context, options))
    assert CliRunner().invoke(app, ["verify", "--choose", str(dockerfile)]).exit_code == 1
    result = CliRunner().invoke(app, ["verify", "--write", str(dockerfile)])
    assert result.exit_code == 2 and "--write goes with --choose" in result.stderr
