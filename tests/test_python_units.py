"""Python pieces with inline before/after cases: pip rewrites, requirement files, setup.py, imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.providers.python import deps
from dockrewrite.providers.python import source as python_source
from dockrewrite.results import CHANGED, SKIPPED
from dockrewrite.transform import convert_text


@pytest.mark.parametrize(
    ("strategy", "before", "after"),
    [
        (
            "prefix",
            "pip install -r requirements.txt",
            "pip install --prefix=/install --no-cache-dir -r requirements.txt",
        ),
        ("prefix", "pip install --user --no-cache-dir -e .", "pip install --prefix=/install --no-cache-dir ."),
        ("user", "pip3 install -r req.txt", "pip3 install --user --no-cache-dir -r req.txt"),
        ("venv", "python -m pip install --no-cache-dir flask", "python -m pip install --no-cache-dir flask"),
    ],
)
def test_rewrite_pip(strategy, before, after):
    assert deps.rewrite_pip(before, strategy) == after


def test_classify_segments():
    kinds = [
        s.kind
        for s in deps.classify(
            "apt-get update && apt-get install -y gcc && pip install -r r.txt && python manage.py migrate "
            "&& rm -rf /var/lib/apt/lists/* && poetry config virtualenvs.create false"
        )
    ]
    assert kinds == ["system", "system", "pip", "app", "neutral", "tool"]


def test_tool_only_installs_stay_out_of_the_runtime():
    assert deps.tool_only_install(["pip", "install", "--upgrade", "pip", "wheel", "poetry==1.8"])
    assert not deps.tool_only_install(["pip", "install", "wheel", "flask"])
    assert not deps.tool_only_install(["pip", "install", "-r", "requirements.txt"])


def test_requirement_files_follow_includes(tmp_path: Path):
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "base.txt").write_text("Django==5.0  # web\n-c constraints.txt\n")
    (tmp_path / "requirements" / "prod.txt").write_text("-r base.txt\ngunicorn[gevent]>=22\n# comment\n")
    names = deps.requirement_names(BuildContext(tmp_path), "requirements/prod.txt")
    assert names == ["django", "gunicorn"]


def test_drop_requirement_files():
    text = "pip install --no-cache-dir -r requirements.txt -r requirements.dev.txt"
    assert (
        deps.drop_requirement_files(text, ["requirements.dev.txt"]) == "pip install --no-cache-dir -r requirements.txt"
    )
    assert deps.drop_requirement_files("pip install -r requirements.dev.txt", ["./requirements.dev.txt"]) is None


def test_read_setup_py_without_running_it():
    info = python_source.read_setup_py(
        "import os\nfrom setuptools import setup\nos.system('rm -rf /')\n"
        "setup(name='x', install_requires=['requests>=2', 'jinja2'], extras_require={'dev': ['pytest']},\n"
        "      entry_points={'console_scripts': ['x-cli = x.main:run']}, python_requires='>=3.8')\n"
    )
    assert info.install_requires == ["requests>=2", "jinja2"]
    assert info.extras == {"dev": ["pytest"]}
    assert info.console_scripts == ["x-cli"]
    assert info.python_requires == ">=3.8"
    assert python_source.read_setup_py("def broken(:\n") is None


def test_import_scan_warns_about_missing_and_unused(tmp_path: Path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "main.py").write_text("import os\nimport yaml\nfrom app import util\nimport requests\n")
    (tmp_path / "app" / "util.py").write_text("from . import main\n")
    imported = python_source.imports(BuildContext(tmp_path))
    assert imported == {"yaml": "app/main.py", "requests": "app/main.py"}
    warnings = python_source.import_warnings(imported, ["requests", "numpy", "gunicorn"])
    assert any("imports yaml (app/main.py)" in w for w in warnings)
    assert any("carries numpy" in w for w in warnings)
    assert not any("gunicorn" in w for w in warnings)
    assert python_source.import_warnings(imported, ["PyYAML", "requests"]) == []


def _convert(text: str, tmp_path: Path, **options) -> object:
    (tmp_path / "requirements.txt").write_text("flask\n")
    return convert_text(text, BuildContext(tmp_path), Options(**options))


def test_python_no_op_and_refusals(tmp_path: Path):
    no_install = _convert('FROM python:3.11\nCOPY . .\nCMD ["python", "app.py"]\n', tmp_path)
    assert no_install.status == SKIPPED and "nothing to build separately" in no_install.reason
    musl = _convert(
        'FROM python:3.11\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["python", "a.py"]\n',
        tmp_path,
        runtime="alpine",
    )
    assert musl.status == SKIPPED and "musl" in musl.reason


def test_python_keep_root_and_pipe_refusal(tmp_path: Path):
    root = _convert(
        'FROM python:3.11\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["python", "a.py"]\n',
        tmp_path,
        keep_root=True,
    )
    assert root.status == CHANGED and "USER" not in root.output and "useradd" not in root.output
    piped = _convert(
        "FROM python:3.11\nCOPY . .\nRUN pip install -r requirements.txt | tee log && python x.py\n"
        'CMD ["python", "a.py"]\n',
        tmp_path,
    )
    assert piped.status == SKIPPED and "split it" in piped.reason


def test_venv_without_pip_only_where_the_images_pip_can_fill_it(tmp_path: Path):
    def venv(text: str) -> str:
        result = _convert(text, tmp_path, python_strategy="venv")
        assert result.status == CHANGED, result.reason
        return result.output

    lean = venv(
        "FROM python:3.11\nCOPY . .\nRUN pip install --upgrade pip\nRUN pip install -r requirements.txt\n"
        'CMD ["python", "a.py"]\n'
    )
    assert "RUN python -m venv --without-pip /opt/venv" in lean and "PIP_PYTHON=/opt/venv/bin/python" in lean
    # a pinned patch release may carry a pip older than 22.3, which ignores PIP_PYTHON
    pinned = venv('FROM python:3.10.4\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["python", "a.py"]\n')
    assert "--without-pip" not in pinned and "PIP_PYTHON" not in pinned
    # `python -m pip` would run the virtualenv's python, which then has no pip
    module = venv('FROM python:3.11\nCOPY . .\nRUN python -m pip install -r requirements.txt\nCMD ["python", "a.py"]\n')
    assert "--without-pip" not in module
    # upgrading pip in the same RUN would put pip into the virtualenv after all
    same_run = venv(
        "FROM python:3.11\nCOPY . .\nRUN pip install --upgrade pip && pip install -r requirements.txt\n"
        'CMD ["python", "a.py"]\n'
    )
    assert "--without-pip" not in same_run


def test_poetry_install_leaves_the_dev_group_out(tmp_path: Path):
    (tmp_path / "poetry.lock").write_text("")
    dockerfile = (
        "FROM python:3.11\n{pin}WORKDIR /app\nCOPY . .\nRUN poetry config virtualenvs.create false && poetry install\n"
        'CMD ["python", "a.py"]\n'
    )

    def convert(pyproject: str, pin: str = 'RUN pip install "poetry==1.8.3"\n'):
        (tmp_path / "pyproject.toml").write_text(pyproject)
        return _convert(dockerfile.format(pin=pin), tmp_path)

    grouped = convert("[tool.poetry.group.dev.dependencies]\npytest = '*'\n")
    assert "&& poetry install --without dev\n" in grouped.output
    old = convert(
        "[tool.poetry.dev-dependencies]\npytest = '*'\n", pin="ENV POETRY_VERSION=1.1.15\nRUN pip install poetry\n"
    )
    assert "poetry install --no-dev" in old.output  # before groups (1.2) the flag was --no-dev
    floating = convert("[tool.poetry.group.dev.dependencies]\npytest = '*'\n", pin="RUN pip install poetry\n")
    assert "poetry install --without dev" in floating.output
    assert any("1.2+ is assumed" in w for w in floating.warnings)
    no_dev = convert("[tool.poetry.dependencies]\npython = '^3.11'\n")
    assert "poetry install\n" in no_dev.output and "--without" not in no_dev.output


def test_the_unprivileged_user_owns_the_app_folder(tmp_path: Path):
    result = _convert(
        'FROM python:3.11\nWORKDIR /srv/app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["python", "a.py"]\n',
        tmp_path,
        runtime="slim",
    )
    assert "&& mkdir -p /srv/app && chown app:app /srv/app" in result.output
    assert "COPY --chown=10001:10001 . ." in result.output
    assert "COPY --from=builder /install /usr/local" in result.output  # packages stay root's
    in_root = _convert(
        'FROM python:3.11\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["python", "a.py"]\n',
        tmp_path,
        runtime="slim",
    )
    assert "USER" not in in_root.output and any("copied into / with no WORKDIR" in w for w in in_root.warnings)


def test_pip_general_options_and_requirements_that_install_the_sources(tmp_path: Path):
    early = _convert(
        "FROM python:3.11\nCOPY . .\nRUN pip3 --no-cache-dir --timeout 60 install -r requirements.txt\n"
        'CMD ["python", "a.py"]\n',
        tmp_path,
    )
    assert early.status == CHANGED, early.reason
    assert deps.is_pip(["pip", "--disable-pip-version-check", "install", "x"]) == 2
    assert deps.is_pip(["pip", "--cache-dir", "/c", "download", "x"]) == -1
    (tmp_path / "requirements.txt").write_text("flask\n-e .\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    local = convert_text(
        'FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["x"]\n',
        BuildContext(tmp_path),
        Options(),
    )
    assert local.status == CHANGED, local.reason
    builder = local.output.split("AS runtime", 1)[0]
    assert "COPY . ." in builder and "COPY requirements.txt" not in builder  # pip needs the package next to it


def test_import_notes_follow_copied_requirements_poetry_and_framework_dependencies(tmp_path: Path):
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "requirements.txt").write_text("fastapi\ndjango-filter\n")
    (tmp_path / "service" / "config.py").write_text("X = 1\n")
    (tmp_path / "service" / "main.py").write_text(
        "import config\nimport django_filters\nfrom fastapi import FastAPI\nfrom starlette.requests import Request\n"
    )
    result = convert_text(
        "FROM python:3.11\nWORKDIR /srv\nCOPY service/requirements.txt .\nRUN pip install -r requirements.txt\n"
        'COPY service .\nCMD ["python", "main.py"]\n',
        BuildContext(tmp_path),
        Options(),
    )
    assert result.status == CHANGED, result.reason
    assert not any("the code imports" in w for w in result.warnings), result.warnings

    poetry = tmp_path / "poetry"
    poetry.mkdir()
    (poetry / "pyproject.toml").write_text("[tool.poetry.dependencies]\npython = '^3.11'\nhttpx = '*'\n")
    (poetry / "poetry.lock").write_text("")
    (poetry / "main.py").write_text("import httpx\nimport yaml\n")
    result = convert_text(
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install poetry && poetry install --only main\n"
        'CMD ["python", "main.py"]\n',
        BuildContext(poetry),
        Options(),
    )
    notes = [w for w in result.warnings if "the code imports" in w]
    assert len(notes) == 1 and "yaml" in notes[0] and "httpx" not in notes[0]


def test_build_tools_installed_next_to_the_venv_stay_out_of_it(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.poetry.dependencies]\npython = '^3.11'\n")
    (tmp_path / "poetry.lock").write_text("")
    result = convert_text(
        "FROM python:3.11\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\n"
        'RUN pip install poetry && poetry install --only main --no-root\nCOPY . .\nCMD ["python", "a.py"]\n',
        BuildContext(tmp_path),
        Options(),
    )
    assert "RUN /usr/local/bin/pip install poetry && poetry install" in result.output
    assert not any("carries poetry" in w for w in result.warnings)


def test_runtime_packages_installed_after_the_dependencies_stay_out_of_the_builder(tmp_path: Path):
    result = _convert(
        "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n"
        'RUN apt-get update && apt-get install -y ffmpeg\nCMD ["python", "a.py"]\n',
        tmp_path,
    )
    builder, runtime = result.output.split("AS runtime", 1)
    assert "ffmpeg" not in builder and "COPY . ." not in builder
    assert "apt-get install -y --no-install-recommends ffmpeg" in runtime


# -- issue 11, class 10: module-form installers and the author's pip cache mount ------------------
@pytest.mark.parametrize(
    ("words", "normal"),
    [
        (["python", "-m", "pipenv", "install", "--system"], ["pipenv", "install", "--system"]),
        (["python3.11", "-m", "poetry", "install"], ["poetry", "install"]),
        (["/usr/local/bin/python3", "-m", "uv", "sync"], ["uv", "sync"]),
        (["python3", "-m", "pip", "install", "x"], ["python3", "-m", "pip", "install", "x"]),  # is_pip reads it
        (["python", "-m", "flask", "run"], ["python", "-m", "flask", "run"]),
        (["mypython", "-m", "pipenv", "install"], ["mypython", "-m", "pipenv", "install"]),
    ],
)
def test_module_form_installers(words, normal):
    assert deps.module_form(words) == normal


def test_module_form_installers_run_with_the_tools_python(tmp_path: Path):
    (tmp_path / "Pipfile").write_text('[[source]]\nname = "pypi"\n\n[packages]\nflask = "*"\n')
    (tmp_path / "Pipfile.lock").write_text("{}")
    result = _convert(
        "FROM python:3.11\nWORKDIR /app\nRUN python3 -m pip install pipenv\nCOPY Pipfile Pipfile.lock ./\n"
        "RUN python -m pipenv install --system --deploy\nCOPY . .\n"
        'CMD ["python", "-m", "pipenv", "run", "flask", "run"]\n',
        tmp_path,
        runtime="slim",
    )
    assert result.status == CHANGED, result.reason
    out = result.output
    assert "RUN python -m venv /opt/venv\n" in out  # the venv strategy, as for `pipenv install`
    # the app's virtualenv comes first on PATH and has no pipenv: the image's python runs it
    assert "RUN /usr/local/bin/python -m pipenv install --system --deploy\n" in out
    assert out.endswith('CMD ["flask", "run"]\n')
    (tmp_path / "pyproject.toml").write_text("[tool.poetry.dependencies]\npython = '^3.11'\n")
    (tmp_path / "poetry.lock").write_text("")
    poetry = _convert(
        "FROM python:3.11\nWORKDIR /app\nRUN pip install poetry\nCOPY . .\n"
        "RUN python -m poetry config virtualenvs.create false && python -m poetry install --no-root\n"
        "CMD python -m poetry run python a.py\n",
        tmp_path,
        runtime="slim",
    )
    assert poetry.status == CHANGED, poetry.reason
    assert (
        "RUN /usr/local/bin/python -m poetry config virtualenvs.create false && "
        "/usr/local/bin/python -m poetry install --no-root\n"
    ) in poetry.output
    assert poetry.output.endswith("CMD python a.py\n")


@pytest.mark.parametrize(
    ("flags", "mounted"),
    [
        (["--mount=type=cache,target=/root/.cache/pip"], True),
        (["--mount=type=cache,id=pip,target=/root/.cache"], True),
        (["--mount=type=bind,source=x,target=/x", "--mount=type=cache,dst=/pip-cache"], True),
        (["--mount=type=cache,target=/root/.npm"], False),
        (["--mount=type=secret,id=pip,target=/root/.config/pip/pip.conf"], False),
        ([], False),
    ],
)
def test_pip_cache_mounts(flags, mounted):
    assert deps.mounts_pip_cache(flags) is mounted
    assert ("--no-cache-dir" in deps.rewrite_pip("pip install -r r.txt", "venv", mounted)) is not mounted


# -- psycopg 3 opens libpq through ctypes: no linker scan sees it -------------------------------------------


@pytest.mark.parametrize(
    "image, requirement, carried",
    [
        ("python:3.12-bookworm", "psycopg>=3.2", True),  # the full image has libpq: the runtime needs it too
        ("python:3.12-bookworm", "psycopg[binary]>=3.2", False),  # the wheel bundles its own libpq
        ("python:3.12-bookworm", "psycopg-binary==3.2.6\npsycopg==3.2.6", False),
        ("python:3.12-slim", "psycopg>=3.2", False),  # the original had no libpq either: nothing to keep
    ],
)
def test_psycopg_keeps_the_libpq_the_original_image_had(tmp_path: Path, image, requirement, carried):
    (tmp_path / "requirements.txt").write_text(requirement + "\n")
    text = (
        f"FROM {image}\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n"
        'CMD ["python", "app.py"]\n'
    )
    result = convert_text(text, BuildContext(tmp_path), Options(runtime="slim"))
    assert result.status == CHANGED, result.reason
    runtime = result.output.split(" AS runtime", 1)[1]
    assert ("libpq5" in runtime) is carried
    assert any("psycopg opens libpq5" in w for w in result.warnings) is carried


@pytest.mark.parametrize(
    "requirement, package",
    [("python-magic==0.4.27", "libmagic1"), ("Wand>=0.6", "libmagickwand-6.q16-6")],
)
def test_libraries_opened_through_ctypes_that_the_full_image_has_reach_the_runtime(
    tmp_path: Path, requirement, package
):
    """python-magic and Wand find libmagic and MagickWand with ctypes: the full python image has them (buildpack-deps
    installs `file` and imagemagick), the slim one does not, and no linker scan would see the need."""
    (tmp_path / "requirements.txt").write_text(requirement + "\n")
    text = 'FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n'
    result = convert_text(text, BuildContext(tmp_path), Options())
    assert result.status == CHANGED, result.reason
    assert package in result.output.split(" AS runtime", 1)[1]
    refused = convert_text(text, BuildContext(tmp_path), Options(runtime="distroless"))
    assert refused.status == SKIPPED and "ctypes" in refused.reason
