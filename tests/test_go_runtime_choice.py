"""`--runtime auto` for a static Go binary: scratch when the whole program is read and needs nothing scratch lacks,
distroless static otherwise, with the reason; a base asked for by name is kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockrewrite.cli import app

runner = CliRunner()

DOCKERFILE = """\
FROM golang:1.22
WORKDIR /app
COPY . .
RUN go build -o /app/server .
EXPOSE 8080
CMD ["/app/server"]
"""
SERVER = """\
package main

import (
	"fmt"
	"net/http"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	_ = http.ListenAndServe(":8080", nil)
}
"""
STATIC = "gcr.io/distroless/static-debian12:nonroot"


def _project(tmp_path: Path, main: str = SERVER, dockerfile: str = DOCKERFILE, go_mod: str = "") -> Path:
    (tmp_path / "go.mod").write_text("module example.com/server\n\ngo 1.22\n" + go_mod)
    (tmp_path / "main.go").write_text(main)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return tmp_path


def _convert(project: Path, *options: str) -> tuple[str, dict]:
    """(the rewrite, its JSON report entry)."""
    out = project / "Dockerfile.multi"
    result = runner.invoke(app, ["convert", "-o", str(out), "--format", "json", *options, str(project / "Dockerfile")])
    assert result.exit_code == 0, result.output
    return out.read_text(), json.loads(result.stdout)["files"][0]


def _runtime_from(text: str) -> str:
    return next(line for line in text.splitlines() if line.endswith(" AS runtime"))


def _notes(entry: dict, code: str) -> list[str]:
    return [n["message"] for n in entry["notes"] if n["code"] == code]


def test_a_server_that_needs_nothing_from_the_base_runs_on_scratch(tmp_path):
    text, entry = _convert(_project(tmp_path))
    assert _runtime_from(text) == "FROM scratch AS runtime"
    assert (
        "# Runtime: scratch: a static binary that needs no CA certificates, time zone data, users, /tmp or /etc files"
        in text
    )
    # nothing copied in for a need the binary does not have, the non-root user stays numeric
    assert "ca-certificates" not in text and "zoneinfo" not in text
    assert "USER 65532:65532" in text.splitlines()
    assert entry["runtime"] == "scratch" and not _notes(entry, "DR605")


@pytest.mark.parametrize(
    ("code", "need"),
    [
        ('_, _ = http.Get("https://example.com")', "CA certificates (main.go: http.Get may reach https addresses)"),
        ("c := &http.Client{}; _ = c", "CA certificates (main.go: http.Client may reach https addresses)"),
        ('_, _ = time.LoadLocation("Europe/Paris")', "time zone data (main.go: time.LoadLocation)"),
        ("_, _ = os.UserHomeDir()", "a user entry in /etc/passwd and its home folder (main.go: os.UserHomeDir)"),
        ('_, _ = os.CreateTemp("", "x")', "a /tmp folder (main.go: os.CreateTemp)"),
        ('var r *http.Request; _, _, _ = r.FormFile("f")', "a /tmp folder (main.go: FormFile)"),
        (
            'http.Handle("/s/", http.FileServer(http.Dir("static")))',
            "system files (main.go: http.FileServer names file types from /etc/mime.types)",
        ),
        ('_, _ = os.ReadFile("/etc/app.conf")', "system files (main.go names /etc/app.conf)"),
    ],
)
def test_a_need_scratch_lacks_keeps_distroless_and_is_named(tmp_path, code, need):
    main = (
        'package main\n\nimport (\n\t"net/http"\n\t"os"\n\t"time"\n)\n\n'
        "var _ = os.Args\nvar _ = time.Second\n\n"
        f'func main() {{\n\t{code}\n\t_ = http.ListenAndServe(":8080", nil)\n}}\n'
    )
    text, entry = _convert(_project(tmp_path, main))
    assert _runtime_from(text) == f"FROM {STATIC} AS runtime"
    assert _notes(entry, "DR605") == [f"runtime distroless static rather than scratch: the program needs {need}"]


@pytest.mark.parametrize(
    ("change", "need"),
    [
        (
            lambda d: d.replace("CMD", "RUN useradd -u 1001 app\nUSER app\nCMD"),
            "a user entry in /etc/passwd and its home folder (USER app (line 7) names a user)",
        ),
        (lambda d: d.replace("CMD", "ENV TZ=Europe/Paris\nCMD"), "time zone data (ENV TZ or ZONEINFO)"),
    ],
)
def test_the_dockerfile_can_ask_for_what_scratch_lacks(tmp_path, change, need):
    text, entry = _convert(_project(tmp_path, dockerfile=change(DOCKERFILE)))
    assert _runtime_from(text) == f"FROM {STATIC} AS runtime"
    assert _notes(entry, "DR605") == [f"runtime distroless static rather than scratch: the program needs {need}"]


def test_code_the_analysis_cannot_read_keeps_distroless_without_a_note(tmp_path):
    # a module dependency could do TLS, load zones or use /tmp: no claim about it, and no note on every such app
    text, entry = _convert(_project(tmp_path, go_mod="\nrequire github.com/google/uuid v1.6.0\n"))
    assert _runtime_from(text) == f"FROM {STATIC} AS runtime"
    assert not _notes(entry, "DR605")


def test_a_requirement_in_a_nested_module_counts(tmp_path):
    project = _project(tmp_path)
    (project / "go.mod").unlink()
    (project / "cmd").mkdir()
    (project / "main.go").rename(project / "cmd" / "main.go")
    (project / "cmd" / "go.mod").write_text(
        "module example.com/cmd\n\ngo 1.22\n\nrequire (\n\tgithub.com/google/go-github/v60 v60.0.0\n)\n"
    )
    dockerfile = (
        'FROM golang:1.21\nWORKDIR /build\nENV GOBIN=/bin\nCOPY ./cmd .\nRUN go install ./...\nENTRYPOINT ["cmd"]\n'
    )
    (project / "Dockerfile").write_text(dockerfile)
    text, _ = _convert(project)
    assert _runtime_from(text) == f"FROM {STATIC} AS runtime"


@pytest.mark.parametrize(
    "dockerfile",
    [
        DOCKERFILE.replace("COPY . .", "COPY . .\nRUN go generate ./..."),
        DOCKERFILE.replace("COPY . .", "RUN git clone https://example.com/x.git ."),
        'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go install github.com/acme/tool@v1.2.3\nCMD ["tool"]\n',
    ],
)
def test_code_fetched_or_generated_while_building_keeps_distroless(tmp_path, dockerfile):
    text, _ = _convert(_project(tmp_path, dockerfile=dockerfile))
    assert _runtime_from(text) == f"FROM {STATIC} AS runtime"


def test_an_import_from_outside_the_module_keeps_distroless(tmp_path):
    main = SERVER.replace('"net/http"', '"net/http"\n\t"golang.org/x/net/http2"').replace(
        "func main() {", "var _ = http2.ClientPreface\n\nfunc main() {"
    )
    text, entry = _convert(_project(tmp_path, main))
    assert _runtime_from(text) == f"FROM {STATIC} AS runtime"
    assert not _notes(entry, "DR605")


def test_a_base_asked_for_by_name_is_kept(tmp_path):
    project = _project(tmp_path)
    text, _ = _convert(project, "--runtime", "distroless")
    assert _runtime_from(text) == f"FROM {STATIC} AS runtime"
    text, _ = _convert(project, "--runtime", "scratch")
    assert _runtime_from(text) == "FROM scratch AS runtime"
    # as before: scratch asked for gets the CA roots a net/http program may use, and the plain note
    assert "COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/" in text
    assert "# Runtime: scratch: an empty image holding only the static binary and the files it reads" in text


CGO_DOCKERFILE = """\
FROM golang:1.22-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends {dev} && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN CGO_ENABLED=1 go build -o /app/server .
CMD ["/app/server"]
"""


@pytest.mark.parametrize("dev", ["libsqlite3-dev", "libfrobnicate-dev"])
def test_a_cgo_binary_gets_the_libraries_it_links_gathered_by_the_loader(tmp_path, dev):
    """No table: a -dev package dockrewrite does not know converts too, since the loader finds what is linked."""
    text, entry = _convert(_project(tmp_path, dockerfile=CGO_DOCKERFILE.format(dev=dev)))
    assert _runtime_from(text) == "FROM gcr.io/distroless/base-debian12:nonroot AS runtime"
    builder, runtime = text.split(" AS runtime", 1)
    assert "loader=$(ldd /app/server | awk" in builder and "VERSION_CODENAME=bookworm" in builder
    assert "COPY --from=builder /runtime-libs/ /" in runtime and "apt-get" not in runtime
    assert _notes(entry, "DR602")


def test_a_cgo_binary_whose_commands_need_tools_stays_on_slim_with_the_tables_packages(tmp_path):
    dockerfile = CGO_DOCKERFILE.format(dev="libsqlite3-dev").replace(
        'CMD ["/app/server"]', 'HEALTHCHECK CMD curl -f http://localhost:8080/ || exit 1\nCMD ["/app/server"]'
    )
    text, _ = _convert(_project(tmp_path, dockerfile=dockerfile))
    assert _runtime_from(text) == "FROM debian:bookworm-slim AS runtime"
    assert "libsqlite3-0" in text and "/runtime-libs" not in text


def test_an_unknown_dev_package_on_slim_is_still_refused(tmp_path):
    project = _project(tmp_path, dockerfile=CGO_DOCKERFILE.format(dev="libfrobnicate-dev"))
    result = runner.invoke(app, ["convert", "--runtime", "slim", "-o", "-", str(project / "Dockerfile")])
    assert result.exit_code != 0 or "skipped" in result.output
    assert "no known runtime package for libfrobnicate-dev" in result.output
