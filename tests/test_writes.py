"""The shared rule for where the app writes and which files it loads at start (providers/writes.py), and how the
Go, Python and Node planners feed it: inline before/after cases with explicit no-op cases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dockrewrite.context import BuildContext
from dockrewrite.features.dockerignore import dockerignore_for
from dockrewrite.ops import step as Step
from dockrewrite.parse import parse
from dockrewrite.plan import Options
from dockrewrite.providers import writes
from dockrewrite.results import CHANGED
from dockrewrite.transform import convert_text


def _context(tmp_path: Path, files: dict[str, object]) -> BuildContext:
    for rel, content in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return BuildContext(tmp_path)


def _find(dockerfile: str, workdir: str = "/app", **kw) -> writes.Writes:
    return writes.find(parse(dockerfile).stages[0], workdir, workdir_reason=kw.pop("why", None), **kw)


# -- which folders ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "folder"),
    [
        ("BASE_DIR=/data", "/data"),
        ("UPLOAD_DIR=/srv/uploads", "/srv/uploads"),
        ("DB_PATH=/var/lib/app/app.db", "/var/lib/app"),  # a file: SQLite writes its folder (journal)
        ("LOG_FILE=/var/log/app/server.log", "/var/log/app"),
        ("MEDIA_ROOT=/app/media/", "/app/media"),
        ("DATA_DIR=$HOME_BASE/data", None),  # unknown at build time: a note, no folder
        ("CONFIG_PATH=/etc/app/config.yml", None),  # read, not written
        ("TEMPLATE_DIR=/app/templates", None),
        ("DATABASE_URL=postgres://db/app", None),
        ("CACHE_DIR=/tmp/cache", None),  # everyone may write /tmp already
        ("LOG_DIR=/var/log", None),  # a system folder is never given away: a note instead
        ("DATA_DIR=relative/data", None),
        ("BASE_PATH=/api", None),  # a URL prefix, not a folder
    ],
)
def test_env_named_folders(env, folder):
    found = _find(f"FROM golang:1.22\nENV {env}\nCMD x\n")
    assert found.paths == ([folder] if folder else [])


def test_volume_workdir_and_code_folders_are_merged_and_ordered():
    found = _find(
        'FROM x\nWORKDIR /app\nENV BASE_DIR=/data\nVOLUME /data /cache\nVOLUME ["/var/lib/app"]\nCMD x\n',
        why="the code writes rates.db",
        code_folders=[("/srv/out", "main.go")],
    )
    assert found.paths == ["/app", "/cache", "/data", "/srv/out", "/var/lib/app"]
    data = next(f for f in found.folders if f.path == "/data")
    assert data.why == ["ENV BASE_DIR on line 3", "VOLUME on line 4"]
    assert found.volumes == ["/data", "/cache", "/var/lib/app"]


def test_nothing_written_is_no_folder_and_no_note():
    found = _find("FROM x\nWORKDIR /app\nENV PORT=8080 GREETING=hi\nCMD x\n")
    assert found.paths == [] and writes.notes(found, "65532:65532") == []


def test_what_the_image_cannot_prepare_gets_a_note_naming_the_path_and_keep_root():
    found = _find(
        "FROM x\nENV LOG_DIR=/var/log\nVOLUME $STATE\nCMD x\n", env_reads=[("UPLOAD_DIR", "app.py")], why="writes"
    )
    notes = "\n".join(writes.notes(found, "65532:65532"))
    assert "/var/log" in notes and "$STATE" in notes and "$UPLOAD_DIR" in notes
    assert notes.count("--keep-root") == 3
    assert found.paths == ["/app"]


def test_a_variable_the_dockerfile_sets_is_no_run_time_note():
    found = _find("FROM x\nENV UPLOAD_DIR=/srv/up\nCMD x\n", env_reads=[("UPLOAD_DIR", "app.py")])
    assert found.refused == [] and found.paths == ["/srv/up"]


# -- how they are made -----------------------------------------------------------------------------------------
def test_shell_runtimes_get_one_mkdir_chown():
    assert writes.own_folders(["/app", "/my data"], "node:node") == (
        "mkdir -p /app '/my data' && chown node:node /app '/my data'"
    )


def test_shell_less_runtimes_copy_empty_folders_made_in_a_build_stage():
    paths = ["/app", "/var/lib/notes", "/var/lib/notes/uploads"]
    make = "RUN mkdir -p /writable/app /writable/var/lib/notes/uploads"  # the deepest: mkdir -p makes parents
    steps = [Step(t) for t in ("FROM golang AS builder", "WORKDIR /src", "RUN go build", "ENV A=1")]
    assert [s.text for s in writes.with_build_step(steps, paths)][-2:] == ["ENV A=1", make]
    # not next to the stage's own RUN (hadolint DL3059 asks to merge those) where it can be helped
    steps = [Step(t) for t in ("FROM golang AS builder", "WORKDIR /src", "RUN go build")]
    assert [s.text for s in writes.with_build_step(steps, paths)][1:3] == [make, "WORKDIR /src"]
    steps = [Step(t) for t in ("FROM golang AS builder", "RUN go build")]
    assert [s.text for s in writes.with_build_step(steps, paths)][-1] == make
    copies = [s.text for s in writes.copy_steps(paths, "65532:65532", "builder")]
    # a folder's copy brings the empty folders below it, owned alike
    assert copies == [
        "COPY --from=builder --chown=65532:65532 /writable/app /app",
        "COPY --from=builder --chown=65532:65532 /writable/var/lib/notes /var/lib/notes",
    ]


GO_APP = """FROM golang:1.22
WORKDIR /app
COPY . .
RUN go build -o server .
ENV BASE_DIR=/data
CMD ["./server"]
"""


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        ("auto", "COPY --from=builder --chown=65532:65532 /writable/data /data\n"),
        ("scratch", "COPY --from=builder --chown=65532:65532 /writable/data /data\n"),
        ("alpine", "RUN mkdir -p /data && chown 65532:65532 /data\n"),
    ],
)
def test_go_folder_outside_workdir(tmp_path, runtime, expected):
    ctx = _context(tmp_path, {"go.mod": "module x\n\ngo 1.22\n", "main.go": "package main\nfunc main() {}\n"})
    out = convert_text(GO_APP, ctx, Options(runtime=runtime)).output
    assert expected in out
    assert "/writable/app" not in out and "/app &&" not in out  # the code writes nothing relative


@pytest.mark.parametrize(
    ("code", "folder"),
    [
        ('sql.Open("sqlite3", "file:rates.db?cache=shared")', "/writable/app /app"),
        ('os.WriteFile("out/report.txt", b, 0o644)', "/writable/app /app"),
        ('os.OpenFile("app.log", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)', "/writable/app /app"),
        ('lumberjack.Logger{Filename: "/var/log/rates/app.log"}', "/writable/var/log/rates /var/log/rates"),
        ('os.MkdirAll("/var/lib/rates/cache", 0o755)', "/writable/var/lib/rates/cache /var/lib/rates/cache"),
        ('os.Create("/srv/out/report.txt")', "/writable/srv/out /srv/out"),
    ],
)
def test_go_code_that_writes(tmp_path, code, folder):
    main = f'package main\n\nimport (\n\t"database/sql"\n\t"os"\n)\n\nfunc main() {{\n\t{code}\n}}\n'
    ctx = _context(tmp_path, {"go.mod": "module x\n\ngo 1.22\n", "main.go": main})
    out = convert_text(GO_APP.replace("ENV BASE_DIR=/data\n", ""), ctx, Options()).output
    assert f"COPY --from=builder --chown=65532:65532 {folder}\n" in out


def test_go_keep_root_and_an_original_numeric_user_change_nothing(tmp_path):
    ctx = _context(tmp_path, {"go.mod": "module x\n\ngo 1.22\n", "main.go": "package main\nfunc main() {}\n"})
    assert "writable" not in convert_text(GO_APP, ctx, Options(keep_root=True)).output
    user = GO_APP.replace("CMD", "USER 1000\nCMD")
    assert "writable" not in convert_text(user, ctx, Options()).output


# -- files loaded at start -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "carried"),
    [
        ('import _ "github.com/joho/godotenv/autoload"', [".env"]),
        ('import "github.com/joho/godotenv"\nfunc init() { godotenv.Load() }', [".env"]),
        ('import "github.com/joho/godotenv"\nfunc init() { godotenv.Load(".env.local") }', [".env.local"]),
        ('import "os"\nfunc init() { os.Getenv("X") }', []),  # no loader: nothing carried
    ],
)
def test_go_env_files_loaded_at_start(tmp_path, code, carried):
    files = {"go.mod": "module x\n\ngo 1.22\n", "main.go": f"package main\n{code}\nfunc main() {{}}\n"}
    ctx = _context(tmp_path, {**files, ".env": "A=1\n", ".env.local": "B=2\n"})
    result = convert_text(GO_APP, ctx, Options())
    for name in (".env", ".env.local"):
        assert (f"COPY --from=builder /app/{name} ./{name}\n" in result.output) == (name in carried)
    assert result.loads == carried
    assert any("stay baked into the image" in w for w in result.warnings) == bool(carried)


def test_go_carries_a_config_file_env_names(tmp_path):
    ctx = _context(
        tmp_path,
        {"go.mod": "module x\n\ngo 1.22\n", "main.go": "package main\nfunc main() {}\n", "deploy/app.yml": "a: 1\n"},
    )
    out = convert_text(GO_APP.replace("/data", "/data CONFIG_PATH=/app/deploy/app.yml"), ctx, Options()).output
    assert "COPY --from=builder /app/deploy/app.yml ./deploy/app.yml\n" in out


def test_go_env_file_left_out_by_dockerignore_is_not_carried(tmp_path):
    code = 'package main\nimport _ "github.com/joho/godotenv/autoload"\nfunc main() {}\n'
    ctx = _context(tmp_path, {"go.mod": "module x\n", "main.go": code, ".env": "A=1\n", ".dockerignore": ".env\n"})
    result = convert_text(GO_APP, ctx, Options())
    assert ".env" not in result.output and result.loads == []


PY_APP = """FROM python:3.11
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
CMD ["python", "app.py"]
"""


@pytest.mark.parametrize(
    ("code", "loaded"),
    [
        ("from dotenv import load_dotenv\nload_dotenv()\n", [".env"]),
        ("import dotenv\ndotenv.load_dotenv('.env.production')\n", [".env.production", ".env"]),
        ("import environ\nenviron.Env.read_env()\n", [".env"]),
        (
            "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\nclass S(BaseSettings):\n"
            "    model_config = SettingsConfigDict(env_file='.env.production')\n",
            [".env.production"],
        ),
        ("import os\nprint(os.environ.get('A'))\n", []),  # reads the environment, loads no file
    ],
)
def test_python_env_files_loaded_at_start(tmp_path, code, loaded):
    ctx = _context(tmp_path, {"requirements.txt": "x\n", "app.py": code, ".env": "A=1\n", ".env.production": "A=2\n"})
    result = convert_text(PY_APP, ctx, Options())
    assert result.status == CHANGED, result.reason
    assert result.loads == loaded
    assert re.search(r"\nCOPY --chown=\d+:\d+ \. \.\n", result.output)  # the original's COPY, replayed
    ignore = dockerignore_for(parse(PY_APP), ctx, "python", result.output, keep=result.loads) or ""
    for name in loaded:
        assert name not in ignore.splitlines()


def test_python_env_file_the_original_did_not_copy_is_not_claimed(tmp_path):
    ctx = _context(tmp_path, {"requirements.txt": "x\n", "app.py": "import dotenv\n", ".env": "A=1\n"})
    text = PY_APP.replace("COPY . .", "COPY app.py .")
    result = convert_text(text, ctx, Options())
    assert result.loads == [] and not any("baked" in w for w in result.warnings)


NODE_APP = """FROM node:20
WORKDIR /app
COPY . .
RUN npm ci
CMD ["node", "server.js"]
"""


@pytest.mark.parametrize(
    ("code", "cmd", "carried"),
    [
        ("require('dotenv').config();\n", None, True),
        ("import 'dotenv/config';\n", None, True),
        ("process.loadEnvFile();\n", None, True),
        ("", '["node", "-r", "dotenv/config", "server.js"]', True),
        ("", '["node", "--env-file=.env", "server.js"]', True),
        ("console.log(process.env.A);\n", None, False),  # no loader: .env stays out, as before
    ],
)
def test_node_env_files_loaded_at_start(tmp_path, code, cmd, carried):
    files = {"package.json": {"dependencies": {"dotenv": "16"}}, "package-lock.json": "{}", "server.js": code}
    ctx = _context(tmp_path, {**files, ".env": "A=1\n"})
    text = NODE_APP.replace('["node", "server.js"]', cmd) if cmd else NODE_APP
    result = convert_text(text, ctx, Options(runtime="slim"))
    assert result.status == CHANGED, result.reason
    assert ("COPY --chown=node:node .env server.js ./" in result.output) == carried
    assert any("no longer baked" in w for w in result.warnings) != carried
    assert result.loads == ([".env"] if carried else [])


def test_node_folders_outside_the_app_folder(tmp_path):
    files = {"package.json": {}, "package-lock.json": "{}", "server.js": "const d = process.env.UPLOAD_DIR;\n"}
    ctx = _context(tmp_path, files)
    text = NODE_APP.replace("CMD", "VOLUME /data\nCMD")
    result = convert_text(text, ctx, Options(runtime="slim"))
    assert "RUN mkdir -p /app /data && chown node:node /app /data\nWORKDIR /app\n" in result.output
    assert any("$UPLOAD_DIR" in w and "--keep-root" in w for w in result.warnings)


@pytest.mark.parametrize(
    "code",
    [
        'os.OpenFile("config.yaml", os.O_RDONLY, 0)',  # opened to read
        'os.ReadFile("rates.db")',
        'os.Create(":memory:")',
    ],
)
def test_go_code_that_only_reads_owns_nothing(tmp_path, code):
    main = f'package main\n\nimport "os"\n\nfunc main() {{\n\t{code}\n}}\n'
    ctx = _context(tmp_path, {"go.mod": "module x\n\ngo 1.22\n", "main.go": main})
    out = convert_text(GO_APP.replace("ENV BASE_DIR=/data\n", ""), ctx, Options()).output
    assert "writable" not in out


def test_a_compose_bind_mount_over_a_written_folder_gets_a_note(tmp_path):
    compose = "services:\n  api:\n    build: .\n    volumes:\n      - ./data:/data\n      - cache:/cache\n"
    ctx = _context(tmp_path, {"docker-compose.yml": compose})
    found = writes.find(parse("FROM x\nVOLUME /data /cache\nCMD x\n").stages[0], "/app", workdir_reason=None, ctx=ctx)
    notes = [n for n in found.refused if "bind-mounts" in n]
    assert len(notes) == 1 and "./data over /data" in notes[0] and "--keep-root" in notes[0]


TS_APP = """FROM node:20
WORKDIR /app
COPY . .
RUN npm ci
RUN npm run build
ENV CONFIG_PATH=/app/settings.yml
CMD ["npm", "start"]
"""
TS_FILES = {
    "package.json": {
        "scripts": {"build": "tsc", "start": "node dist/index.js"},
        "devDependencies": {"typescript": "5"},
    },
    "package-lock.json": "{}",
    "tsconfig.json": {"compilerOptions": {"outDir": "dist"}},
    "src/index.ts": "console.log(1);\n",
    "settings.yml": "a: 1\n",
    "notes.yml": "b: 2\n",
}


def test_node_built_app_carries_the_config_file_env_names(tmp_path):
    out = convert_text(TS_APP, _context(tmp_path, TS_FILES), Options(runtime="slim")).output
    assert "COPY --from=builder --chown=node:node /app/settings.yml ./settings.yml" in out
    assert "notes.yml" not in out  # named by nothing


# -- issue 11: writes the Go code names less directly -----------------------------------------------------------
def _go_out(tmp_path: Path, main: str, extra: dict[str, str] | None = None) -> str:
    ctx = _context(tmp_path, {"go.mod": "module x\n\ngo 1.22\n", "main.go": main, **(extra or {})})
    return convert_text(GO_APP.replace("ENV BASE_DIR=/data\n", ""), ctx, Options()).output


@pytest.mark.parametrize(
    "code",
    [
        'const dbPath = ".db"\n\nfunc main() { badger.Open(badger.DefaultOptions(dbPath)) }',
        'var file = "links.bolt"\n\nfunc main() { bolt.Open(file, 0o600, nil) }',
        'var file string = "links.bolt"\n\nfunc main() { bbolt.Open(file, 0o600, nil) }',
        'const (\n\tport = ":80"\n\tdir = "state"\n)\n\nfunc main() { pebble.Open(dir, nil) }',
        'const dir = "./kv"\n\nfunc main() { leveldb.OpenFile(dir, nil) }',
        'const dsn = "app.db"\n\nfunc main() { sql.Open("sqlite3", dsn) }',
        'const file = "links.db"\n\nfunc main() { storm.Open(file) }',
        'func main() { buntdb.Open("data.db") }',
        'func main() { w, _ := oggwriter.New("out.ogg", 48000, 2); w.Close() }',
        'func main() { w, _ := ivfwriter.New("./rec/out.ivf"); w.WriteRTP(nil) }',
    ],
)
def test_go_relative_writes_through_names_and_library_writers(tmp_path, code):
    out = _go_out(tmp_path, f"package main\n\n{code}\n")
    assert "COPY --from=builder --chown=65532:65532 /writable/app /app\n" in out


def test_go_path_const_in_another_file_of_the_package(tmp_path):
    out = _go_out(
        tmp_path,
        "package main\n\nfunc main() { badger.Open(badger.DefaultOptions(storeDir)) }\n",
        {"paths.go": 'package main\n\nconst storeDir = "/var/lib/links"\n'},
    )
    assert "COPY --from=builder --chown=65532:65532 /writable/var/lib/links /var/lib/links\n" in out
    assert "/writable/app" not in out


@pytest.mark.parametrize(
    "code",
    [
        "func main() { badger.Open(badger.DefaultOptions(dir)) }",  # a name with no literal behind it
        "func main() { r, _ := oggreader.NewWith(f); _ = r }",  # reads, names no file
        'func main() { buntdb.Open(":memory:") }',
        'func main() { t := strings.NewReader("out.ogg"); _ = t }',  # a data-file name, nothing closed or written
    ],
)
def test_go_names_and_writers_that_write_nothing_relative(tmp_path, code):
    assert "writable" not in _go_out(tmp_path, f"package main\n\n{code}\n")


def test_go_committed_file_the_code_writes_is_carried_owned(tmp_path):
    main = 'package main\n\nfunc main() { w, _ := ivfwriter.New("rec.ivf"); defer w.Close() }\n'
    out = _go_out(tmp_path, main, {"rec.ivf": "x\n", "notes.ivf": "x\n"})
    assert "COPY --from=builder --chown=65532:65532 /app/rec.ivf ./rec.ivf\n" in out


def test_go_sqlite_file_inside_a_carried_folder_owns_the_folder(tmp_path):
    main = 'package main\n\nfunc main() { sql.Open("sqlite3", "./static/forum.db") }\n'
    out = _go_out(tmp_path, main, {"static/forum.db": "x\n", "static/app.css": "x\n", "templates/a.html": "x\n"})
    assert "COPY --from=builder --chown=65532:65532 /app/static ./static\n" in out
    assert "COPY --from=builder /app/templates ./templates\n" in out  # read only: root's, as before


@pytest.mark.parametrize(
    "tag",
    ['`env:"FILES_DIR" envDefault:"./files"`', '`envconfig:"FILES_DIR" default:"./files"`', '`default:"files"`'],
)
def test_go_folder_named_by_a_struct_tag_default_is_carried(tmp_path, tag):
    main = f"package main\n\ntype config struct {{\n\tFiles string {tag}\n}}\n\nfunc main() {{}}\n"
    out = _go_out(tmp_path, main, {"files/a.txt": "x\n", "other/b.txt": "x\n"})
    assert "COPY --from=builder /app/files ./files\n" in out
    assert "/app/other" not in out


# -- issue 11: env files a built Node app loads ------------------------------------------------------------------
NEST_APP = """FROM node:20
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
CMD ["node", "dist/main"]
"""
NEST_PKG = {"scripts": {"build": "nest build"}, "dependencies": {"@nestjs/config": "3"}}


@pytest.mark.parametrize(
    ("module", "carried"),
    [
        ("ConfigModule.forRoot()", [".env"]),
        ("ConfigModule.forRoot({ isGlobal: true })", [".env"]),
        ("ConfigModule.forRoot({ envFilePath: ['.env.local', '.env'] })", [".env.local", ".env"]),
        ("ConfigModule.forRoot({ envFilePath: '.env.production' })", [".env.production"]),
        ("ConfigModule.forRoot({ ignoreEnvFile: true })", []),
        ("ConfigModule", []),  # imported, never set up: no file read
    ],
)
def test_node_nest_config_module_env_files(tmp_path, module, carried):
    module_ts = f"import {{ ConfigModule }} from '@nestjs/config';\nexport const imports = [{module}];\n"
    files = {"package.json": NEST_PKG, "package-lock.json": "{}", "src/main.ts": "import './app.module';\n"}
    files.update({"src/app.module.ts": module_ts, ".env": "A=1\n", ".env.local": "B=1\n", ".env.production": "C=1\n"})
    result = convert_text(NEST_APP, _context(tmp_path, files), Options(runtime="slim"))
    assert result.status == CHANGED, result.reason
    assert result.loads == carried
    for name in (".env", ".env.local", ".env.production"):
        assert (f"COPY --from=builder --chown=node:node /app/{name} ./{name}\n" in result.output) == (name in carried)
    notes = [w for w in result.warnings if "stay baked into the image" in w]
    assert bool(notes) == bool(carried)
    assert all("the compiled app reads it from the working directory, /app" in n for n in notes)


def test_node_nest_env_file_the_dockerignore_leaves_out_is_not_carried(tmp_path):
    module_ts = "import { ConfigModule } from '@nestjs/config';\nConfigModule.forRoot();\n"
    files = {"package.json": NEST_PKG, "package-lock.json": "{}", "src/app.module.ts": module_ts}
    ctx = _context(tmp_path, {**files, ".env": "A=1\n", ".dockerignore": ".env\n"})
    result = convert_text(NEST_APP, ctx, Options())
    assert result.loads == [] and ".env" not in result.output


def test_node_built_app_sources_tests_are_not_read(tmp_path):
    spec = "import 'dotenv/config';\n"
    files = {"package.json": NEST_PKG, "package-lock.json": "{}", "src/app.spec.ts": spec, ".env": "A=1\n"}
    result = convert_text(NEST_APP, _context(tmp_path, files), Options())
    assert result.loads == []


NEXT_APP = """FROM node:20
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
CMD ["npm", "start"]
"""


@pytest.mark.parametrize("standalone", [False, True])
def test_node_next_start_env_files(tmp_path, standalone):
    pkg = {"scripts": {"build": "next build", "start": "next start"}, "dependencies": {"next": "14.2.3"}}
    files = {"package.json": pkg, "package-lock.json": "{}", ".env.local": "A=1\n", ".env.development": "B=1\n"}
    if standalone:
        files["next.config.js"] = "module.exports = { output: 'standalone' };\n"
    result = convert_text(NEXT_APP, _context(tmp_path, files), Options())
    assert result.status == CHANGED, result.reason
    # the standalone server is not `next start`: what it loads is left as it was
    assert result.loads == ([] if standalone else [".env.local"])
    assert ("COPY --from=builder --chown=node:node /app/.env.local ./.env.local\n" in result.output) != standalone
    assert ".env.development" not in result.output  # next start reads the production files only


def test_a_compose_bind_mount_inside_a_written_folder_is_named(tmp_path: Path):
    from typer.testing import CliRunner

    from dockrewrite.cli import app

    (tmp_path / "go.mod").write_text("module bot\n\ngo 1.22\n\nrequire github.com/dgraph-io/badger/v4 v4.2.0\n")
    (tmp_path / "main.go").write_text(
        'package main\n\nimport "github.com/dgraph-io/badger/v4"\n\nconst dbPath = ".db"\n\n'
        "func main() { db, _ := badger.Open(badger.DefaultOptions(dbPath)); db.Close() }\n"
    )
    (tmp_path / "Dockerfile").write_text(
        'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o bot .\nCMD ["./bot"]\n'
    )
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  bot:\n    build: .\n    volumes:\n      - ./.db:/app/.db\n      - ./conf:/app/conf:ro\n"
    )
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "Dockerfile")])
    notes = [line for line in result.stderr.splitlines() if "bind-mounts" in line]
    assert len(notes) == 1 and "./.db over /app/.db" in notes[0] and "--keep-root" in notes[0]


# -- folders configuration files name -------------------------------------------------------------------------
COPY_ALL = "FROM x\nWORKDIR /app\nCOPY . .\nCMD x\n"
GIN_INI = """[app]
PageSize = 10
PrefixUrl = http://127.0.0.1:8000
RuntimeRootPath = runtime/
ImageSavePath = upload/images/
LogSavePath = logs/
LogSaveName = log
FontSavePath = fonts/

[database]
Host = 127.0.0.1:3306
Name = blog
"""


def _config(tmp_path: Path, files: dict[str, object], dockerfile: str = COPY_ALL) -> writes.Writes:
    ctx = _context(tmp_path, files)
    return writes.find(parse(dockerfile).stages[0], "/app", workdir_reason=None, ctx=ctx)


def test_a_root_and_its_sub_paths_in_one_ini_section_are_joined_from_the_working_directory(tmp_path):
    found = _config(tmp_path, {"conf/app.ini": GIN_INI})
    # FontSavePath names fonts the app reads; LogSaveName and the database's Name are no folders
    assert found.paths == ["/app/runtime", "/app/runtime/logs", "/app/runtime/upload/images"]
    logs = next(f for f in found.folders if f.path == "/app/runtime/logs")
    assert logs.why == ["RuntimeRootPath + LogSavePath in conf/app.ini, lines 4 and 6"]
    note = writes.notes(found, "65532:65532")[0]
    assert "/app/runtime (RuntimeRootPath in conf/app.ini on line 4)" in note


def test_a_sub_path_the_context_holds_outside_the_root_is_taken_as_it_is(tmp_path):
    ini = "[paths]\nDataRoot = var/\nUploadDir = uploads\n"
    found = _config(tmp_path, {"app.ini": ini, "uploads/.keep": ""})
    assert found.paths == ["/app/uploads", "/app/var"]


@pytest.mark.parametrize(
    ("ini", "folders"),
    [
        # the sub-path already starts with the root: not joined twice
        ("RuntimeRootPath = runtime/\nLogSavePath = runtime/logs/\n", ["/app/runtime", "/app/runtime/logs"]),
        # two roots in one section: which one a sub-path hangs from is unknown, so it is taken as it is
        ("DataRoot = var/\nCacheRoot = cache/\nLogDir = logs/\n", ["/app/cache", "/app/logs", "/app/var"]),
        # a root in another section joins nothing here
        ("[a]\nDataRoot = var/\n[b]\nLogDir = logs/\n", ["/app/logs", "/app/var"]),
    ],
)
def test_when_sub_paths_are_not_joined_to_a_root(tmp_path, ini, folders):
    assert _config(tmp_path, {"app.ini": ini}).paths == folders


@pytest.mark.parametrize(
    ("name", "text", "folders"),
    [
        (".env", 'UPLOAD_DIR="uploads/"\nexport CACHE_PATH=./cache/\nPORT=8000\n', ["/app/cache", "/app/uploads"]),
        ("config/settings.toml", '[storage]\npath = "data/files/"  # kept\n', ["/app/data/files"]),
        ("config/app.properties", "logging.file.path=logs/\nserver.port=8080\n", ["/app/logs"]),
        (
            "config.yaml",
            "storage:\n  root: ./var/\n  uploads: uploads/\nlog:\n  file: logs/app.log\n",
            ["/app/logs", "/app/var", "/app/var/uploads"],
        ),
        ("config/default.json", {"log": {"dir": "logs/"}, "port": 3000}, ["/app/logs"]),
        ("config/prod/app.yml", "data_dir: /app/state/\n", ["/app/state"]),  # WORKDIR-absolute
        ("settings.ini", "[db]\nsqlite_path = db/app.sqlite3\n", ["/app/db"]),  # a file: its folder
    ],
)
def test_formats(tmp_path, name, text, folders):
    assert _config(tmp_path, {name: text}).paths == folders


@pytest.mark.parametrize(
    "text",
    [
        "template_dir = templates/\n",  # a place the app reads: giving it away only widens what it may change
        "TemplateDir = views/\nstatic_root = assets/\ncert_path = certs/\n",
        "root = ./public/\n",  # the folder's name says it is served, not written
        "data_dir = .\nlog_dir = ./\n",  # never the whole app folder
        "log_dir = ../logs/\ndata_dir = /var/lib/app/\n",  # never outside the app
        "data_dir = data\n",  # no trailing slash and no such folder: not plainly a folder
        "log_dir = ${LOG_DIR}/\nstorage = s3://bucket/x/\ncache_dir = ~/cache/\n",  # known only at run time
        "LogLevel = debug\ncache = redis\nHost = 127.0.0.1:3306\n",
        "base_path = api/v1/\n",  # a URL prefix
    ],
)
def test_keys_and_values_that_name_no_folder_to_write(tmp_path, text):
    assert _config(tmp_path, {"app.ini": text, "templates/x.html": "", "public/i.html": ""}).paths == []


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("tsconfig.json", {"compilerOptions": {"outDir": "./out/", "rootDir": "src/"}}),
        ("pyproject.toml", '[tool.mypy]\ncache_dir = ".mypy_cache/"\n'),
        ("docker-compose.yml", "services:\n  app:\n    volumes:\n      - data_dir: data/\n"),
        ("deploy.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n    path: data/\n"),
        (".air.toml", '[build]\ntmp_dir = "tmp/"\n'),  # hidden files other than .env are not read
        ("docs/app.ini", "log_dir = logs/\n"),  # not a configuration folder
    ],
)
def test_tool_and_platform_files_are_not_read(tmp_path, name, text):
    assert _config(tmp_path, {name: text}).paths == []


def test_a_configuration_file_the_original_did_not_copy_names_nothing(tmp_path):
    dockerfile = "FROM x\nWORKDIR /app\nCOPY main.go .\nCMD x\n"
    assert _config(tmp_path, {"conf/app.ini": "log_dir = logs/\n"}, dockerfile).paths == []
    dockerfile = "FROM x\nWORKDIR /app\nCOPY conf ./conf\nCMD x\n"
    assert _config(tmp_path, {"conf/app.ini": "log_dir = logs/\n"}, dockerfile).paths == ["/app/logs"]


def test_a_file_left_out_by_dockerignore_or_too_large_is_not_read(tmp_path):
    files = {"conf/app.ini": "log_dir = logs/\n", ".dockerignore": "conf/app.ini\n"}
    assert _config(tmp_path, files).paths == []
    big = "log_dir = logs/\n" + "# padding\n" * 7000
    assert _config(tmp_path / "big", {"app.ini": big}).paths == []


def test_python_and_node_apps_get_the_folder_a_config_file_names(tmp_path):
    py = {"requirements.txt": "flask\n", "app.py": "print(1)\n", "config.yaml": "log_dir: logs/\n"}
    result = convert_text(PY_APP, _context(tmp_path / "py", py), Options())
    assert result.status == CHANGED and "/app/logs" in result.output
    assert any("log_dir in config.yaml on line 1" in w for w in result.warnings)
    node = {"package.json": {}, "package-lock.json": "{}", "server.js": "1;\n", ".env": "UPLOAD_DIR=uploads/\n"}
    result = convert_text(NODE_APP, _context(tmp_path / "node", node), Options())
    assert result.status == CHANGED and "/app/uploads" in result.output


# -- compose mounts over a written path ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("volumes", "said"),
    [
        ('["./data:/app/data"]', "bind-mounts the host path ./data over /app/data"),
        (
            "[{type: bind, source: ./queries.db, target: /app/data/queries.db}]",
            "bind-mounts the host path ./queries.db over /app/data/queries.db",
        ),
        ('["data:/app"]', "mounts the named volume data over /app"),
        ("[{type: volume, source: data, target: /app/data}]", "mounts the named volume data over /app/data"),
        ('["./data:/app/data:ro"]', None),  # read-only: not written through it
        ("[{type: bind, source: ./conf, target: /app/conf, read_only: true}]", None),
        ('["/app/node_modules"]', None),  # anonymous: a fresh volume every time
        ('["./logs:/var/log/other"]', None),  # not over anything the app writes
    ],
)
def test_compose_mounts_over_a_written_path_are_named(tmp_path, volumes, said):
    """Short and long syntax; a host path keeps the host's owner, and a named volume the original (root) filled
    keeps root's files, so the runtime user cannot write either without a chown."""
    ctx = _context(tmp_path, {"docker-compose.yml": f"services:\n  app:\n    build: .\n    volumes: {volumes}\n"})
    found = _find("FROM python:3.12\nWORKDIR /app\nRUN mkdir /app/data\n", ctx=ctx)
    notes = [n for n in found.refused if "compose" in n]
    if said is None:
        assert notes == []
    else:
        assert len(notes) == 1 and said in notes[0] and "--keep-root" in notes[0]


def test_a_compose_service_running_another_image_is_not_this_ones_mount(tmp_path):
    compose = "services:\n  dev:\n    image: node:latest\n    volumes: ['.:/app']\n"
    ctx = _context(tmp_path, {"docker-compose.yml": compose})
    found = _find("FROM node:20\nWORKDIR /app\nRUN mkdir /app/data\n", ctx=ctx)
    assert not [n for n in found.refused if "compose" in n]


def test_a_compose_service_running_the_apps_pushed_image_is_read(tmp_path):
    compose = "services:\n  web:\n    image: someone/app:1.0.2\n    volumes: ['static:/app/data']\n"
    ctx = _context(tmp_path, {"docker-compose.yml": compose})
    found = _find("FROM python:3.12\nWORKDIR /app\nRUN mkdir /app/data\n", ctx=ctx)
    assert [n for n in found.refused if "named volume static over /app/data" in n]
