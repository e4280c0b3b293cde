"""Note codes: printed with each note, selectable by code or prefix in the config and with --ignore."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

from typer.testing import CliRunner

from dockrewrite.cli import app
from dockrewrite.notes import CODES, Note, table_markdown

ROOT = Path(__file__).resolve().parent.parent
# No .dockerignore and `COPY . .`: the rewrite suggests one (DR701); USER-less, so the runtime user is new.
GO_APP = {
    "go.mod": "module example.com/hello\n\ngo 1.22\n",
    "main.go": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n',
    "Dockerfile": 'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /hello .\nCMD ["/hello"]\n',
}


def _app(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    for name, text in {**GO_APP, **(extra or {})}.items():
        (tmp_path / name).write_text(text)
    return tmp_path / "Dockerfile"


def _run(*args: str):
    return CliRunner().invoke(app, ["convert", *args])


def test_notes_are_printed_with_their_code(tmp_path):
    result = _run(str(_app(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "note[DR701]: no .dockerignore" in result.stderr


def test_ignore_flag_drops_a_code_and_a_prefix(tmp_path):
    path = str(_app(tmp_path))
    assert "DR701" not in _run("--ignore", "DR701", path).stderr
    assert "DR701" not in _run("--ignore", "dr7", path).stderr
    # the rewrite itself is the same with or without the note
    assert _run("--ignore", "DR701", path).stdout == _run(path).stdout


def test_config_ignore_and_overrides_add_up(tmp_path):
    # one folder per configuration: a run reads each config file once
    cases = {
        "top": ('ignore = ["DR7"]\n', False),
        "override": ('[[overrides]]\npaths = ["Dockerfile"]\nignore = ["DR701"]\n', False),
        "elsewhere": ('[[overrides]]\npaths = ["other/**"]\nignore = ["DR701"]\n', True),
    }
    for name, (config, shown) in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        path = _app(folder, {".dockrewrite.toml": config})
        assert ("note[DR701]" in _run(str(path)).stderr) is shown, name


def test_unknown_codes_are_usage_errors(tmp_path):
    result = _run("--ignore", "DR999", str(_app(tmp_path)))
    assert result.exit_code == 2
    assert "--ignore: 'DR999' is no note code" in result.stderr
    for name, config, message in (
        ("code", 'ignore = ["E501"]\n', ".dockrewrite.toml: ignore: 'E501' is no note code"),
        ("type", "ignore = 5\n", "ignore must be a list of note codes"),
    ):
        folder = tmp_path / name
        folder.mkdir()
        result = _run(str(_app(folder, {".dockrewrite.toml": config})))
        assert result.exit_code == 2
        assert message in result.stderr


def test_json_lists_notes_with_codes(tmp_path):
    result = _run("--format", "json", str(_app(tmp_path)))
    record = json.loads(result.stdout)["files"][0]
    assert {"code": "DR701", "message": record["warnings"][-1]} in record["notes"] or any(
        n["code"] == "DR701" for n in record["notes"]
    )
    assert [n["message"] for n in record["notes"]] == record["warnings"]


def test_ignoring_the_credential_code_drops_the_findings(tmp_path):
    path = _app(tmp_path)
    path.write_text(path.read_text().replace("CMD", "ENV API_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\nCMD"))
    assert "title=dockrewrite credential" in _run("--format", "github", str(path)).stdout
    assert "title=dockrewrite credential" not in _run("--format", "github", "--ignore", "DR004", str(path)).stdout


def test_a_note_keeps_its_code_across_processes():
    made = Note("DR701", "text")
    again = pickle.loads(pickle.dumps(made))
    assert again == "text" and again.code == "DR701"


def test_docs_table_matches_the_codes():
    text = (ROOT / "docs" / "notes.md").read_text()
    assert table_markdown() in text
    assert all(f"| {code} |" in text for code in CODES)
