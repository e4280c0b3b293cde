"""Every note a conversion prints has a stable code from the table (docs/notes.md): the golden cases, the
e2e apps and the builder-pattern pairs, under each runtime their expected files name and with every feature."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockrewrite import builder as bp
from dockrewrite.context import BuildContext
from dockrewrite.notes import CODES
from dockrewrite.plan import Options
from dockrewrite.transform import convert_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FEATURES = Options(cache_mounts=True, bind_mounts=True, pin=True, syntax_line=True, targets=("develop", "test"))


def _cases():
    for dockerfile in sorted(FIXTURES.glob("*/*/Dockerfile")):
        if dockerfile.parent.parent.name == "builder-pattern":
            continue
        runtimes = {p.name.split(".", 1)[0] for p in (dockerfile.parent / "expected").glob("*")} or {"auto"}
        for runtime in sorted(r for r in runtimes if r in ("auto", "scratch", "distroless", "alpine", "slim")):
            yield pytest.param(
                dockerfile, runtime, id=f"{dockerfile.parent.parent.name}/{dockerfile.parent.name}/{runtime}"
            )


def _uncoded(warnings) -> list[str]:
    return [w[:100] for w in warnings if getattr(w, "code", None) not in CODES]


@pytest.mark.parametrize(("dockerfile", "runtime"), list(_cases()))
def test_every_note_has_a_code(dockerfile: Path, runtime: str):
    context = BuildContext(dockerfile.parent)
    text = dockerfile.read_text(encoding="utf-8", errors="replace").lstrip("\ufeff")
    for options in (
        Options(runtime=runtime),
        Options(
            runtime=runtime,
            **{k: getattr(FEATURES, k) for k in ("cache_mounts", "bind_mounts", "pin", "syntax_line", "targets")},
        ),
    ):
        result = convert_text(text, context, options, str(dockerfile))
        assert _uncoded(result.warnings) == [], result.warnings


@pytest.mark.parametrize("folder", sorted(p.name for p in (FIXTURES / "builder-pattern").iterdir() if p.is_dir()))
def test_builder_pattern_notes_have_codes(folder: str):
    found = bp.scan(
        sorted((FIXTURES / "builder-pattern" / folder).glob("Dockerfile*")), FIXTURES / "builder-pattern" / folder
    )
    for pair in found.pairs:
        assert _uncoded(bp.merge(pair).warnings) == []
