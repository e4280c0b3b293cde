"""The go provider reads the original once into frozen facts, and the planner decides from them."""

from __future__ import annotations

import dataclasses

import pytest

from dockrewrite.context import BuildContext
from dockrewrite.parse import parse
from dockrewrite.plan import Options
from dockrewrite.providers.go import GoProvider
from dockrewrite.providers.go import runtime as runtimes
from dockrewrite.providers.go.plan import GoPlanner
from dockrewrite.runtimes.select import runtime

DOCKERFILE = """\
FROM golang:1.22-bookworm
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN apt-get update && apt-get install -y libsqlite3-dev
RUN useradd -u 1001 app
RUN CGO_ENABLED=1 go build -o /out/server ./cmd/server
USER app
HEALTHCHECK CMD ["/out/server", "-check"]
CMD ["/out/server"]
"""


def _context(tmp_path):
    (tmp_path / "go.mod").write_text(
        "module example.com/shop\n\ngo 1.22\n\nrequire github.com/mattn/go-sqlite3 v1.14.22\n"
    )
    (tmp_path / "go.sum").write_text("")
    (tmp_path / "cmd" / "server").mkdir(parents=True)
    (tmp_path / "cmd" / "server" / "main.go").write_text(
        'package main\n\nimport "net/http"\n\nfunc main() { _ = http.ListenAndServe(":8080", nil) }\n'
    )
    return BuildContext(tmp_path)


def test_the_facts_say_what_the_original_builds_runs_and_installs(tmp_path):
    planner = GoPlanner(parse(DOCKERFILE), _context(tmp_path), Options())
    facts = planner._analyse()
    assert facts.golang_image and facts.family == "bookworm" and facts.go_minor == 22
    assert facts.workdir == "/src" and facts.env["GOPATH"] == "/go"
    assert facts.main.output == "/out/server" and facts.main.cgo == "1"
    assert facts.cgo and facts.cgo_reason.startswith("CGO_ENABLED=1")
    assert facts.manifests_copied and facts.downloads and facts.context_root == "/src"
    assert [names for _ins, _manager, names in facts.packages] == [["libsqlite3-dev"]]
    assert dict(facts.users) == {"app": "1001"} and facts.user.args == ("app",)
    assert facts.cmd is not None and facts.entrypoint is None and facts.healthcheck is not None
    assert "/out/server" in facts.command_words and "-check" in facts.command_words
    assert facts.script is None and not facts.needed
    assert facts.sources.needs_certs and facts.sqlite_module == "mattn/go-sqlite3"
    assert facts.has_go_mod and facts.has_go_sum and not facts.vendored
    assert facts.binary_for("/out/server") is facts.main and facts.binary_for("server") is None


def test_the_facts_are_frozen(tmp_path):
    facts = GoPlanner(parse(DOCKERFILE), _context(tmp_path), Options())._analyse()
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.workdir = "/elsewhere"  # type: ignore[misc]
    with pytest.raises(TypeError):
        facts.env["GOPATH"] = "/elsewhere"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.main.output = "/elsewhere"  # type: ignore[misc]


def test_the_original_is_read_once_per_plan(tmp_path, monkeypatch):
    calls = []
    analyse = GoPlanner._analyse

    def counted(self):
        calls.append(self)
        return analyse(self)

    monkeypatch.setattr(GoPlanner, "_analyse", counted)
    plan = GoProvider().plan(parse(DOCKERFILE), _context(tmp_path), Options())
    assert plan.runtime == "distroless" and len(calls) == 1


def test_what_the_runtime_base_provides():
    assert runtime("alpine").shell and runtime("slim").shell
    assert not runtime("distroless").shell and not runtime("scratch").shell
    assert runtimes.nobody_user(runtime("scratch")) == "USER 65534:65534"
    assert runtimes.nobody_user(runtime("slim")) is None
    assert runtimes.on_path("/usr/local/bin") and not runtimes.on_path("/go/bin")
    line, note = runtimes.default_user()
    assert line == "USER 65532:65532" and "65532" in note


@pytest.mark.parametrize(
    ("image", "files", "noted"),
    [
        ("golang:1.22", {"go.mod": "module a\n\ngo 1.22\n\nrequire github.com/gin-gonic/gin v1.9.1\n"}, True),
        ("golang:1.22", {"go.mod": "module a\n\ngo 1.22\n\nrequire github.com/x/y v1.0.0\n", "go.sum": "x\n"}, False),
        ("golang:1.22", {"go.mod": "module a\n\ngo 1.22\n"}, False),  # the standard library needs no go.sum
        ("golang:1.15", {"go.mod": "module a\n\ngo 1.15\n\nrequire github.com/x/y v1.0.0\n"}, False),
    ],
)
def test_a_module_build_without_go_sum_is_named(tmp_path, image, files, noted):
    from dockrewrite.results import CHANGED
    from dockrewrite.transform import convert_text

    for name, text in {"main.go": "package main\n\nfunc main() {}\n", **files}.items():
        (tmp_path / name).write_text(text)
    dockerfile = f'FROM {image}\nWORKDIR /app\nCOPY . .\nRUN go build -o app .\nCMD ["./app"]\n'
    result = convert_text(dockerfile, BuildContext(tmp_path), Options(), "Dockerfile")
    assert result.status == CHANGED, result.reason
    notes = [w for w in result.warnings if "no go.sum" in w]
    assert bool(notes) is noted
    assert all(getattr(w, "code", None) == "DR403" for w in notes)


@pytest.mark.parametrize(
    ("code", "relative"),
    [
        ("f, _ := os.Create(fn)", "main.go: os.Create(fn), a name known only at run time"),
        ("os.WriteFile(filepath.Join(dir, name), b, 0o644)", "os.WriteFile(filepath.Join(dir"),
        ("os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)", "os.OpenFile(logPath)"),
        ("os.Create(filepath.Join(os.TempDir(), name))", None),  # the temporary folder is everyone's
        ('os.Create("/var/lib/app/" + name)', None),  # absolute: its folder, not the working one
        ("os.OpenFile(path, os.O_RDONLY, 0)", None),  # read only
    ],
)
def test_a_file_written_under_a_run_time_name_makes_the_working_folder_written(code, relative):
    """The original's root could create it wherever a relative name put it: the working folder must stay writable."""
    from dockrewrite.providers.go import sources

    src = sources.GoSources()
    sources._scan_writes(src, "main.go", f"package main\n\nfunc save() {{\n\t{code}\n}}\n")
    if relative is None:
        assert src.writes_relative is None
    else:
        assert src.writes_relative is not None and relative in src.writes_relative


def test_a_const_named_file_is_read_as_its_literal():
    from dockrewrite.providers.go import sources

    src = sources.GoSources()
    sources._scan_writes(
        src, "main.go", 'package main\n\nconst dbFile = "data/app.db"\n\nfunc f() { os.Create(dbFile) }\n'
    )
    assert src.written == ["data/app.db"] and "dbFile" in src.writes_relative
