"""Python cases from issue 11: dev-only commands, the interpreter, installs that resolve, uv images, chains."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.providers.python import deps
from dockrewrite.providers.python.install import tidy_connectors
from dockrewrite.providers.python.pyproject import read_toml
from dockrewrite.providers.python.runtime import uv_python_image
from dockrewrite.results import CHANGED, SKIPPED
from dockrewrite.transform import convert_text

_PYPROJECT = """[project]
name = "svc"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["flask>=3"]
"""


def _write(tmp_path: Path, files: dict[str, str]) -> BuildContext:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return BuildContext(tmp_path)


def _run(tmp_path: Path, dockerfile: str, files: dict[str, str] | None = None, **options):
    ctx = _write(tmp_path, files if files is not None else {"pyproject.toml": _PYPROJECT})
    return convert_text(dockerfile, ctx, Options(**options))


def _runtime_stage(output: str) -> str:
    return output.rsplit("\nFROM ", 1)[1]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("pip install -r a.txt \\\n    && ", "pip install -r a.txt"),
        ("pip install -r a.txt && \\\n    ", "pip install -r a.txt"),
        (" && \\\n    pip install -r a.txt", "pip install -r a.txt"),
        ("a && \\\n     && \\\n    b", "a && \\\n    b"),
        ("a \\\n    &&  \\\n    && b", "a \\\n    && b"),
    ],
)
def test_tidy_connectors_leaves_no_dangling_continuation(before, after):
    assert tidy_connectors(before) == after


def test_chained_split_requirements_leave_a_valid_run(tmp_path: Path):
    files = {"requirements.txt": "flask\n", "requirements-dev.txt": "pytest\n"}
    result = _run(
        tmp_path,
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install -r requirements.txt \\\n    && pip install -r requirements-dev.txt\n"
        'CMD ["python", "app.py"]\n',
        files,
    )
    assert result.status == CHANGED, result.reason
    assert "RUN pip install --no-cache-dir -r requirements.txt\n" in result.output


@pytest.mark.parametrize(
    ("image", "python"),
    [
        ("ghcr.io/astral-sh/uv:python3.12-bookworm-slim", "python:3.12-slim-bookworm"),
        ("ghcr.io/astral-sh/uv:python3.13-bookworm", "python:3.13-bookworm"),
        ("ghcr.io/astral-sh/uv:0.5.11-python3.11-bookworm-slim", "python:3.11-slim-bookworm"),
        ("ghcr.io/astral-sh/uv:python3.12-alpine", "python:3.12-alpine"),
        ("ghcr.io/astral-sh/uv:python3.12-trixie-slim@sha256:" + "a" * 64, "python:3.12-slim-trixie"),
        ("ghcr.io/astral-sh/uv:0.5", None),
        ("ghcr.io/astral-sh/uv:bookworm-slim", None),
        ("python:3.12", None),
    ],
)
def test_uv_images_are_the_python_image_they_are_built_on(image, python):
    assert uv_python_image(image) == python


def test_uv_image_runtime_is_its_python_image(tmp_path: Path):
    result = _run(
        tmp_path,
        "FROM ghcr.io/astral-sh/uv:python3.12-alpine\nWORKDIR /app\nCOPY . .\nRUN uv sync --no-dev\n"
        'CMD ["python", "-m", "svc"]\n',
    )
    assert result.status == CHANGED, result.reason
    assert "FROM ghcr.io/astral-sh/uv:python3.12-alpine AS builder" in result.output
    assert _runtime_stage(result.output).startswith("python:3.12-alpine AS runtime")
    assert "/usr/local/bin/uv" not in result.output


def test_uv_image_command_calling_uv_gets_uv(tmp_path: Path):
    result = _run(
        tmp_path,
        "FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync --no-dev\n"
        'CMD ["uvx", "--from", "httpie", "http", "example.org"]\n',
    )
    assert result.status == CHANGED, result.reason
    runtime = _runtime_stage(result.output)
    assert "COPY --from=builder /usr/local/bin/uv /usr/local/bin/uvx /usr/local/bin/" in runtime


def test_uv_image_without_python_or_command_is_skipped(tmp_path: Path):
    bare = _run(tmp_path, 'FROM ghcr.io/astral-sh/uv:bookworm-slim\nCOPY . .\nRUN uv sync\nCMD ["python", "a.py"]\n')
    assert bare.status == SKIPPED and "no Python of its own" in bare.reason
    no_cmd = _run(tmp_path, "FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\nCOPY . .\nRUN uv sync\n")
    assert no_cmd.status == SKIPPED and "runs uv by default" in no_cmd.reason


def test_entrypoint_reset_is_carried(tmp_path: Path):
    result = _run(
        tmp_path,
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync --no-dev\nENTRYPOINT []\n"
        'CMD ["uv", "run", "python", "main.py"]\n',
    )
    assert result.status == CHANGED, result.reason
    assert _runtime_stage(result.output).endswith('ENTRYPOINT []\nCMD ["python", "main.py"]\n')


# -- 4. the interpreter the app was installed for ---------------------------------------------------------------

_UV = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen --no-dev\nCMD ["python", "-m", "svc"]\n'


@pytest.mark.parametrize(
    ("spec", "version", "admits"),
    [
        (">=3.12", (3, 11), False),
        (">=3.12", (3, 12), True),
        (">=3.12.4", (3, 12), True),  # a floating tag has the latest patch release
        (">3.11", (3, 11), True),
        ("<3.12", (3, 12), False),
        ("<3.12.1", (3, 12), True),
        ("==3.11.*", (3, 12), False),
        ("~=3.10", (3, 13), True),
        ("~=3.10", (4, 0), False),
        (">=3.9, <3.12", (3, 12), False),
        ("!=3.11.*", (3, 11), False),
        ("!=3.11.2", (3, 11), True),
        ("^3.11", (3, 11), None),  # Poetry syntax is not a PEP 440 specifier
    ],
)
def test_admits_python(spec, version, admits):
    assert deps.admits_python(spec, version) is admits


def test_python_version_file():
    assert deps.python_version_file("# pinned\n3.13.1\n") == (3, 13)
    assert deps.python_version_file("cpython@3.12\n") == (3, 12)
    assert deps.python_version_file("pypy3.10\n") is None


def test_uv_python_download_is_carried_to_the_runtime(tmp_path: Path):
    files = {"pyproject.toml": _PYPROJECT.replace(">=3.11", ">=3.13")}
    result = _run(tmp_path, _UV, files)
    assert result.status == CHANGED, result.reason
    assert 'ENV UV_PYTHON_INSTALL_DIR=/opt/uv-python VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"' in result.output
    assert "python -m venv" not in result.output  # uv makes the venv with the Python it installs
    runtime = _runtime_stage(result.output)
    assert "COPY --from=builder /opt/uv-python /opt/uv-python\nCOPY --from=builder /opt/venv /opt/venv" in runtime
    assert any("requires-python is >=3.13" in w and "not the app's" in w for w in result.warnings)
    assert not any("same interpreter" in w for w in result.warnings)


def test_uv_python_that_fits_the_image_changes_nothing(tmp_path: Path):
    fits = _run(tmp_path, _UV, {"pyproject.toml": _PYPROJECT, ".python-version": "3.12\n"})
    assert fits.status == CHANGED and "uv-python" not in fits.output and "RUN python -m venv /opt/venv" in fits.output
    other = _run(tmp_path, _UV, {"pyproject.toml": _PYPROJECT, ".python-version": "3.11\n"})
    assert "COPY --from=builder /opt/uv-python /opt/uv-python" in other.output


def test_uv_python_download_on_distroless_is_skipped(tmp_path: Path):
    # distroless gets the image's own Python (3.12): a project it fits converts, one asking for more is skipped
    fits = _run(tmp_path, _UV, {"pyproject.toml": _PYPROJECT.replace(">=3.11", ">=3.12")}, runtime="distroless")
    assert fits.status == CHANGED, fits.reason
    newer = _run(tmp_path, _UV, {"pyproject.toml": _PYPROJECT.replace(">=3.11", ">=3.13")}, runtime="distroless")
    assert newer.status == SKIPPED and "the image's Python 3.12" in newer.reason


# -- 5. installs that still resolve ---------------------------------------------------------------------------

_LOCK = """version = 1
requires-python = ">=3.11"

[[package]]
name = "svc"
version = "1.0"
source = {{ virtual = "." }}
dependencies = [{deps}]

[package.metadata]
requires-dist = [{dist}]
"""


def _uv_lock(deps_: str = '{ name = "flask" }', dist: str = '{ name = "flask", specifier = ">=3" }') -> str:
    return _LOCK.format(deps=deps_, dist=dist)


def test_uv_lock_disagreement():

    project = read_toml(_PYPROJECT)
    assert deps.uv_lock_disagreement(project, read_toml(_uv_lock())) == []
    assert deps.uv_lock_disagreement(project, read_toml(_uv_lock("", ""))) == ["flask"]
    stale_spec = read_toml(_uv_lock(dist='{ name = "flask", specifier = ">=2" }'))
    assert deps.uv_lock_disagreement(project, stale_spec) == ["flask>=3"]
    stale_python = read_toml(_uv_lock().replace('requires-python = ">=3.11"', 'requires-python = ">=3.10"'))
    assert deps.uv_lock_disagreement(project, stale_python) == ["requires-python >=3.11 (the lock has >=3.10)"]


def test_uv_sync_gets_locked_only_when_the_lock_agrees(tmp_path: Path):
    dockerfile = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync --no-dev\nCMD ["python", "-m", "svc"]\n'
    agrees = _run(tmp_path, dockerfile, {"pyproject.toml": _PYPROJECT, "uv.lock": _uv_lock()})
    assert "uv sync --locked --no-dev" in agrees.output
    stale = _run(tmp_path, dockerfile, {"pyproject.toml": _PYPROJECT, "uv.lock": _uv_lock("", "")})
    assert "UV_PROJECT_ENVIRONMENT=/opt/venv uv sync --no-dev\n" in stale.output
    assert any("does not record flask" in w and "re-resolves" in w for w in stale.warnings)
    locked = _run(tmp_path, dockerfile.replace("--no-dev", "--locked --no-dev"))
    assert any("fails, in the original too" in w for w in locked.warnings)


def _poetry_pyproject(extra: str = "") -> str:
    return (
        '[tool.poetry]\nname = "svc"\nversion = "1.0"\n\n[tool.poetry.dependencies]\npython = "^3.11"\n'
        f'flask = "^3.0"\n{extra}\n[tool.poetry.group.dev.dependencies]\npytest = "^8"\n'
    )


def test_poetry_content_hash_as_poetry_computes_it():
    import hashlib
    import json

    legacy = read_toml(_poetry_pyproject())
    poetry = legacy["tool"]["poetry"]
    relevant = {k: poetry.get(k) for k in ("dependencies", "source", "extras", "dev-dependencies", "group")}
    expected = hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()
    assert deps.poetry_content_hashes(legacy) == {expected}
    pep621 = read_toml(_PYPROJECT + '\n[dependency-groups]\ndev = ["pytest"]\n')
    with_groups = {
        "project": {"requires-python": ">=3.11", "dependencies": ["flask>=3"]},
        "dependency-groups": {"dev": ["pytest"]},
        "tool": {"poetry": {}},
    }
    without_groups = {"project": with_groups["project"], "tool": {"poetry": {}}}
    assert deps.poetry_content_hashes(pep621) == {
        hashlib.sha256(json.dumps(c, sort_keys=True).encode()).hexdigest() for c in (with_groups, without_groups)
    }
    lock = f'[metadata]\ncontent-hash = "{expected}"\n'
    assert deps.poetry_lock_fresh(legacy, lock) is True
    assert deps.poetry_lock_fresh(read_toml(_poetry_pyproject('alembic = "^1"\n')), lock) is False
    assert deps.poetry_lock_fresh(legacy, "[metadata]\n") is None


def _poetry(tmp_path: Path, install: str, pin: str, pyproject: str | None = None, stale: bool = False):

    text = pyproject or _poetry_pyproject()
    digest = sorted(deps.poetry_content_hashes(read_toml(_poetry_pyproject() if stale else text)))[0]
    files = {"pyproject.toml": text, "poetry.lock": f'[metadata]\ncontent-hash = "{digest}"\n'}
    if stale:
        files["pyproject.toml"] = _poetry_pyproject('alembic = "^1"\n')
    dockerfile = (
        f"FROM python:3.11\n{pin}WORKDIR /app\nCOPY . .\n"
        f'RUN poetry config virtualenvs.create false && {install}\nCMD ["python", "-m", "svc"]\n'
    )
    return _run(tmp_path, dockerfile, files)


@pytest.mark.parametrize(
    ("pin", "after"),
    [
        ("RUN pip install poetry\n", "poetry install --without dev --no-root"),  # unpinned: the latest, 2.x
        ('RUN pip install "poetry==2.0.1"\n', "poetry install --without dev --no-root"),
        ("ENV POETRY_VERSION=1.8.3\nRUN pip install poetry==$POETRY_VERSION\n", "poetry install --no-dev --no-root"),
        ('RUN pip install "poetry<2"\n', "poetry install --no-dev --no-root"),
    ],
)
def test_poetry_no_dev_follows_the_pinned_poetry(tmp_path: Path, pin, after):
    result = _poetry(tmp_path, "poetry install --no-dev --no-root", pin)
    assert result.status == CHANGED, result.reason
    assert after in result.output


def test_poetry_stale_lock_keeps_the_original_install(tmp_path: Path):
    result = _poetry(tmp_path, "poetry install --no-root", 'RUN pip install "poetry==1.8.3"\n', stale=True)
    assert "&& poetry install --no-root\n" in result.output
    assert any("content-hash does not match" in w for w in result.warnings)
    fresh = _poetry(tmp_path, "poetry install --no-root", 'RUN pip install "poetry==1.8.3"\n')
    assert "&& poetry install --without dev --no-root\n" in fresh.output


# -- 3. commands that run dev-group programs ---------------------------------------------------------------------

_POE = """[tool.poetry]
name = "svc"
version = "1.0"

[tool.poetry.dependencies]
python = "^3.11"
uvicorn = "^0.30"

[tool.poetry.group.dev.dependencies]
poethepoet = "^0.29"
watchfiles = "^0.24"

[tool.poe.tasks]
{tasks}
"""


def _poe(tmp_path: Path, tasks: str, cmd: str, files: dict[str, str] | None = None):
    dockerfile = (
        'FROM python:3.11\nRUN pip install "poetry==1.8.3"\nWORKDIR /app\nCOPY pyproject.toml ./\n'
        "RUN poetry config virtualenvs.create false && poetry install --no-root\nCOPY svc ./svc\n"
        f"CMD {cmd}\n"
    )
    return _run(tmp_path, dockerfile, {"pyproject.toml": _POE.format(tasks=tasks), **(files or {})})


@pytest.mark.parametrize(
    ("tasks", "cmd", "after"),
    [
        ('start = "uvicorn svc:app"', '["poe", "start"]', 'CMD ["uvicorn", "svc:app"]'),
        ('start = "uvicorn svc:app"', '["poe", "start", "--port", "80"]', 'CMD ["uvicorn", "svc:app", "--port", "80"]'),
        ('start = { cmd = "uvicorn svc:app" }', "poetry run poe start", 'CMD ["uvicorn", "svc:app"]'),
        ('start = { shell = "uvicorn svc:app || exit 3" }', '["poe", "start"]', "CMD uvicorn svc:app || exit 3"),
        (
            'start = { cmd = "uvicorn svc:app" }',
            '["python", "-m", "poethepoet", "start"]',
            'CMD ["uvicorn", "svc:app"]',
        ),
    ],
)
def test_poe_task_resolved_to_what_it_runs(tmp_path: Path, tasks, cmd, after):
    result = _poe(tmp_path, tasks, cmd)
    assert result.status == CHANGED, result.reason
    assert _runtime_stage(result.output).endswith(after + "\n")
    assert "poetry install --without dev --no-root" in result.output
    assert "pyproject.toml /app/pyproject.toml" not in result.output


@pytest.mark.parametrize(
    ("tasks", "cmd", "why"),
    [
        ('start = { cmd = "uvicorn svc:app", env = { PORT = "80" } }', '["poe", "start"]', "a task with cmd, env"),
        ('start = ["lint", "serve"]', '["poe", "start"]', "a sequence task"),
        ('start = "uvicorn $APP"', '["poe", "start"]', "variable or glob expansion"),
        ('other = "x"', '["poe", "start"]', "not a task"),
    ],
)
def test_poe_task_that_cannot_be_resolved_keeps_the_dev_group(tmp_path: Path, tasks, cmd, why):
    result = _poe(tmp_path, tasks, cmd)
    assert result.status == CHANGED, result.reason
    assert "poetry install --no-root\n" in result.output
    assert _runtime_stage(result.output).endswith(f"CMD {cmd}\n")
    assert "COPY --from=builder /app/pyproject.toml /app/pyproject.toml" in result.output  # poe reads it
    assert any(why in w and "keeps the dev group" in w for w in result.warnings)


def test_resolved_poe_task_running_a_dev_program_keeps_the_dev_group(tmp_path: Path):
    result = _poe(tmp_path, 'dev = "watchfiles svc.main"', '["poe", "dev"]')
    assert "poetry install --no-root\n" in result.output
    assert any("runs `watchfiles`" in w for w in result.warnings)


def test_make_target_running_a_dev_program_keeps_the_dev_group(tmp_path: Path):
    makefile = "run:\n\t@watchfiles svc.main\n\ntest:\n\tpytest\n"
    result = _poe(tmp_path, 'x = "y"', '["make", "run"]', {"Makefile": makefile})
    assert "poetry install --no-root\n" in result.output
    assert any("make target `run` runs `watchfiles`" in w for w in result.warnings)


def test_uv_dev_group_program_in_cmd_keeps_uv_dev(tmp_path: Path):
    pyproject = _PYPROJECT + '\n[dependency-groups]\ndev = ["watchfiles>=0.24"]\n'
    dockerfile = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen\nCMD ["watchfiles", "svc.main"]\n'
    result = _run(tmp_path, dockerfile, {"pyproject.toml": pyproject})
    assert "uv sync --frozen\n" in result.output and "--no-dev" not in result.output
    plain = _run(tmp_path, dockerfile.replace('["watchfiles", "svc.main"]', '["python", "-m", "svc"]'))
    assert "uv sync --no-dev --frozen" in plain.output


# -- 9. -dev packages the table does not know --------------------------------------------------------------------

_GSL = (
    "FROM python:3.11\nRUN apt-get update && apt-get install -y gcc libgsl-dev\nWORKDIR /app\nCOPY . .\n"
    "RUN pip install -r requirements.txt\n"
    'CMD ["python", "app.py"]\n'
)


def test_common_dev_packages_have_runtime_packages():
    from dockrewrite import syslibs

    needed, unknown = syslibs.runtime_packages(["libmariadbclient-dev", "libkrb5-dev", "libpq-dev"], "debian")
    assert needed == ["libmariadb3", "libkrb5-3", "libgssapi-krb5-2", "libpq5"] and unknown == []


def test_unknown_dev_package_lists_the_linked_libraries(tmp_path: Path):
    result = _run(tmp_path, _GSL, {"requirements.txt": "pygsl\n"}, runtime="slim")
    assert result.status == CHANGED, result.reason
    builder, runtime = result.output.split("\nFROM python:3.11-slim AS runtime\n")
    assert "RUN find /install -name '*.so*' -type f -exec ldd {} +" in builder
    assert "> /tmp/linked-packages.txt\n\n# Runtime" in builder
    assert "COPY --from=builder /tmp/linked-packages.txt /tmp/linked-packages.txt" in runtime
    assert "apt-get install -y --no-install-recommends $(cat /tmp/linked-packages.txt)" in runtime


def test_unknown_dev_package_without_apt_in_the_runtime_is_skipped(tmp_path: Path):
    # alpine only: on distroless the builder's ldd step carries the libraries (tests/test_python_distroless.py)
    dockerfile = _GSL.replace("python:3.11", "python:3.11-alpine").replace(
        "apt-get update && apt-get install -y", "apk add"
    )
    result = _run(tmp_path, dockerfile, {"requirements.txt": "pygsl\n"})
    assert result.status == SKIPPED and "no known runtime package for libgsl-dev" in result.reason


@pytest.mark.parametrize(
    ("pin", "run", "after"),
    [
        (
            "",
            "poetry lock --no-update && poetry install --remove-untracked --no-root",
            "RUN poetry lock && poetry install --without dev --sync --no-root",
        ),
        ("", "poetry lock --check", "RUN poetry check --lock"),
        (
            "==1.8.3",
            "poetry lock --no-update && poetry install --remove-untracked --no-root",
            "RUN poetry lock --no-update && poetry install --without dev --remove-untracked --no-root",
        ),
    ],
)
def test_options_poetry_2_removed_follow_the_pinned_poetry(tmp_path: Path, pin, run, after):
    dockerfile = (
        f'FROM python:3.11\nRUN pip install "poetry{pin}"\nWORKDIR /app\nCOPY . .\n'
        f"RUN poetry install --only main --no-root\n{'RUN ' + run if 'check' in run else ''}\n"
        'CMD ["python", "-m", "svc"]\n'
    )
    if "check" not in run:
        dockerfile = dockerfile.replace("RUN poetry install --only main --no-root\n", f"RUN {run}\n")
    result = _run(tmp_path, dockerfile, {"pyproject.toml": _poetry_pyproject()})
    assert result.status == CHANGED, result.reason
    assert after + "\n" in result.output


def test_verify_reads_a_resolved_poe_task_as_intended():
    from dockrewrite.verify.compare import ImageFacts, compare

    def facts(command: list[str]) -> ImageFacts:
        return ImageFacts("sha256:x", 1, 1, command, {}, [], "/app", "", {}, None, "", [])

    from dockrewrite.intents import CommandChanged, Declared

    declared = Declared((CommandChanged("poe-task", ("python", "main.py")),))
    (diff,) = [d for d in compare(facts(["poe", "-q", "start"]), facts(["python", "main.py"]), declared=declared)]
    assert diff.field == "command" and diff.intended
    (other,) = compare(facts(["poe", "start"]), facts(["python", "other.py"]), declared=declared)
    assert not other.intended
