"""verify's comparison, without an engine: which differences a rewrite means, what output counts as the
same, and which file-system side effects (recorded `docker diff` outputs) show a rewrite that cannot write."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockrewrite.intents import CommandChanged, Declared, EnvSet, UserMapped, WorkdirChanged
from dockrewrite.verify.compare import ImageFacts, compare
from dockrewrite.verify.results import CHANGED_EFFECTS, EFFECTS_DIFFER, SAME_EFFECTS
from dockrewrite.verify.smoke import compare_side_effects, parse_diff, side_effect_differences, without_npm_banner


def _facts(command: list[str]) -> ImageFacts:
    return ImageFacts("sha256:x", 1, 1, command, {}, [], "/app", "", {}, None, "", [])


def test_a_start_script_run_directly_is_intended_in_either_form():
    declared = Declared((CommandChanged("start-script", ("node", "dist/index.js")),))
    for original in (["yarn", "start"], ["/bin/sh", "-c", "yarn start"]):
        diffs = compare(_facts(original), _facts(["node", "dist/index.js"]), declared=declared)
        command = next(d for d in diffs if d.field == "command")
        assert command.intended, original


def test_a_changed_program_is_not_intended():
    diffs = compare(_facts(["/bin/sh", "-c", "yarn start"]), _facts(["node", "other.js"]))
    assert not next(d for d in diffs if d.field == "command").intended


def test_package_manager_banners_are_not_the_apps_output():
    npm = "\n> app@1.0.0 start\n> node server.js\n\nlistening on 3000\n"
    yarn = "yarn run v1.22.22\n$ node server.js\nlistening on 3000\nDone in 0.52s.\n"
    assert without_npm_banner(npm) == without_npm_banner(yarn) == "listening on 3000\n"


# --- side effects: `docker diff` of the smoke containers, recorded on the stand-ins -------------

# python:3.11-slim, an app in /app that opens SQLite next to itself, as root
SQLITE_ROOT = """\
C /usr
C /usr/local
C /usr/local/lib
C /usr/local/lib/python3.11
C /usr/local/lib/python3.11/sqlite3
C /usr/local/lib/python3.11/sqlite3/__pycache__
A /usr/local/lib/python3.11/sqlite3/__pycache__/__init__.cpython-311.pyc
A /usr/local/lib/python3.11/sqlite3/__pycache__/dbapi2.cpython-311.pyc
C /app
A /app/data.db
"""
# the same as a user that cannot write /app: nothing changed, and the app says so
SQLITE_NOBODY = ""
SQLITE_NOBODY_LOG = "error: unable to open database file\n"

# `npm start` as root in node:20, and as user node
NPM_ROOT = """\
C /root
A /root/.npm
A /root/.npm/_logs
A /root/.npm/_logs/2026-12-07T18_21_27_528Z-debug-0.log
A /root/.npm/_update-notifier-last-checked
"""
NPM_NODE = """\
C /home
C /home/node
A /home/node/.npm
A /home/node/.npm/_logs
A /home/node/.npm/_logs/2026-12-07T18_21_31_253Z-debug-0.log
A /home/node/.npm/_update-notifier-last-checked
"""


def test_parse_diff_reads_kinds_and_paths_and_skips_anything_else():
    assert parse_diff("C /app\nA /app/a b.txt\nD /etc/motd\n\nWARNING: x\n") == [
        ("C", "/app"),
        ("A", "/app/a b.txt"),
        ("D", "/etc/motd"),
    ]


def test_a_file_the_rewrite_could_not_write_is_a_changed_contract_item():
    effects = compare_side_effects(
        parse_diff(SQLITE_ROOT), parse_diff(SQLITE_NOBODY), "/app", "/app", "", SQLITE_NOBODY_LOG
    )
    assert effects.verdict == CHANGED_EFFECTS
    assert effects.original == ["A <workdir>/data.db"]  # bytecode and the folders above the file are left out
    assert effects.missing == ["A /app/data.db"]
    assert effects.evidence == "error: unable to open database file"
    (diff,) = side_effect_differences(effects)
    assert diff.field == "file /app/data.db" and not diff.intended
    assert diff.describe() == (
        "CHANGED: file /app/data.db: created -> not created (the rewrite's log: error: unable to open database file)"
    )


def test_package_manager_logs_in_either_home_are_not_side_effects():
    effects = compare_side_effects(parse_diff(NPM_ROOT), parse_diff(NPM_NODE), "/app", "/app")
    assert effects.verdict == SAME_EFFECTS and effects.original == effects.rewrite == []


def test_the_apps_folder_and_home_are_compared_by_what_is_in_them():
    orig = parse_diff("C /usr/src/app\nA /usr/src/app/cache.json\nC /root\nA /root/.myapp.conf\n")
    new = parse_diff("C /app\nA /app/cache.json\nC /home/node\nA /home/node/.myapp.conf\n")
    effects = compare_side_effects(orig, new, "/usr/src/app", "/app")
    assert effects.verdict == SAME_EFFECTS
    assert effects.original == effects.rewrite == ["A <workdir>/cache.json", "A ~/.myapp.conf"]


def test_noise_is_left_out():
    noise = """\
C /tmp
A /tmp/wgunicorn-3k2j1x
A /var/tmp/x
C /app
C /app/__pycache__
A /app/__pycache__/app.cpython-311.pyc
A /root/.cache/pip/http/1
A /.npm/_logs/x.log
A /usr/local/share/.cache/yarn/v6/x
A /go/pkg/mod/cache/x
"""
    effects = compare_side_effects(parse_diff(noise), [], "/app", "/app", "", "EACCES: permission denied")
    assert effects.verdict == SAME_EFFECTS and effects.original == []


def test_a_folder_the_rewrite_wrote_into_counts_as_made():
    effects = compare_side_effects(parse_diff("A /app/uploads"), parse_diff("C /app/uploads\nA /app/uploads/x"))
    assert effects.verdict == SAME_EFFECTS and effects.missing == []


def test_a_difference_the_log_does_not_explain_is_reported_not_failed():
    # a file named by the time or the process id differs from run to run
    effects = compare_side_effects(parse_diff("A /app/run-1.pid"), parse_diff("A /app/run-7.pid"), "/app", "/app")
    assert effects.verdict == EFFECTS_DIFFER and effects.missing == ["A /app/run-1.pid"]
    assert side_effect_differences(effects) == []
    assert "its log shows no write error" in effects.describe()


def test_an_error_both_logs_show_is_not_evidence():
    log = "warning: .env: No such file or directory\n"
    effects = compare_side_effects(parse_diff("A /app/run-1.pid"), [], "/app", "/app", log, log)
    assert effects.verdict == EFFECTS_DIFFER


def test_the_evidence_is_the_line_that_names_the_file():
    log = "npm error enoent ENOENT: no such file or directory, open '/app/.env'\n" + (
        "Error: EACCES: permission denied, open '/app/state.json'\n"
    )
    effects = compare_side_effects(parse_diff("C /app/state.json\nA /app/other"), [], "/app", "/app", "", log)
    assert effects.verdict == CHANGED_EFFECTS
    assert effects.missing == ["C /app/state.json", "A /app/other"]
    assert "state.json" in effects.evidence
    assert [d.describe().split(" (")[0] for d in side_effect_differences(effects)] == [
        "CHANGED: file /app/state.json: changed -> not changed",
        "CHANGED: file /app/other: created -> not created",
    ]


def test_an_app_inside_a_noisy_folder_is_still_compared():
    # old-style Go images keep the app in $GOPATH/src; /go is otherwise the toolchain's
    orig = parse_diff("C /go/src/app\nA /go/src/app/state.json\nA /go/pkg/mod/cache/x")
    effects = compare_side_effects(orig, [], "/go/src/app", "/app", "", "open state.json: permission denied")
    assert effects.verdict == CHANGED_EFFECTS and effects.missing == ["A /go/src/app/state.json"]


def test_a_volumes_mount_point_is_the_engines_doing():
    # go-writes: VOLUME /data, not in the original image (the engine makes the mount point), made by the rewrite
    orig = parse_diff("A /data\nC /app\nA /app/rates.db")
    effects = compare_side_effects(orig, parse_diff("C /app\nA /app/rates.db"), "/app", "/app", volumes=["/data"])
    assert effects.verdict == SAME_EFFECTS and effects.original == ["A <workdir>/rates.db"]


# --- the command line: verify checks what convert writes, and refuses bad options before any build ----------


SEED = Path(__file__).resolve().parent.parent / "fixtures" / "go" / "seed-minimal"


@pytest.fixture
def service(tmp_path: Path) -> Path:
    shutil.copytree(SEED, tmp_path / "svc", ignore=shutil.ignore_patterns("expected"))
    return tmp_path / "svc"


def _verify(monkeypatch, *args):
    """verify with the engine stubbed: returns (exit code, stderr, the Options each file was verified with)."""
    from dockrewrite import verify as v
    from dockrewrite.cli import app

    seen = {}
    monkeypatch.setattr(v, "find_docker", lambda *a, **k: None)

    def fake(path, context=None, options=None, **kwargs):
        seen[Path(path).name] = options
        return v.VerifyResult(path=str(path), context=str(context or Path(path).parent))

    monkeypatch.setattr(v, "verify_file", fake)
    result = CliRunner().invoke(app, ["verify", *[str(a) for a in args]])
    return result.exit_code, result.stderr, seen


def test_verify_reads_the_configuration_convert_reads(monkeypatch, service: Path):
    (service / ".dockrewrite.toml").write_text(
        'runtime = "alpine"\ncache-mounts = true\n[images]\n"alpine:3.20" = "mirror.example.com/alpine:3.20"\n'
    )
    code, stderr, seen = _verify(monkeypatch, service / "Dockerfile")
    assert code == 0, stderr
    options = seen["Dockerfile"]
    assert options.runtime == "alpine" and options.cache_mounts
    assert dict(options.images) == {"alpine:3.20": "mirror.example.com/alpine:3.20"}


def test_verify_takes_the_rewrite_flags(monkeypatch, service: Path):
    code, stderr, seen = _verify(
        monkeypatch, "--runtime", "scratch", "--pin", "--targets", "develop", "--no-config", service / "Dockerfile"
    )
    assert code == 0, stderr
    options = seen["Dockerfile"]
    assert options.runtime == "scratch" and options.pin and options.targets == ("develop",)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--smoke-http", "99999/x"], "port from 1 to 65535"),
        (["--smoke-http", "0/"], "port from 1 to 65535"),
        (["--report", "/missing/dir/report.md"], "does not exist"),
    ],
)
def test_bad_options_are_refused_before_any_build(monkeypatch, service: Path, args: list[str], message: str):
    code, stderr, seen = _verify(monkeypatch, *args, service / "Dockerfile")
    assert code == 2 and message in stderr
    assert seen == {}  # nothing was built


# --- the report: text and Markdown from a result, without an engine ------------------------------------------


def _result():
    from dockrewrite.verify.compare import Difference
    from dockrewrite.verify.results import SideEffects, SmokeCheck, SmokeRun, VerifyResult

    original = ImageFacts("sha256:o", 800_000_000, 9, ["go", "run", "."], {}, [], "/app", "", {}, None, "", [])
    rewrite = ImageFacts("sha256:r", 8_000_000, 3, ["/app/t"], {}, [], "/app", "65532", {}, None, "", [])
    rewrite.largest_layer, rewrite.largest_layer_size = "COPY /app/t /app/t # buildkit", 7_000_000
    missing = SideEffects(CHANGED_EFFECTS, ["A <workdir>/x.db"], [], ["A /app/x.db"], "open x.db: permission denied")
    check = SmokeCheck("run", "default command", SmokeRun("run"), SmokeRun("run"), "passed", "exit 0", missing)
    result = VerifyResult("svc/Dockerfile", "svc", status="failed", message="contract changed", runtime="scratch")
    result.original, result.rewrite, result.smoke = original, rewrite, [check]
    result.differences = [Difference("user", "(root)", "65532", True, "runs as a non-root user")]
    return result


def test_the_text_report_shows_sizes_contract_and_side_effects():
    from dockrewrite.verify.report import table

    text = table(_result())
    assert text.splitlines()[0] == "svc/Dockerfile: FAILED (scratch runtime)"
    assert "  size    800.0 MB  8.0 MB   100.0x smaller" in text
    assert "  contract: 1 differences, 1 intended" in text
    assert "    intended: user: (root) -> 65532 (runs as a non-root user)" in text
    assert "    file system: CHANGED: the rewrite did not write /app/x.db: open x.db: permission denied" in text


def test_the_markdown_report_has_one_row_a_file():
    from dockrewrite.verify.report import markdown

    rows = markdown([_result()]).splitlines()
    assert len(rows) == 3 and rows[0].startswith("| Dockerfile | runtime |")
    assert rows[2].startswith("| `svc/Dockerfile` | scratch | 800.0 MB | 8.0 MB | 100.0x | 9 -> 3 |")
    assert "| CHANGED: not written by the rewrite: `/app/x.db` | failed: contract changed |" in rows[2]


# --- what the rewrite declared: the plan's typed intents, one case a kind ------------------------------------


def _image(command=(), env=None, workdir="/app", user="") -> ImageFacts:
    return ImageFacts("sha256:x", 1, 1, list(command), dict(env or {}), [], workdir, user, {}, None, "", [])


@pytest.mark.parametrize(
    "field, orig, new, intent, reason",
    [
        (
            "command",
            _image(["npm", "start"]),
            _image(["node", "server.js"]),
            CommandChanged("start-script", ("node", "server.js")),
            "the package manager's start script",
        ),
        (
            "command",
            _image(["go", "run", "."]),
            _image(["/app/server"]),
            CommandChanged("go-run", ("/app/server",), prefix=True),
            "the program `go run` compiled at start",
        ),
        (
            "command",
            _image(["npx", "ts-node", "src/index.ts"]),
            _image(["node", "dist/index.js"]),
            CommandChanged("compiled-at-start", ("node", "dist/index.js")),
            "the program compiled or watched at every start",
        ),
        (
            "command",
            _image(["nodemon", "server.js"]),
            _image(["/nodejs/bin/node", "server.js"]),
            CommandChanged("compiled-at-start", ("node", "server.js")),
            "the program compiled or watched at every start",
        ),
        (
            "command",
            _image(["poe", "start"]),
            _image(["python", "main.py"]),
            CommandChanged("poe-task", ("python", "main.py")),
            "the command of the poe task",
        ),
        (
            "command",
            _image(["npx", "serve", "dist"]),
            _image(["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]),
            CommandChanged("static-site", ("nginx",), prefix=True),
            "static files served by nginx",
        ),
        (
            "env PATH",
            _image(env={"PATH": "/usr/local/bin:/usr/bin"}),
            _image(env={"PATH": "/venv/bin:/usr/local/bin:/usr/bin"}),
            EnvSet("PATH", "changed by the rewrite (see its notes)"),
            "changed by the rewrite",
        ),
        (
            "env PYTHONUNBUFFERED",
            _image(),
            _image(env={"PYTHONUNBUFFERED": "1"}),
            EnvSet("PYTHONUNBUFFERED", "added by the rewrite (see its notes)"),
            "added by the rewrite",
        ),
        (
            "working dir",
            _image(workdir="/app"),
            _image(workdir="/usr/share/nginx/html"),
            WorkdirChanged("/usr/share/nginx/html", "nginx's document root: the static files are served from there"),
            "nginx's document root",
        ),
        (
            "user",
            _image(user="app"),
            _image(user="1000:1000"),
            UserMapped("app", "1000:1000"),
            "the runtime image has no user of that name",
        ),
    ],
)
def test_a_declared_difference_is_intended_and_an_undeclared_one_is_not(field, orig, new, intent, reason):
    from dockrewrite.verify.compare import declared_reason

    assert declared_reason(Declared((intent,)), field, orig, new).startswith(reason)
    assert declared_reason(Declared(), field, orig, new) == ""
    (diff,) = [d for d in compare(orig, new, declared=Declared((intent,))) if d.field == field]
    assert diff.intended and diff.reason.startswith(reason)
    (diff,) = [d for d in compare(orig, new) if d.field == field]
    assert not diff.intended


@pytest.mark.parametrize(
    "field, orig, new, intent",
    [
        # an intent covers what it names, not any difference of its kind
        (
            "command",
            _image(["npm", "start"]),
            _image(["node", "other.js"]),
            CommandChanged("start-script", ("node", "server.js")),
        ),
        (
            "command",
            _image(["go", "run", "."]),
            _image(["/app/other"]),
            CommandChanged("go-run", ("/app/server",), prefix=True),
        ),
        ("env PORT", _image(), _image(env={"PORT": "80"}), EnvSet("HOSTNAME", "added by the rewrite (see its notes)")),
        ("working dir", _image(workdir="/app"), _image(workdir="/srv"), WorkdirChanged("/usr/share/nginx/html", "…")),
        ("user", _image(user="app"), _image(user="1000:1000"), UserMapped("web", "1000:1000")),
    ],
)
def test_an_intent_covers_only_the_change_it_names(field, orig, new, intent):
    (diff,) = [d for d in compare(orig, new, declared=Declared((intent,))) if d.field == field]
    assert not diff.intended
