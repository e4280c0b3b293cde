"""Golden pairs: fixtures/<language>/<case>/Dockerfile -> expected/<runtime>.Dockerfile (or .status).

Refresh on purpose with `DOCKREWRITE_REFRESH=1 python -m pytest tests/test_golden.py`, then read the diff.
To add a runtime to a case, create an empty expected/<runtime>.Dockerfile (or .status) and refresh;
expected/strategy-<user|prefix|venv>.Dockerfile pins the Python install strategy instead, and
expected/targets-develop+test.Dockerfile asks for those extra stages.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockrewrite import source
from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED
from dockrewrite.transform import convert_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

REFRESH = bool(os.environ.get("DOCKREWRITE_REFRESH"))


def _cases():
    for case in sorted(FIXTURES.glob("*/*/expected")):
        if case.parent.parent.name in ("apps", "builder-pattern"):
            continue
        for expected in sorted(case.iterdir()):
            runtime = expected.name.split(".", 1)[0]
            yield pytest.param(
                case.parent, runtime, expected, id=f"{case.parent.parent.name}/{case.parent.name}/{runtime}"
            )


def _options(name: str) -> Options:
    """expected/<runtime>.* or expected/strategy-<python strategy>.*"""
    if name.startswith("strategy-"):
        return Options(python_strategy=name.split("-", 1)[1])
    if name.startswith("targets-"):
        return Options(targets=tuple(name.split("-", 1)[1].split("+")))
    return Options(runtime=name)


def _status_text(result) -> str:
    return f"{result.status}\nline {result.line}\n{result.reason}\n"


@pytest.mark.parametrize(("case", "runtime", "expected"), list(_cases()))
def test_golden(case, runtime, expected):
    text, _fmt = source.read(case / "Dockerfile")
    result = convert_text(text, BuildContext(case), _options(runtime), "Dockerfile")
    if expected.suffix == ".Dockerfile":
        actual = result.output if result.status == CHANGED else _status_text(result)
    else:
        actual = _status_text(result)
    if REFRESH:
        expected.write_text(actual, encoding="utf-8")
    assert actual == expected.read_text(encoding="utf-8"), f"{case.name} ({runtime}): {result.reason}"
    if expected.suffix == ".Dockerfile":
        assert result.status == CHANGED


def test_every_case_has_expectations():
    for case in sorted(FIXTURES.glob("*/*/Dockerfile")):
        if case.parent.parent.name in ("apps", "builder-pattern"):
            continue
        assert (case.parent / "expected").is_dir() and any((case.parent / "expected").iterdir()), case.parent
