"""Property tests: Dockerfiles generated from a grammar of real-world shapes never crash the tool;
every file ends as one Result, outputs re-parse with BuildKit's parser, and converting again changes nothing."""

from __future__ import annotations

from pathlib import Path

import dockerfile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockrewrite import source
from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED, FAILED, SKIPPED, UNCHANGED
from dockrewrite.runner import Job, run_one
from dockrewrite.transform import convert_text

IMAGES = [
    "golang:1.22",
    "golang:1.12-alpine",
    "golang",
    "python:3.11",
    "python:3.7-alpine",
    "node:20",
    "ubuntu:22.04",
    "${BASE}",
    "golang:${GO_VERSION}-alpine",
    "docker.io/library/golang:1.22@sha256:" + "a" * 64,
    "scratch",
    "python:3.12-slim-bookworm",
    "eclipse-temurin:21",
]
WORDS = [
    "./app",
    "/app/server",
    "app",
    "--port",
    "8080",
    "$PORT",
    "${VERSION}",
    "'quoted arg'",
    '"dq"',
    "-v",
    "server.py",
    "main.go",
    "requirements.txt",
    ".",
    "./...",
    "cmd/api",
    "&&",
    "||",
    ";",
    "|",
    ">",
    "2>&1",
    "\\\n  ",
    "café",
    "exit 1",
]
COMMANDS = [
    "go build -o app .",
    'go build -ldflags "-X main.v=${V}" -o /bin/svc ./cmd/svc',
    "CGO_ENABLED=1 go build",
    "go install ./...",
    "go get -d -v ./...",
    "go mod download",
    "pip install -r requirements.txt",
    "pip install --user -e .",
    "poetry install --no-root",
    "uv sync --frozen",
    "pipenv install --system",
    "apt-get update && apt-get install -y gcc libpq-dev",
    "apk add --no-cache --virtual .d gcc musl-dev",
    "npm ci",
    "python manage.py collectstatic --noinput",
    "useradd -u 1000 app",
    "cp app /usr/local/bin/",
    "cd cmd && go build -o ../app",
    "echo hi",
    "rm -rf /var/lib/apt/lists/*",
]


@st.composite
def shell_text(draw):
    parts = [draw(st.sampled_from(COMMANDS))]
    for _ in range(draw(st.integers(0, 3))):
        parts.append(draw(st.sampled_from(["&&", ";", "||", "|", "\\\n   &&", "\\\n\n &&"])))
        parts.append(draw(st.sampled_from(COMMANDS + WORDS)))
    return " ".join(parts)


@st.composite
def command_form(draw, keyword):
    kind = draw(st.sampled_from(["exec", "shell", "badjson", "empty"]))
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4))
    if kind == "exec":
        return keyword + " [" + ", ".join(f'"{w}"' for w in words if '"' not in w and "\\" not in w) + "]"
    if kind == "badjson":
        return keyword + " [" + " ".join(words) + " ]"
    if kind == "empty":
        return keyword + " []"
    return keyword + " " + " ".join(words)


@st.composite
def instruction(draw):
    kind = draw(
        st.sampled_from(
            [
                "RUN",
                "RUNX",
                "HEREDOC",
                "COPY",
                "ADD",
                "ENV",
                "ARG",
                "WORKDIR",
                "EXPOSE",
                "CMD",
                "ENTRYPOINT",
                "HEALTHCHECK",
                "USER",
                "LABEL",
                "COMMENT",
                "BLANK",
                "VOLUME",
                "STOPSIGNAL",
                "MAINTAINER",
                "ONBUILD",
                "SHELL",
            ]
        )
    )
    kw = draw(st.sampled_from([lambda k: k, str.lower, lambda k: "  " + k]))
    if kind == "RUN":
        flag = draw(st.sampled_from(["", "--mount=type=cache,target=/root/.cache "]))
        return kw("RUN") + " " + flag + draw(shell_text())
    if kind == "RUNX":
        return kw("RUN") + ' ["go", "build", "-o", "/app", "."]'
    if kind == "HEREDOC":
        return kw("RUN") + " <<EOT\n" + draw(shell_text()) + "\nEOT"
    if kind in ("COPY", "ADD"):
        flags = draw(st.sampled_from(["", "--chown=1000:1000 ", "--from=builder ", "--from=golang:1.22 "]))
        src = draw(
            st.sampled_from(
                [
                    ". .",
                    "go.mod go.sum ./",
                    "requirements.txt /app/",
                    "templates/ templates/",
                    "app /usr/bin/app",
                    '["a b", "c"]',
                    "*.go ./",
                ]
            )
        )
        return kw(kind) + " " + flags + src
    if kind == "ENV":
        return (
            kw("ENV")
            + " "
            + draw(
                st.sampled_from(
                    [
                        "A=1",
                        "PORT 8080",
                        "k = v",
                        'A="x y" B=$A',
                        "CGO_ENABLED=0",
                        "PATH=/go/bin:$PATH",
                        "GOFLAGS=-mod=vendor",
                    ]
                )
            )
        )
    if kind == "ARG":
        return kw("ARG") + " " + draw(st.sampled_from(["VERSION", "VERSION=dev", "GO_VERSION=1.22", "BASE"]))
    if kind == "WORKDIR":
        return kw("WORKDIR") + " " + draw(st.sampled_from(["/app", "src", "/go/src/github.com/x/y", "$HOME/app", "/"]))
    if kind == "EXPOSE":
        return kw("EXPOSE") + " " + draw(st.sampled_from(["8080", "80/tcp 443", "$PORT"]))
    if kind in ("CMD", "ENTRYPOINT"):
        return draw(command_form(kw(kind)))
    if kind == "HEALTHCHECK":
        return (
            kw("HEALTHCHECK")
            + " "
            + draw(
                st.sampled_from(
                    [
                        "NONE",
                        "--interval=5s CMD wget -qO- localhost || exit 1",
                        'CMD ["/app/server", "-health"]',
                        "CMD curl -f x",
                    ]
                )
            )
        )
    if kind == "USER":
        return kw("USER") + " " + draw(st.sampled_from(["app", "1000", "nobody", "root", "app:app", "$UID"]))
    if kind == "LABEL":
        return kw("LABEL") + ' version="1.0" maintainer=me'
    if kind == "COMMENT":
        return draw(st.sampled_from(["# a comment", "#", "# dockrewrite: maybe", "   # indented café"]))
    if kind == "BLANK":
        return draw(st.sampled_from(["", " ", "\t"]))
    if kind == "VOLUME":
        return kw("VOLUME") + ' ["/data"]'
    if kind == "STOPSIGNAL":
        return kw("STOPSIGNAL") + " SIGTERM"
    if kind == "MAINTAINER":
        return kw("MAINTAINER") + " someone"
    if kind == "ONBUILD":
        return kw("ONBUILD") + " RUN echo"
    return kw("SHELL") + ' ["/bin/bash", "-c"]'


SKELETONS = [
    ["FROM {go}", "WORKDIR /app", "COPY . .", "RUN go build -o {out} {pkg}", "CMD {cmd}"],
    [
        "FROM {go}",
        "WORKDIR /src",
        "COPY go.mod go.sum ./",
        "RUN go mod download",
        "COPY . .",
        'RUN CGO_ENABLED=0 go build -ldflags "-X main.v=1" -o /usr/local/bin/app .',
        'ENTRYPOINT ["app"]',
    ],
    ["FROM {go}", "WORKDIR /go/src/app", "COPY . .", "RUN go get -d -v ./... && go install -v ./...", 'CMD ["app"]'],
    [
        "FROM {py}",
        "WORKDIR /app",
        "COPY requirements.txt .",
        "RUN pip install --no-cache-dir -r requirements.txt",
        "COPY . .",
        "CMD {pycmd}",
    ],
    [
        "FROM {py}",
        "RUN apt-get update && apt-get install -y gcc libpq-dev",
        "WORKDIR /srv",
        "COPY . .",
        "RUN pip install -r requirements.txt && python manage.py collectstatic --noinput",
        "CMD {pycmd}",
    ],
    ["FROM node:20", "WORKDIR /app", "COPY package*.json ./", "RUN npm ci", "COPY . .", 'CMD ["node", "server.js"]'],
]


@st.composite
def dockerfile_text(draw):
    """A plausible single-stage file (so conversions happen), roughed up the way real files are."""
    skeleton = draw(st.sampled_from(SKELETONS))
    values = {
        "go": draw(st.sampled_from([i for i in IMAGES if "golang" in i or "$" in i])),
        "py": draw(st.sampled_from([i for i in IMAGES if "python" in i])),
        "out": draw(st.sampled_from(["app", "/app/app", "bin/", "/usr/local/bin/app"])),
        "pkg": draw(st.sampled_from([".", "./cmd/app", "main.go", ""])),
        "cmd": draw(st.sampled_from(['["./app"]', "./app --port $PORT", '["/app/app"]', '["app"]', "[./app ]"])),
        "pycmd": draw(
            st.sampled_from(['["python", "app.py"]', "gunicorn app:app -b 0.0.0.0:$PORT", '["uv", "run", "app.py"]'])
        ),
    }
    lines = [line.format(**values) for line in skeleton]
    for _ in range(draw(st.integers(0, 6))):
        lines.insert(draw(st.integers(1, len(lines))), draw(instruction()))
    if draw(st.booleans()):
        lines.insert(
            0,
            draw(
                st.sampled_from(
                    [
                        "# syntax=docker/dockerfile:1",
                        "# escape=`",
                        "# header comment",
                        "ARG GO_VERSION=1.22",
                        "ARG BASE=golang:1.22",
                        "",
                    ]
                )
            ),
        )
    if draw(st.integers(0, 9)) == 0:
        lines += [f"FROM {draw(st.sampled_from(IMAGES))}", "COPY --from=0 /app /app"]
    if draw(st.integers(0, 14)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["garbage here", "FROM", "RUN <<EOF"])))
    if draw(st.booleans()):
        lines = [line.replace(" ", " \\\n    ", 1) if draw(st.integers(0, 5)) == 0 else line for line in lines]
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


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


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(
    text=dockerfile_text(),
    runtime=st.sampled_from(["auto", "scratch", "distroless", "alpine", "slim"]),
    strategy=st.sampled_from(["auto", "prefix", "user", "venv"]),
    with_context=st.booleans(),
)
def test_convert_never_raises_and_outputs_are_sound(text, runtime, strategy, with_context, context_dir):
    ctx = BuildContext(context_dir if with_context else None)
    options = Options(runtime=runtime, python_strategy=strategy)
    result = convert_text(text, ctx, options)
    assert result.status in (CHANGED, UNCHANGED, SKIPPED, FAILED)
    if result.status in (SKIPPED, FAILED):
        assert result.reason
    # A rewrite that its own safety checks reject, or a crash, is a bug: such inputs must be skipped with a reason.
    assert not (result.reason or "").startswith(("internal error", "safety check")), result.reason
    if result.status == CHANGED:
        assert "internal error" not in (result.reason or "")
        parsed = dockerfile.parse_string(result.output)
        assert sum(1 for c in parsed if c.cmd.upper() == "FROM") >= 2
        assert convert_text(result.output, ctx, options).status == UNCHANGED
    else:
        assert result.output is None


@SETTINGS
@given(text=dockerfile_text(), crlf=st.booleans(), bom=st.booleans())
def test_bytes_in_any_layout_end_as_one_result(text, crlf, bom, tmp_path_factory, context_dir):
    data = text.replace("\n", "\r\n") if crlf else text
    raw = (b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8")
    path = tmp_path_factory.mktemp("f") / "Dockerfile"
    path.write_bytes(raw)
    result = run_one(Job(path, context_dir, Options(), write=True))
    assert result.status in (CHANGED, UNCHANGED, SKIPPED, FAILED)
    assert "internal error" not in (result.reason or ""), result.reason
    after = path.read_bytes()
    if result.status != CHANGED:
        assert after == raw  # nothing is written unless the file converted
    else:
        assert after.startswith(b"\xef\xbb\xbf") == bom
        assert (b"\r\n" in after) == crlf
        again, _ = source.decode(after)
        assert convert_text(again, BuildContext(context_dir), Options()).status == UNCHANGED
