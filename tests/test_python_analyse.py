"""The python provider's analysis: the facts it reads once from the original and its context."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dockrewrite.context import BuildContext
from dockrewrite.parse import parse
from dockrewrite.plan import Options
from dockrewrite.providers.common import Planner
from dockrewrite.providers.python.analyse import analyse


def _facts(text: str, tmp_path: Path, files: dict[str, str] | None = None):
    for name, content in (files or {}).items():
        (tmp_path / name).write_text(content)
    return analyse(Planner(parse(text), BuildContext(tmp_path), Options()))


def test_facts_of_a_pip_app(tmp_path: Path) -> None:
    facts = _facts(
        "FROM python:3.12\nWORKDIR /app\nENV PORT=8000\nCOPY requirements.txt .\n"
        'RUN pip install -r requirements.txt\nCOPY . .\nEXPOSE 8000\nCMD ["python", "app.py"]\n',
        tmp_path,
        {"requirements.txt": "flask\n"},
    )
    assert facts.image == "python:3.12" and facts.uv_image is None and not facts.alpine
    assert facts.has_command and facts.installs and facts.managers == frozenset()
    assert [it.role for it in facts.items] == ["meta", "meta", "meta", "builder", "meta", "meta", "meta"]
    assert facts.last_dep == 3 and facts.unsplittable is None
    assert facts.workdir == "/app" and dict(facts.env) == {"PORT": "8000"} and facts.ports == ("8000",)
    assert facts.user is None and facts.pyproject is None and facts.poetry_version is None
    assert [(dest, sources) for _ins, dest, sources in facts.copies] == [
        ("/app", ("requirements.txt",)),
        ("/app", (".",)),
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.workdir = "/"  # type: ignore[misc]


def test_facts_of_a_uv_image_with_a_dev_group(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "s"\ndependencies = ["flask"]\n[dependency-groups]\ndev = ["pytest", "flask"]\n'
    facts = _facts(
        "FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\nUSER app\nRUN uv sync --locked\n"
        "RUN curl -s x | sh && pip install foo\nCMD uv run app.py\n",
        tmp_path,
        {"pyproject.toml": pyproject},
    )
    assert facts.uv_image == facts.image == facts.image_text == "python:3.12-slim-bookworm"
    assert facts.managers == frozenset({"uv"}) and facts.uses_uv
    assert facts.user == "app" and facts.dev_only == frozenset({"pytest"})
    assert facts.unsplittable == 4


def test_poetry_version_pins(tmp_path: Path) -> None:
    assert _facts("FROM python:3.11\nARG POETRY_VERSION=1.7.1\n", tmp_path).poetry_version == (1, 7)
    assert _facts('FROM python:3.11\nRUN pip install "poetry<2"\n', tmp_path).poetry_version == (1, 8)
    assert _facts("FROM python:3.11\nRUN pip install poetry\n", tmp_path).poetry_version is None
