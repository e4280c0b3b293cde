"""Python pieces with inline before/after cases: pip rewrites, requirement files, setup.py, imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.providers import python_deps as deps
from dockrewrite.providers import python_source
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
    distroless = _convert(
        'FROM python:3.11\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["python", "a.py"]\n',
        tmp_path,
        runtime="distroless",
    )
    assert distroless.status == SKIPPED and "/usr/bin/python3" in distroless.reason
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
