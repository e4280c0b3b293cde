"""Inline before/after cases for the pieces the Go rewrite is built from, with explicit no-op cases."""

from __future__ import annotations

import pytest

from dockrewrite import source, syslibs
from dockrewrite.context import BuildContext
from dockrewrite.model import Command
from dockrewrite.parse import ParseError, parse
from dockrewrite.plan import Options
from dockrewrite.providers.go.build import binary_name, edit_run
from dockrewrite.results import CHANGED, SKIPPED, UNCHANGED
from dockrewrite.safety import UnsafeOutput, check
from dockrewrite.transform import convert_text


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("RUN go build -o app .", 'RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o app .'),
        (
            'RUN go build -ldflags "-X main.v=${V}" -o app',
            'RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.v=${V}" -o app',
        ),
        (
            "RUN CGO_ENABLED=1 GOOS=linux go build -ldflags='-w' .",
            "RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags='-s -w' .",
        ),
        (
            'RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o app',
            'RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o app',
        ),
        (
            "RUN go mod download && go build -o x",
            'RUN go mod download && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o x',
        ),
        (
            "RUN --mount=type=cache,target=/root/.cache go build",
            'RUN --mount=type=cache,target=/root/.cache CGO_ENABLED=0 go build -trimpath -ldflags="-s -w"',
        ),
        ("RUN echo 'go build is great'", "RUN echo 'go build is great'"),
    ],
)
def test_static_build_edit(before, after):
    assert edit_run(before, make_static=True) == after


def test_cgo_build_keeps_cgo():
    assert edit_run("RUN go build -o app", make_static=False) == 'RUN go build -trimpath -ldflags="-s -w" -o app'


@pytest.mark.parametrize(
    ("positional", "cwd", "module", "name"),
    [
        ([], "/app", "example.com/shop", "shop"),
        (["."], "/app", "example.com/shop/v2", "shop"),
        (["./cmd/server"], "/app", None, "server"),
        (["cmd/tool/main.go", "cmd/tool/util.go"], "/app", None, "main"),
        (["./..."], "/app", None, None),
        (["./a", "./b"], "/app", None, None),
        ([], "/go/src/github.com/acme/hello", None, "hello"),
    ],
)
def test_binary_name(positional, cwd, module, name):
    assert binary_name(positional, cwd, module) == name


def test_source_round_trip_keeps_bytes():
    for data in [
        b"FROM a\nRUN b\n",
        b"FROM a\r\nRUN b",
        b"\xef\xbb\xbfFROM a\n# caf\xc3\xa9\n",
        b"FROM a\n# caf\xe9 latin-1\n",
        "FROM a\n".encode("utf-16"),
    ]:
        text, fmt = source.decode(data)
        assert "\r" not in text
        assert source.encode(text, fmt) == data


def test_binary_input_is_refused():
    with pytest.raises(source.SourceError):
        source.decode(b"\x7fELF\x00\x00")


def test_parse_keeps_comments_with_their_instruction_and_header_on_top():
    model = parse("# syntax=docker/dockerfile:1\n# about\nFROM a\n\n# why\nRUN b \\\n\n  c\n# end\n")
    assert model.directives == ("# syntax=docker/dockerfile:1",)
    assert model.header == ("# syntax=docker/dockerfile:1", "# about")
    run = model.stages[0].instructions[0]
    assert run.comments == ("# why",)
    assert run.text == "RUN b \\\n  c"  # Docker skips the blank line; so does our copy of it
    assert model.footer == ("# end",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no instructions"),
        ("# only\n", "no instructions"),
        ("RUN x\n", "before the first FROM"),
        ("FROM\n", "FROM without an image"),
        ("FROM a\nFOO b\n", "unknown instruction 'FOO'"),
        ("FROM a\nRUN <<EOF\nx\n", "unterminated heredoc"),
    ],
)
def test_parse_errors_name_the_problem(text, message):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in info.value.message


def test_exec_form_that_is_not_json_is_shell_form():
    cmd = Command.of(parse("FROM a\nCMD [npm run preview --host ]\n").stages[0].instructions[0])
    assert not cmd.exec_form
    cmd = Command.of(parse('FROM a\nCMD ["./app", "-v"]\n').stages[0].instructions[0])
    assert cmd.argv == ("./app", "-v")


def test_runtime_package_table():
    assert syslibs.runtime_packages(["gcc", "libpq-dev", "zlib1g-dev", "make"], "debian") == (["libpq5", "zlib1g"], [])
    assert syslibs.runtime_packages(["postgresql-dev", "musl-dev"], "alpine") == (["libpq"], [])
    assert syslibs.runtime_packages(["libweird-dev"], "debian") == ([], ["libweird-dev"])
    assert syslibs.installed_packages(
        "apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev=15.*"
    ) == ("apt", ["gcc", "libpq-dev"])
    assert syslibs.installed_packages("apk add --no-cache --virtual .deps gcc musl-dev") == ("apk", ["gcc", "musl-dev"])


def test_safety_refuses_copy_from_an_unknown_stage():
    original = parse('FROM golang:1.22\nCMD ["./a"]\n')
    with pytest.raises(UnsafeOutput, match="names no earlier stage"):
        check(original, 'FROM golang:1.22 AS builder\nFROM scratch AS runtime\nCOPY --from=build /a /a\nCMD ["./a"]\n')


def test_safety_refuses_a_lost_expose():
    original = parse('FROM golang:1.22\nEXPOSE 80\nCMD ["./a"]\n')
    with pytest.raises(UnsafeOutput, match="EXPOSE"):
        check(
            original, 'FROM golang:1.22 AS builder\nFROM scratch AS runtime\nCOPY --from=builder /a /a\nCMD ["./a"]\n'
        )


def test_no_op_cases():
    ctx = BuildContext(None)
    multi = "FROM golang AS b\nRUN go build -o /a\nFROM scratch\nCOPY --from=b /a /a\n"
    assert convert_text(multi, ctx, Options()).status == UNCHANGED
    assert convert_text('FROM alpine:3.20\nCMD ["sh"]\n', ctx, Options()).status == SKIPPED
    prebuilt = 'FROM alpine:3.20\nCOPY app /usr/bin/app\nCMD ["app"]\n'
    assert convert_text(prebuilt, ctx, Options()).status == SKIPPED


def test_unknown_context_still_converts_without_a_download_step():
    result = convert_text(
        'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n',
        BuildContext(None),
        Options(),
    )
    assert result.status == CHANGED
    assert "go mod download" not in result.output


def test_a_continuation_into_the_end_of_the_file(tmp_path):
    (tmp_path / "requirements.txt").write_text("flask\n")
    head = "FROM python:3.11\nCOPY . .\nRUN pip install -r requirements.txt\n"
    dangling = convert_text(head + "CMD ./app \\\n  ", BuildContext(tmp_path), Options())
    assert dangling.status == CHANGED, dangling.reason
    assert dangling.output.endswith("CMD ./app\n")
    empty = convert_text(head + 'CMD ["python", "a.py"]\nCMD \\\n', BuildContext(tmp_path), Options())
    assert empty.status == SKIPPED and empty.line == 5 and "nothing after it" in empty.reason


def test_shell_form_with_quoted_punctuation_is_plain_words():
    quoted = Command(False, shell="python -c \"import a; a.b('x')\"")
    assert quoted.as_simple_argv() == ("python", "-c", "import a; a.b('x')")
    assert Command(False, shell="echo 'a|b' c").as_simple_argv() == ("echo", "a|b", "c")
    for needs_shell in ('echo "$HOME"', "a && b", "a *.py", "a 'open", 'say "a\\"b"', "a # note"):
        assert Command(False, shell=needs_shell).as_simple_argv() is None, needs_shell


def test_go_run_becomes_a_build_and_the_binary():
    from dockrewrite.providers.go import go_run

    def find(tail: str):
        return go_run.find(parse(f"FROM golang:1.22\nWORKDIR /app\nCOPY . .\n{tail}\n"))

    files = find('CMD ["go", "run", "-tags", "prod", "main.go", "util.go", "-port", "80"]')
    assert files.build == "RUN go build -tags prod -o /usr/local/bin/main main.go util.go"
    assert files.command == 'CMD ["/usr/local/bin/main", "-port", "80"]'
    package = find("ENTRYPOINT go run ./cmd/api/v2")
    assert package.keyword == "ENTRYPOINT" and package.binary == "/usr/local/bin/api"
    assert find('CMD ["go", "run", "-race", "."]') is None  # needs cgo; a dev build
    assert find("CMD go run . --port $PORT") is None  # the shell expands it at start
    assert find('CMD ["go", "build", "."]') is None


def test_go_run_image_converts_with_the_command_marked_rewritten(tmp_path):
    (tmp_path / "go.mod").write_text("module example.com/x\n\ngo 1.22\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    text = "FROM golang:1.22\nWORKDIR /app\nCOPY . .\nEXPOSE 8080\nCMD go run . serve\n"
    result = convert_text(text, BuildContext(tmp_path), Options())
    assert result.status == CHANGED, result.reason
    assert 'CMD ["/usr/local/bin/app", "serve"]' in result.output
    assert "go build -trimpath" in result.output and "golang" not in result.output.split("AS runtime")[1]


def test_copy_lines_quote_what_the_shell_form_would_split_or_expand():
    from dockrewrite.providers.common import copy_text

    assert copy_text("--from=builder ", ["/src/app"], "./app") == "COPY --from=builder /src/app ./app"
    assert copy_text("", ["my assets"], "./my assets") == 'COPY ["my assets", "./my assets"]'
    assert copy_text("", ["$HOME"], "./") == 'COPY ["\\\\$HOME", "./"]'  # \\$ in JSON: a literal $ to BuildKit


def test_go_runtime_files_with_spaces_in_their_names(tmp_path):
    (tmp_path / "go.mod").write_text("module example.com/x\n\ngo 1.22\n")
    (tmp_path / "main.go").write_text('package main\n\nfunc main() { _ = "site assets" }\n')
    (tmp_path / "site assets").mkdir()
    text = 'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o /app/x .\nCMD ["/app/x"]\n'
    result = convert_text(text, BuildContext(tmp_path), Options())
    assert result.status == CHANGED, result.reason
    assert 'COPY --from=builder ["/app/site assets", "./site assets"]' in result.output
