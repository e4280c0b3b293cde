"""Jinja rendering of a BuildPlan through templates/<language>/<runtime>.Dockerfile.j2."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from dockrewrite.plan import BuildPlan


def templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    # Installed wheels carry the templates inside the package; a source checkout has them at the top.
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("dockrewrite's templates folder is missing from this installation")


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(plan: BuildPlan) -> str:
    template = _environment().get_template(f"{plan.language}/{plan.runtime}.Dockerfile.j2")
    return template.render(plan=plan).strip("\n") + "\n"
