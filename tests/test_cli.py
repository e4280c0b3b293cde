"""The command line as a user drives it: modes, exit codes, what is printed where, what is written."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockrewrite import __version__
from dockrewrite.cli import app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "go"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "svc"
    shutil.copytree(FIXTURES / "seed-minimal", target, ignore=shutil.ignore_patterns("expected"))
    return target


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"dockrewrite {__version__}"


@pytest.mark.parametrize("command", [[], ["convert"], ["detect"]])
def test_help_on_every_command(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_diff_mode_prints_a_diff_and_writes_nothing(project: Path):
    before = (project / "Dockerfile").read_bytes()
    result = invoke("convert", project / "Dockerfile")
    assert result.exit_code == 0
    assert "+FROM scratch AS runtime" in result.stdout
    assert "\033[" not in result.stdout  # not a terminal: no colour
    assert "1 converted, 0 unchanged, 0 skipped, 0 failed" in result.stderr
    assert (project / "Dockerfile").read_bytes() == before


def test_check_lists_pending_files_and_exits_1(project: Path):
    result = invoke("convert", "--check", project)
    assert result.exit_code == 1
    assert result.stdout.strip() == str(project / "Dockerfile")


def test_check_exits_0_when_nothing_would_change():
    result = invoke("convert", "--check", FIXTURES / "already-multistage" / "Dockerfile")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_write_replaces_the_file_and_a_second_run_is_a_no_op(project: Path):
    dockerfile = project / "Dockerfile"
    result = invoke("convert", "--write", dockerfile)
    assert result.exit_code == 0
    assert "1 written" in result.stderr
    expected = (FIXTURES / "seed-minimal" / "expected" / "auto.Dockerfile").read_text()
    assert dockerfile.read_text() == expected
    again = invoke("convert", "--check", dockerfile)
    assert again.exit_code == 0
    assert not list(project.glob(".Dockerfile.*"))  # no temporary file left behind


def test_write_keeps_bom_crlf_missing_final_newline_and_mode(tmp_path: Path):
    case = tmp_path / "crlf"
    shutil.copytree(FIXTURES / "crlf-bom", case)
    dockerfile = case / "Dockerfile"
    dockerfile.chmod(0o640)
    result = invoke("convert", "--write", dockerfile)
    assert result.exit_code == 0, result.stderr
    data = dockerfile.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert not data.endswith(b"\n")
    assert "café".encode() in data
    assert stat.S_IMODE(dockerfile.stat().st_mode) == 0o640
    assert b"AS runtime" in data


def test_output_dash_prints_the_whole_file(project: Path):
    result = invoke("convert", "--output", "-", project / "Dockerfile")
    assert result.exit_code == 0
    assert result.stdout.startswith("FROM golang:1.24 AS builder\n")


def test_output_file(project: Path, tmp_path: Path):
    target = tmp_path / "Dockerfile.multi"
    result = invoke("convert", "-o", target, project / "Dockerfile")
    assert result.exit_code == 0
    assert "AS runtime" in target.read_text()


@pytest.mark.parametrize(
    "content",
    [
        b"FROM ubuntu:22.04\r\nRUN echo hi\r\n",  # skipped: not Go, Node or Python
        b"\xef\xbb\xbfFROM golang:1.22 AS builder\nRUN go build -o /app .\n"
        b"FROM scratch\nCOPY --from=builder /app /app\n",
        b"# dockrewrite: skip\nFROM golang:1.22\nRUN go build .",
    ],
    ids=["skipped", "already-multistage", "opted-out"],
)
def test_output_passes_an_unconverted_file_through_byte_for_byte(tmp_path: Path, content: bytes):
    source = tmp_path / "Dockerfile"
    source.write_bytes(content)
    result = runner.invoke(app, ["convert", "-o", "-", str(source)])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == content  # `-o - Dockerfile > new && mv new Dockerfile` keeps the file
    target = tmp_path / "out.Dockerfile"
    assert invoke("convert", "-o", target, source).exit_code == 0
    assert target.read_bytes() == content


def test_output_file_with_a_json_report(project: Path, tmp_path: Path):
    target = tmp_path / "Dockerfile.multi"
    result = invoke("convert", "-o", target, "--format", "json", project / "Dockerfile")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["files"][0]["status"] == "changed"
    assert "AS runtime" in target.read_text()


@pytest.mark.parametrize("fmt", ["json", "github"])
def test_output_to_stdout_with_a_stdout_format_is_a_usage_error(project: Path, fmt: str):
    result = invoke("convert", "-o", "-", "--format", fmt, project / "Dockerfile")
    assert result.exit_code == 2 and "both write to stdout" in result.stderr


def test_output_needs_exactly_one_input(project: Path):
    result = invoke("convert", "--output", "-", project / "Dockerfile", FIXTURES / "cmd-server" / "Dockerfile")
    assert result.exit_code == 2
    assert "--output needs exactly one input" in result.stderr


def test_write_and_check_together_is_a_usage_error(project: Path):
    result = invoke("convert", "--write", "--check", project)
    assert result.exit_code == 2
    assert "cannot be used together" in result.stderr


def test_bad_runtime_value_is_a_usage_error(project: Path):
    assert invoke("convert", "--runtime", "windows", project).exit_code == 2


def test_missing_path_is_reported_and_exits_2(tmp_path: Path):
    result = invoke("convert", tmp_path / "nope")
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr


def test_a_failing_file_does_not_stop_the_others(tmp_path: Path, project: Path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "Dockerfile").write_bytes(b"\x00\x01\x02garbage")
    result = invoke("convert", "--write", tmp_path)
    assert result.exit_code == 2
    assert "broken/Dockerfile:1: error: binary file" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "AS runtime" in (project / "Dockerfile").read_text()
    assert "1 written, 0 unchanged, 0 skipped, 1 failed" in result.stderr


def test_skipped_and_unchanged_are_explained_with_their_line():
    result = invoke("convert", FIXTURES / "java-skipped" / "Dockerfile", FIXTURES / "already-multistage" / "Dockerfile")
    assert result.exit_code == 0
    assert "java-skipped/Dockerfile:1: skipped: language java is not supported" in result.stderr
    assert "already-multistage/Dockerfile:6: unchanged: already multi-stage" in result.stderr


def test_unparsable_file_reports_path_line_and_exit_2():
    result = invoke("convert", FIXTURES / "garbage" / "Dockerfile")
    assert result.exit_code == 2
    assert "garbage/Dockerfile:1: error: unknown instruction" in result.stderr


def test_json_report(project: Path):
    result = invoke("convert", "--format", "json", project, FIXTURES / "java-skipped")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    by_status = {f["status"]: f for f in report["files"]}
    assert by_status["changed"]["language"] == "go"
    assert by_status["changed"]["runtime"] == "scratch"
    assert by_status["changed"]["diff"].startswith("--- a/")
    assert by_status["skipped"]["reason"].startswith("language java")
    assert report["summary"] == {"changed": 1, "unchanged": 0, "skipped": 1, "failed": 0}


def test_runtime_flag_changes_the_final_image(project: Path):
    result = invoke("convert", "--runtime", "scratch", "-o", "-", project / "Dockerfile")
    assert "FROM scratch AS runtime" in result.stdout


def test_keep_root_keeps_root(project: Path):
    result = invoke("convert", "--keep-root", "--runtime", "distroless", "-o", "-", project / "Dockerfile")
    assert "USER" not in result.stdout
    assert "FROM gcr.io/distroless/static-debian12 AS runtime" in result.stdout


def test_context_option(tmp_path: Path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "runtime-assets", repo, ignore=shutil.ignore_patterns("expected", "Dockerfile"))
    (repo / "build").mkdir()
    shutil.copy(FIXTURES / "runtime-assets" / "Dockerfile", repo / "build" / "Dockerfile")
    without = invoke("convert", "-o", "-", repo / "build" / "Dockerfile")
    with_context = invoke("convert", "--context", repo, "-o", "-", repo / "build" / "Dockerfile")
    assert "templates" not in without.stdout
    assert "COPY --from=builder /srv/blog/templates ./templates" in with_context.stdout


def test_directory_discovery(tmp_path: Path):
    for rel in [
        "Dockerfile",
        "api/Dockerfile.prod",
        "web/app.Dockerfile",
        "tool/Containerfile",
        "node_modules/x/Dockerfile",
        ".git/Dockerfile",
        "venv/Dockerfile",
        "ignored/Dockerfile",
        "api/Dockerfile.j2",
        "notes/readme.txt",
    ]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('FROM alpine:3.20\nCMD ["true"]\n')
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / ".gitignore").write_text("ignored/\n")
    result = invoke("detect", "--format", "json", tmp_path)
    found = sorted(os.path.relpath(f["path"], tmp_path) for f in json.loads(result.stdout)["files"])
    assert found == ["Dockerfile", "api/Dockerfile.prod", "tool/Containerfile", "web/app.Dockerfile"]


def test_detect_explains_its_signals():
    result = invoke("detect", FIXTURES / "cgo-sqlite")
    assert result.exit_code == 0
    assert "go (single-stage)" in result.stdout
    assert "base image golang:1.22-bookworm (line 1)" in result.stdout
    assert "go.mod in the context" in result.stdout


def test_detect_json_for_node_and_ambiguous():
    result = invoke("detect", "--format", "json", FIXTURES / "node-detected", FIXTURES / "ambiguous")
    files = json.loads(result.stdout)["files"]
    assert files[0]["language"] == "node"
    assert files[1]["language"] == "ambiguous"
    assert sorted(files[1]["candidates"]) == ["go", "node"]


def test_detect_treats_an_empty_file_as_convert_does(tmp_path):
    (tmp_path / "Dockerfile").write_text("# nothing yet\n")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "Dockerfile").write_text("FROM\n")
    empty = invoke("detect", tmp_path / "Dockerfile")
    assert empty.exit_code == 0 and "skipped: no instructions" in empty.stdout
    broken = invoke("detect", tmp_path / "broken" / "Dockerfile")
    assert broken.exit_code == 2


PY_FIXTURES = FIXTURES.parent / "python"


def test_python_strategy_flag():
    result = invoke("convert", "--python-strategy", "venv", "-o", "-", PY_FIXTURES / "seed-requirements" / "Dockerfile")
    assert result.exit_code == 0
    assert result.stdout == (PY_FIXTURES / "seed-requirements" / "expected" / "strategy-venv.Dockerfile").read_text()


def test_detect_explains_the_plan():
    result = invoke("detect", PY_FIXTURES / "poetry" / "Dockerfile")
    assert "convert: runtime distroless" in result.stdout
    assert "strategy venv: /opt/venv is made with the image's own python" in result.stdout
    skipped = invoke("detect", "--format", "json", FIXTURES / "no-cmd" / "Dockerfile")
    plan = json.loads(skipped.stdout)["files"][0]["plan"]
    assert plan["status"] == "skipped" and plan["reason"].startswith("no CMD or ENTRYPOINT")


# --- formatter conventions: stdin, --diff with --check, quiet/verbose, config choice, colour ---------------


def test_stdin_in_dockerfile_out(project: Path):
    data = (project / "Dockerfile").read_bytes()
    result = runner.invoke(app, ["convert", "-", "--stdin-filename", str(project / "Dockerfile")], input=data)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("FROM golang:1.24 AS builder\n")
    assert "go.mod" in result.stdout  # the context is the stdin filename's folder: go.mod was seen


def test_stdin_passes_an_unconverted_file_through(tmp_path: Path):
    data = b"FROM ubuntu:22.04\r\nRUN echo hi\r\n"
    result = runner.invoke(app, ["convert", "-"], input=data)
    assert result.exit_code == 0
    assert result.stdout_bytes == data


def test_stdin_with_diff_and_check(project: Path):
    data = (project / "Dockerfile").read_bytes()
    shown = str(project / "Dockerfile")
    diff = runner.invoke(app, ["convert", "-", "--stdin-filename", shown, "--diff"], input=data)
    assert diff.exit_code == 0 and diff.stdout.startswith(f"--- a/{shown}")
    check = runner.invoke(app, ["convert", "-", "--stdin-filename", shown, "--check"], input=data)
    assert check.exit_code == 1 and "1 would convert" in check.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["-", "Dockerfile"], "give no other path"),
        (["-", "--write"], "no --write"),
        (["--stdin-filename", "x/Dockerfile", "Dockerfile"], "goes with the path '-'"),
        (["--diff", "--write", "Dockerfile"], "--diff"),
        (["-q", "-v", "Dockerfile"], "--quiet and --verbose"),
    ],
)
def test_formatter_flag_misuse_is_a_usage_error(project: Path, args: list[str], message: str):
    result = invoke("convert", *[a if a != "Dockerfile" else project / "Dockerfile" for a in args])
    assert result.exit_code == 2 and message in result.stderr


def test_check_with_diff_shows_the_diff_and_exits_1(project: Path):
    result = invoke("convert", "--check", "--diff", project / "Dockerfile")
    assert result.exit_code == 1
    assert "+FROM scratch AS runtime" in result.stdout
    assert "1 would convert, 0 unchanged" in result.stderr


def test_quiet_prints_errors_only(project: Path, tmp_path: Path):
    quiet = invoke("convert", "-q", project / "Dockerfile")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "Dockerfile").write_text("RUNN x\n")
    failed = invoke("convert", "-q", tmp_path / "bad" / "Dockerfile")
    assert failed.exit_code == 2 and "error: unknown instruction 'RUNN'" in failed.stderr


def test_verbose_prints_unchanged_files_and_signals(tmp_path: Path):
    (tmp_path / "Dockerfile").write_text(
        "FROM golang:1.22 AS b\nRUN go build -o /a .\nFROM scratch\nCOPY --from=b /a /a\n"
    )
    result = invoke("convert", "-v", tmp_path / "Dockerfile")
    assert "unchanged: already multi-stage" in result.stderr
    assert "go: base image golang:1.22" in result.stderr


def test_config_flag_and_no_config(project: Path, tmp_path: Path):
    (project / ".dockrewrite.toml").write_text('runtime = "alpine"\n')
    chosen = tmp_path / "ci.toml"
    chosen.write_text('runtime = "scratch"\n')
    assert "FROM alpine" in invoke("convert", "-o", "-", project / "Dockerfile").stdout
    assert "FROM scratch" in invoke("convert", "--config", chosen, "-o", "-", project / "Dockerfile").stdout
    assert "FROM scratch" in invoke("convert", "--no-config", "-o", "-", project / "Dockerfile").stdout
    missing = invoke("convert", "--config", tmp_path / "nope.toml", project / "Dockerfile")
    assert missing.exit_code == 2 and "no such configuration file" in missing.stderr


def test_color_always_and_force_color(project: Path, monkeypatch: pytest.MonkeyPatch):
    assert "\x1b[" in invoke("convert", "--color", "always", project / "Dockerfile").stdout
    assert "\x1b[" not in invoke("convert", project / "Dockerfile").stdout
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" in invoke("convert", project / "Dockerfile").stdout
    assert "\x1b[" not in invoke("convert", "--no-color", project / "Dockerfile").stdout


def test_finding_no_dockerfile_is_a_warning(tmp_path: Path):
    result = invoke("convert", tmp_path)
    assert result.exit_code == 0
    assert "warning: no Dockerfile found" in result.stderr


# --- discovery as git sees the tree ------------------------------------------------------------------------


def _tree(root: Path, files: list[str]) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / "seed-minimal" / "Dockerfile", path)


def _found(*args) -> set[str]:
    result = invoke("convert", "--check", *args)
    return {Path(line).as_posix() for line in result.stdout.splitlines() if line}


def test_gitignore_above_the_folder_and_info_exclude(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / ".git" / "info").mkdir(parents=True)
    (repo / ".git" / "info" / "exclude").write_text("services/scratch/\n")
    (repo / ".gitignore").write_text("services/*/generated/\n*.tmp.Dockerfile\n")
    _tree(
        repo,
        [
            "services/api/Dockerfile",
            "services/api/generated/Dockerfile",
            "services/scratch/Dockerfile",
            "services/api/x.tmp.Dockerfile",
        ],
    )
    found = _found(repo / "services")  # the .gitignore lives above the folder named
    assert found == {(repo / "services/api/Dockerfile").as_posix()}


def test_star_does_not_cross_a_slash_and_negation_reincludes(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".gitignore").write_text("legacy/*\n!legacy/keep/\n")
    _tree(repo, ["legacy/old/Dockerfile", "legacy/keep/Dockerfile", "apps/legacy/x/Dockerfile"])
    found = {Path(p).relative_to(repo).as_posix() for p in _found(repo)}
    assert found == {"legacy/keep/Dockerfile", "apps/legacy/x/Dockerfile"}


def test_dockerignore_files_are_not_dockerfiles(tmp_path: Path):
    _tree(tmp_path, ["Dockerfile"])
    (tmp_path / "Dockerfile.dockerignore").write_text("node_modules\n")
    (tmp_path / "api.Dockerfile.dockerignore").write_text("node_modules\n")
    assert _found(tmp_path) == {(tmp_path / "Dockerfile").as_posix()}


def test_config_globs_use_gitignore_rules_and_force_exclude(tmp_path: Path):
    _tree(tmp_path, ["services/a/Dockerfile", "services/a/b/Dockerfile", "legacy/Dockerfile"])
    (tmp_path / ".dockrewrite.toml").write_text('exclude = ["legacy/", "services/*/b"]\n')
    assert {Path(p).relative_to(tmp_path).as_posix() for p in _found(tmp_path)} == {"services/a/Dockerfile"}
    named = tmp_path / "legacy" / "Dockerfile"
    assert _found(named) == {named.as_posix()}  # named on the command line: taken
    assert _found("--force-exclude", named) == set()  # unless the exclude is forced


# --- CI report formats -------------------------------------------------------------------------------------


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A tree with one file of each outcome, and one whose folder name needs escaping."""
    _tree(tmp_path, ["svc/Dockerfile", "we<ird>&dir/Dockerfile"])
    (tmp_path / "svc" / "Dockerfile").write_text(
        "FROM golang:1.22\nENV STRIPE_KEY=sk_live_51Habcdefghijklmnop\nWORKDIR /app\nCOPY . .\n"
        'RUN go build -o app .\nCMD ["./app"]\n'
    )
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "Dockerfile").write_text("RUNN x\n")
    (tmp_path / "java").mkdir()
    (tmp_path / "java" / "Dockerfile").write_text("FROM eclipse-temurin:21\nCOPY app.jar /app.jar\n")
    return tmp_path


def test_sarif_report(mixed: Path):
    result = invoke("convert", "--format", "sarif", mixed)
    assert result.exit_code == 2  # a file failed
    doc = json.loads(result.stdout)
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    by_rule = {}
    for item in run["results"]:
        assert item["ruleId"] in rules and run["tool"]["driver"]["rules"][item["ruleIndex"]]["id"] == item["ruleId"]
        location = item["locations"][0]["physicalLocation"]
        by_rule.setdefault(item["ruleId"], []).append((location["artifactLocation"]["uri"], location["region"]))
    assert {"DR001", "DR002", "DR003", "DR004"} <= set(by_rule)
    assert any("we%3Cird%3E%26dir/Dockerfile" in uri for uri, _ in by_rule["DR001"])
    assert any(uri.endswith("svc/Dockerfile") and region["startLine"] == 2 for uri, region in by_rule["DR004"])


def test_gitlab_code_quality_report(mixed: Path):
    issues = json.loads(invoke("convert", "--format", "gitlab", mixed).stdout)
    assert {i["severity"] for i in issues} == {"minor", "major", "info"}
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert all(set(i) == {"description", "check_name", "fingerprint", "severity", "location"} for i in issues)
    assert any(
        i["location"]["path"].endswith("broken/Dockerfile") and i["check_name"] == "dockrewrite/DR002" for i in issues
    )


def test_junit_report(mixed: Path):
    from xml.etree import ElementTree as ET

    root = ET.fromstring(invoke("convert", "--check", "--format", "junit", mixed).stdout)
    suite = root.find("testsuite")
    assert suite.get("tests") == "4" and suite.get("failures") == "2"
    assert suite.get("errors") == "1" and suite.get("skipped") == "1"
    names = {case.get("name") for case in suite.iter("testcase")}
    assert any(name.endswith("we<ird>&dir/Dockerfile") for name in names)  # escaped by the XML writer


def test_json_report_has_a_version(mixed: Path):
    assert json.loads(invoke("convert", "--format", "json", mixed).stdout)["version"] == 1


def test_detect_and_convert_name_notes_alike(project: Path):
    detect = json.loads(invoke("detect", "--format", "json", project / "Dockerfile").stdout)
    convert = json.loads(invoke("convert", "--format", "json", project / "Dockerfile").stdout)
    assert detect["files"][0]["plan"]["warnings"] == convert["files"][0]["warnings"]


def test_a_bulk_run_prints_a_repeated_note_once(tmp_path: Path):
    _tree(tmp_path, [f"svc{n:02}/Dockerfile" for n in range(25)])
    result = invoke("convert", tmp_path)
    repeated = "no USER in the original: the runtime runs as the non-root uid 65532 (--keep-root keeps root)"
    assert result.stderr.count(repeated) == 2  # the first file's note and the summary line
    assert f"note[DR201] repeated for 24 more files (shown once above): {repeated}" in result.stderr
    verbose = invoke("convert", "-v", tmp_path)
    assert verbose.stderr.count(repeated) == 25


def test_json_with_compose_keeps_stdout_one_document(tmp_path: Path):
    _tree(tmp_path, ["Dockerfile"])
    shutil.copyfile(FIXTURES / "seed-minimal" / "go.mod", tmp_path / "go.mod")
    (tmp_path / "docker-compose.dev.yml").write_text("services:\n  app:\n    build: .\n    volumes:\n      - .:/app\n")
    result = invoke("convert", "--targets", "develop", "--compose", "--format", "json", tmp_path / "Dockerfile")
    report = json.loads(result.stdout)  # the compose diff does not break the JSON
    assert report["files"][0]["status"] == "changed"
