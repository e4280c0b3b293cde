"""Jinja rendering of a BuildPlan through templates/<language>/<runtime>.Dockerfile.j2.

A repository's own config may name a template folder, so templates are untrusted input: they render in
jinja2's immutable sandbox (no attribute walks to `os`, no mutation of the plan), and a template file
is read only when its real path stays inside the folder it was found in (a symlink cannot pull
`/etc/passwd` into the output).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


class TemplateProblem(Exception):
    """A template could not be rendered; the message names the template file and line."""


def templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    # Installed wheels carry the templates inside the package; a source checkout has them at the top.
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("dockrewrite's templates folder is missing from this installation")


def _contained_loader(folders: list[str]):
    import jinja2

    class ContainedLoader(jinja2.FileSystemLoader):
        """FileSystemLoader that refuses a template whose real path leaves its search folder."""

        def get_source(self, environment, template):
            pieces = jinja2.loaders.split_template_path(template)  # refuses `..` in names
            for folder in self.searchpath:
                candidate = os.path.join(folder, *pieces)
                if not os.path.lexists(candidate):
                    continue
                real_root = os.path.realpath(folder)
                real = os.path.realpath(candidate)
                if os.path.commonpath([real_root, real]) != real_root or not os.path.isfile(real):
                    raise TemplateProblem(f"{candidate}: a link that leaves its templates folder; not read")
                return super().get_source(environment, template)
            raise jinja2.TemplateNotFound(template)

    return ContainedLoader(folders)


@lru_cache(maxsize=8)
def _environment(override: str | None = None):
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    # A team's own folder wins by template name; anything it lacks comes from the built-in set.
    folders = ([override] if override else []) + [str(templates_dir())]
    return ImmutableSandboxedEnvironment(
        loader=_contained_loader(folders),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render_template(name: str, templates: str | None = None, **values) -> str:
    """Render one template by name; any failure (syntax, sandbox refusal, missing value) is a TemplateProblem
    naming the file and line, since the file may be a user's override."""
    import jinja2
    from jinja2.exceptions import SecurityError

    environment = _environment(templates)
    try:
        template = environment.get_template(name)
        return template.render(**values)
    except TemplateProblem:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"{exc.filename or name}:{exc.lineno}: template error: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(f"template {exc.name} not found") from None
    except (SecurityError, jinja2.TemplateError, TypeError, ValueError, AttributeError) as exc:
        where = _template_frame(exc) or name
        kind = "refused by the sandbox" if isinstance(exc, SecurityError) else "template error"
        raise TemplateProblem(f"{where}: {kind}: {exc}") from None


def _template_frame(exc: BaseException) -> str | None:
    """file:line of the innermost template frame in a rendering traceback (Jinja maps it to the source)."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or "<template>" in filename:
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def render(plan, templates: str | None = None) -> str:
    """The Dockerfile text of a BuildPlan (dockrewrite.plan; not imported, since ops render through here)."""
    text = render_template(f"{plan.language}/{plan.runtime}.Dockerfile.j2", templates, plan=plan)
    return text.strip("\n") + "\n"


def runtime_macro(runtime: str, name: str, op) -> str:
    """What the built-in templates/runtimes/<runtime>.j2 macro writes for one op (installing packages, adding
    a user): the op's own text, as the plan's passes read it before the whole file is rendered."""
    environment = _environment(None)
    try:
        module = environment.get_template(f"runtimes/{runtime}.j2").module
        return str(getattr(module, name)(op)).strip("\n")
    except Exception as exc:  # the built-in templates are ours: a failure here is a bug, said plainly
        raise TemplateProblem(f"templates/runtimes/{runtime}.j2: {name}: {exc}") from None


def builtin_templates() -> list[str]:
    """Names of the built-in templates, as `--templates` folders override them."""
    root = templates_dir()
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.j2"))
