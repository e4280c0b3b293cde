"""Property tests: Dockerfiles generated from a grammar of real-world shapes (tests/grammar.py: Go, Python and
Node files with their build contexts, every option, free text, odd encodings) never crash the tool; every file
ends as one Result; a CHANGED result keeps the original's ENV values, EXPOSE ports, effective command and user,
re-parses with BuildKit's parser, and converting it again changes nothing. bench/fuzz.py runs the same grammar
over 100,000 files; the regression tests below are what earlier runs found."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import dockerfile
import grammar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dockrewrite import source
from dockrewrite.cli import app
from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED, FAILED, SKIPPED, UNCHANGED
from dockrewrite.runner import Job, run_one
from dockrewrite.transform import convert_text


@pytest.fixture(scope="module")
def context_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ctx")
    (root / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    (root / "main.go").write_text(
        'package main\n\nimport "net/http"\n\nfunc main() { _ = http.ListenAndServe(":1", nil) }\n'
    )
    (root / "requirements.txt").write_text("flask\n")
    (root / "templates").mkdir()
    return root


@st.composite
def dockerfile_text(draw) -> str:
    """A generated Dockerfile (Go, Python or Node), as text; tests/test_features.py draws from it too."""
    return grammar.dockerfile_text(grammar.HypothesisDraw(draw))[0]


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _sound(result) -> None:
    assert result.status in (CHANGED, UNCHANGED, SKIPPED, FAILED)
    if result.status in (SKIPPED, FAILED):
        assert result.reason
    # A rewrite that its own safety checks reject, or a crash, is a bug: such inputs must be skipped with a reason.
    assert not (result.reason or "").startswith(("internal error", "safety check")), result.reason


@SETTINGS
@given(data=st.data())
def test_projects_convert_soundly_and_keep_behaviour(data):
    d = grammar.HypothesisDraw(data.draw)
    p = grammar.project(d)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        grammar.write_context(root, p.files)
        ctx = BuildContext(root if p.files or d.bool() else None)
        result = convert_text(p.dockerfile, ctx, p.options)
        _sound(result)
        if result.status != CHANGED:
            assert result.output is None
            return
        parsed = dockerfile.parse_string(result.output)
        assert sum(1 for c in parsed if c.cmd.upper() == "FROM") >= 2
        assert grammar.behaviour_problems(p.dockerfile, result, p.options) == []
        again = convert_text(result.output, ctx, p.options)
        assert again.status == UNCHANGED, again.reason


@settings(max_examples=50, deadline=None)
@given(data=st.data(), how=st.sampled_from(grammar.ENCODINGS))
def test_bytes_in_any_encoding_end_as_one_result(data, how):
    d = grammar.HypothesisDraw(data.draw)
    p = grammar.project(d)
    raw = grammar.encode(p.dockerfile, how)
    if raw is None:
        return  # text Latin-1 cannot hold
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        grammar.write_context(root, p.files)
        path = root / "Dockerfile"
        path.write_bytes(raw)
        result = run_one(Job(path, root, p.options, write=True, root=root))
        _sound(result)
        after = path.read_bytes()
        if how == "cr-only" and p.dockerfile.count("\n") > 1:
            assert result.status == FAILED and "CR-only line endings" in result.reason
        if result.status != CHANGED:
            assert after == raw  # nothing is written unless the file converted
            return
        text, fmt = source.decode(after)
        _, was = source.decode(raw)
        assert text.rstrip("\n") == result.output.rstrip("\n")
        assert (fmt.encoding, fmt.bom, fmt.newline, fmt.final_newline) == (
            was.encoding,
            was.bom,
            was.newline,
            was.final_newline,
        )
        assert convert_text(text, BuildContext(root), p.options).status == UNCHANGED


# -- regressions: what property tests and fuzz runs found ------------------------------------------------
GO = 'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n'


def _go_context(root: Path) -> Path:
    (root / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    (root / "main.go").write_text("package main\n\nfunc main() {}\n")
    return root


def test_shell_form_node_entrypoint_with_a_build_script(tmp_path: Path):
    # _NodePlanner had no start_build when the start command was shell form: an internal error
    (tmp_path / "package.json").write_text(
        '{"name": "a", "scripts": {"build": "tsc", "start": "node dist/server.js"}, '
        '"dependencies": {"express": "^4"}, "devDependencies": {"typescript": "^5"}}'
    )
    (tmp_path / "package-lock.json").write_text("{}")
    (tmp_path / "server.js").write_text("require('http')\n")
    text = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nEXPOSE 3000\nENTRYPOINT node server.js\n"
    result = convert_text(text, BuildContext(tmp_path), Options())
    assert result.status == CHANGED, result.reason
    assert grammar.behaviour_problems(text, result, Options()) == []
    assert "ENTRYPOINT node server.js" in result.output


@pytest.mark.parametrize("dest", [".", "/" + "b" * 300])
def test_copy_source_longer_than_a_file_name_can_be(tmp_path: Path, dest: str):
    # os.stat raised `OSError: File name too long` out of the context lookups
    text = f'FROM golang:1.22\nWORKDIR /app\nCOPY {"a" * 256} {dest}\nRUN go build -o app .\nCMD ["./app"]\n'
    _sound(convert_text(text, BuildContext(_go_context(tmp_path)), Options()))


def test_continuation_into_a_final_comment(tmp_path: Path):
    # the comment was read as part of the RUN and the rewrite failed its own safety check
    text = GO + "RUN echo done && \\\n# final comment\n"
    result = convert_text(text, BuildContext(_go_context(tmp_path)), Options())
    assert result.status == CHANGED, result.reason
    assert result.output.rstrip().endswith("# final comment")
    assert convert_text(result.output, BuildContext(tmp_path), Options()).status == UNCHANGED


def test_cr_only_line_endings_are_named(tmp_path: Path):
    path = tmp_path / "Dockerfile"
    path.write_bytes(GO.replace("\n", "\r").encode())
    result = run_one(Job(path, tmp_path, Options(), write=True))
    assert result.status == FAILED and "CR-only line endings" in result.reason
    assert path.read_bytes() == GO.replace("\n", "\r").encode()


def test_skip_marker_costs_linear_time():
    text = "FROM golang:1.22\n" + "\n" * 200_000 + "RUN go build\n"
    started = time.perf_counter()
    convert_text(text, BuildContext(None), Options(notes=False))
    assert time.perf_counter() - started < 5  # was 37 s: the regex ran over every blank line from every line
    marked = "FROM golang:1.22\n\n\n  #  dockrewrite : skip\n"
    result = convert_text(marked, BuildContext(None), Options())
    assert result.status == SKIPPED and result.line == 4
    # a bare `#` followed by a line that says dockrewrite: skip is no opt-out (\s used to span the line break)
    assert "opted out" not in (convert_text(GO + "#\ndockrewrite: skip\n", BuildContext(None), Options()).reason or "")


def test_detect_has_the_convert_size_cap(tmp_path: Path):
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM golang:1.22\n" + b"# padding\n" * 120_000)
    result = CliRunner().invoke(app, ["detect", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    # not read, and like `convert` a skip (exit 0), not an error
    assert result.exit_code == 0
    assert "skipped" in result.stdout and "files over 1 MiB (1048576 bytes) are not read" in result.stdout


def test_go_run_keeping_root_says_why(tmp_path: Path):
    # the planner of the rewritten `go run` model dropped the outer planner's note on why root is kept
    (_go_context(tmp_path) / "action.yml").write_text("runs:\n  using: docker\n")
    text = 'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nCMD ["go", "run", ".", "--port", "8080"]\n'
    result = convert_text(text, BuildContext(tmp_path), Options())
    assert result.status == CHANGED, result.reason
    assert any("GitHub Docker action" in w for w in result.warnings)
    assert grammar.behaviour_problems(text, result, Options()) == []


COMPOSE = "# d\u00e9veloppement\nservices:\n  api:\n    build: .\n    volumes:\n      - .:/app\n"


def _compose_project(tmp_path: Path, compose: bytes) -> Path:
    _go_context(tmp_path)
    (tmp_path / "Dockerfile").write_text(GO)
    (tmp_path / "docker-compose.yml").write_bytes(compose)
    return tmp_path


def test_latin1_compose_file_is_written_with_the_dockerfile(tmp_path: Path):
    # a Latin-1 byte raised UnicodeDecodeError after the Dockerfile was already written
    svc = _compose_project(tmp_path, COMPOSE.encode("latin-1"))
    result = CliRunner().invoke(app, ["convert", "--targets", "develop", "--compose", "--write", str(svc)])
    assert result.exit_code == 0, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    written = (svc / "docker-compose.yml").read_bytes()
    assert b"# d\xe9veloppement" in written and b"target: develop" in written
    assert "AS develop" in (svc / "Dockerfile").read_text()


def test_compose_edit_that_cannot_be_made_writes_neither(tmp_path: Path, monkeypatch):
    from dockrewrite import compose

    svc = _compose_project(tmp_path, COMPOSE.encode("utf-8"))

    def refuse(*args, **kwargs):
        raise compose.ComposeError(f"{svc / 'docker-compose.yml'}: the rewrite cannot be encoded as ascii")

    monkeypatch.setattr(compose, "prepare", refuse)
    result = CliRunner().invoke(app, ["convert", "--targets", "develop", "--compose", "--write", str(svc)])
    assert result.exit_code == 2
    assert "neither it nor the Dockerfile was written" in result.stderr
    assert (svc / "Dockerfile").read_text() == GO
    assert (svc / "docker-compose.yml").read_bytes() == COMPOSE.encode("utf-8")


@pytest.mark.parametrize(
    "compose", [b"services:\n  api:\n    build:\n", b"services:\n  api:\n    build: [a]\n", b"\xff\xfe\x00"]
)
def test_odd_compose_files_are_left_alone(tmp_path: Path, compose: bytes):
    from dockrewrite.compose import prepare

    svc = _compose_project(tmp_path, compose)
    edits, _notes = prepare(svc / "Dockerfile", svc)
    assert edits == []


def test_uv_run_of_a_script_runs_it_with_python(tmp_path: Path):
    # `uv run app.py` became `CMD ["app.py"]`, which is no program on PATH
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    text = (
        "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
        'COPY . .\nCMD ["uv", "run", "app.py"]\n'
    )
    result = convert_text(text, BuildContext(tmp_path), Options())
    assert result.status == CHANGED, result.reason
    assert 'CMD ["python", "app.py"]' in result.output
    shell_form = convert_text(
        text.replace('["uv", "run", "app.py"]', "uv run app.py"), BuildContext(tmp_path), Options(runtime="slim")
    )
    assert "CMD python app.py" in shell_form.output


def test_node_heredoc_with_runtime_file_steps_is_skipped(tmp_path: Path):
    # its first line was replayed in the runtime as `RUN adduser … \` and swallowed the EXPOSE after it
    (tmp_path / "package.json").write_text('{"name": "a", "scripts": {"start": "node server.js"}}')
    (tmp_path / "package-lock.json").write_text("{}")
    (tmp_path / "server.js").write_text("require('http')\n")
    text = (
        'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nEXPOSE 9000\nCMD ["node", "server.js"]\n'
        "RUN <<EOT\nadduser -D -u 10001 app \\\n# note\n && mkdir -p /data\nEOT\n"
    )
    result = convert_text(text, BuildContext(tmp_path), Options())
    _sound(result)
    assert result.status == SKIPPED and "heredoc" in result.reason


def test_cost_bounds_skip_what_would_take_minutes():
    # BuildKit's parser is quadratic in one continuation's length (150,000 lines: about a minute), and a
    # conversion costs about half a millisecond an instruction (87,000 ENV lines: 46 s)
    started = time.perf_counter()
    long_run = "FROM golang:1.22\nRUN echo \\\n" + "  a \\\n" * 6_000 + '  b\nCMD ["./app"]\n'
    result = convert_text(long_run, BuildContext(None), Options())
    assert result.status == SKIPPED and "continues over more than 5000 lines" in result.reason
    assert result.line == 2
    many = "FROM golang:1.22\n" + "".join(f"ENV A{i}=x\n" for i in range(10_001)) + 'CMD ["./app"]\n'
    result = convert_text(many, BuildContext(None), Options())
    assert result.status == SKIPPED and "more than 10000 are not converted" in result.reason
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("word", ["x\x85y", "xày"])
def test_healthcheck_word_with_a_nel_or_nbsp_byte(word: str):
    # BuildKit's parser split the character at its 0x85/0xa0 byte and handed back bytes that are not UTF-8
    result = convert_text(GO + f"HEALTHCHECK {word}\n", BuildContext(None), Options())
    assert result.status == FAILED and "HEALTHCHECK without CMD" in result.reason and result.line == 6


def test_copy_with_an_empty_from_is_skipped(tmp_path: Path):
    # the rewrite kept `COPY --from= …` and failed its own check that --from names an earlier stage
    text = GO.replace("COPY . .", "COPY --from= . .")
    result = convert_text(text, BuildContext(_go_context(tmp_path)), Options())
    assert result.status == SKIPPED and "--from= names no stage" in result.reason and result.line == 3


@pytest.mark.parametrize("pyproject", ["tool = 1\n", "[tool]\npoetry = []\n", '[project]\ndependencies = "x"\n'])
def test_pyproject_of_the_wrong_shape(tmp_path: Path, pyproject: str):
    # `data.get("tool", {}).get("poetry", {})` on `tool = 1`: AttributeError, an internal error
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "app.py").write_text("import flask\n")
    text = 'FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install .\nCMD ["python", "app.py"]\n'
    _sound(convert_text(text, BuildContext(tmp_path), Options(targets=("develop", "test"))))


def test_package_json_scripts_as_a_list_with_a_test_target(tmp_path: Path):
    (tmp_path / "package.json").write_text('{"name": "a", "scripts": ["start"]}')
    (tmp_path / "package-lock.json").write_text("{}")
    (tmp_path / "server.js").write_text("require('http')\n")
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "server.js"]\n'
    _sound(convert_text(text, BuildContext(tmp_path), Options(targets=("test",))))


def test_env_value_ending_in_a_control_character_is_kept(tmp_path: Path):
    # str.strip() took the \x1c that Docker keeps as part of the value
    text = GO.replace("CMD", "ENV A=x\x1c\nCMD")
    result = convert_text(text, BuildContext(_go_context(tmp_path)), Options())
    assert result.status == CHANGED, result.reason
    assert grammar.behaviour_problems(text, result, Options()) == []
    assert result.output.count("ENV A=x\x1c\n") == 2


def test_comment_between_continuations_before_the_keyword(tmp_path: Path):
    # ` \` / `# comment` / ` \` / `HEALTHCHECK …`: the text kept the comment in front of its keyword and
    # dockerfile-parse read the output differently from BuildKit (a safety-check failure)
    text = GO.replace("CMD", " \\\n      # indented café\n \\\n     HEALTHCHECK CMD wget -qO- localhost || exit 1\nCMD")
    result = convert_text(text, BuildContext(_go_context(tmp_path)), Options(runtime="alpine"))
    assert result.status == CHANGED, result.reason
    assert "# indented café\nHEALTHCHECK CMD wget -qO- localhost || exit 1\n" in result.output


def test_python_chain_cut_before_a_comment_in_its_continuation(tmp_path: Path):
    # `apk add … \` / `# note` / ` && \`: the dangling && was removed and left a RUN continuing into the comment
    # and the blank line after it (dockerfile-parse read the output differently: a safety-check failure)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "myapp"\nversion = "1"\n')
    text = (
        'FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install .\nENTRYPOINT \\\n    ["myapp"]\n'
        "RUN --mount=type=cache,target=/root/.cache apk add --no-cache --virtual .d gcc musl-dev \\\n# note\n && \\\n\n"
    )
    result = convert_text(text, BuildContext(tmp_path), Options(cache_mounts=True))
    _sound(result)
    if result.status == CHANGED:
        assert convert_text(result.output, BuildContext(tmp_path), Options(cache_mounts=True)).status == UNCHANGED


def test_escape_then_a_control_character_is_skipped(tmp_path: Path):
    # Docker reads no continuation in `RUN a \<0x1c>`, dockerfile-parse (str.strip) reads one: the output
    # failed the safety check that both readers agree
    text = GO.replace("CMD", "RUN echo a \\\x1c\nCMD")
    result = convert_text(text, BuildContext(_go_context(tmp_path)), Options())
    assert result.status == SKIPPED and result.line == 5 and "control or Unicode space character" in result.reason


@pytest.mark.parametrize("line", ["EXPOSE 8080 \\\x85", "EXPOSE 8080 \\\u2028"])
def test_escape_then_a_unicode_space_is_skipped(tmp_path: Path, line: str):
    # Go trims NEL/U+2028 but reads no continuation: EXPOSE's value kept the `\`, the rewrite lost it
    result = convert_text(GO.replace("CMD", line + "\nCMD"), BuildContext(_go_context(tmp_path)), Options())
    assert result.status == SKIPPED and result.line == 5, result.reason


def test_escape_at_the_end_of_the_file_in_a_value(tmp_path: Path):
    text = GO + "EXPOSE 8080 \\"
    result = convert_text(text, BuildContext(_go_context(tmp_path)), Options())
    _sound(result)
    assert result.status != CHANGED or grammar.behaviour_problems(text, result, Options()) == []


def test_copy_from_its_own_stage_number_is_skipped(tmp_path: Path):
    text = GO.replace("COPY . .", "COPY --from=0 /app /app")
    result = convert_text(text, BuildContext(_go_context(tmp_path)), Options())
    assert result.status == SKIPPED and "--from=0 names a stage" in result.reason


@pytest.mark.parametrize("pattern", ["[", "[]", "[\\]", "[z-a]", "a[b", "[^"])
def test_dockerignore_patterns_that_are_no_regex(tmp_path: Path, pattern: str):
    # the bracket class went into re.fullmatch as written: `re.error: unterminated character set`
    (_go_context(tmp_path) / ".dockerignore").write_text(pattern + "\n")
    text = GO.replace("COPY . .", "COPY . .\nCOPY [a-].txt ./")
    _sound(convert_text(text, BuildContext(tmp_path), Options()))
    _sound(convert_text(text, BuildContext(tmp_path), Options(dockerignore=True)))
