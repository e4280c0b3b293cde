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


@lru_cache(maxsize=8)
def _environment(override: str | None = None):
    import jinja2

    # A team's own folder wins by template name; anything it lacks comes from the built-in set.
    folders = ([override] if override else []) + [str(templates_dir())]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(plan: BuildPlan, templates: str | None = None) -> str:
    template = _environment(templates).get_template(f"{plan.language}/{plan.runtime}.Dockerfile.j2")
    return template.render(plan=plan).strip("\n") + "\n"


def builtin_templates() -> list[str]:
    """Names of the built-in templates, as `--templates` folders override them."""
    root = templates_dir()
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.j2"))
