"""The `# syntax=docker/dockerfile:1` line: written only when asked for (--syntax-line) or when the rewrite
itself brings in a feature the engine's built-in Dockerfile frontend may not have.

A syntax line makes BuildKit pull the docker/dockerfile frontend image before every build, which fails
offline and on builders that may only pull from a mirror. Docker 20.10's built-in frontend already runs
`RUN --mount=type=cache|bind|secret|ssh` and `COPY --chmod`, so cache and bind mounts need no line.
Heredocs, `COPY --link`, `--parents`, `--exclude`, `ADD --checksum`, `RUN --network`/`--security` need
a newer frontend (built into Docker 23 and later). When the original already uses one of them without a
syntax line, the user's engine runs it as it is, so the rewrite keeps it and adds no line either; only a
feature the original does not use makes the rewrite add the line (none of the rewrites does so today).
A syntax line the original has stays where it is (the rewrite keeps the parser directives on top).
"""

from __future__ import annotations

import re
from dataclasses import replace

from dockrewrite.context import BuildContext
from dockrewrite.model import DIRECTIVE_RE, DockerfileModel
from dockrewrite.plan import BuildPlan, Options

SYNTAX_LINE = "# syntax=docker/dockerfile:1"

# What Docker 20.10's built-in frontend cannot run, as it shows in an instruction's text.
_NEWER_FRONTEND = {
    "heredocs": re.compile(r"^\s*(RUN|COPY|ADD)\b[^\n]*<<-?[\"']?[A-Za-z_]", re.IGNORECASE),
    "COPY --link": re.compile(r"^\s*(COPY|ADD)\b[^\n]*\s--link\b", re.IGNORECASE),
    "COPY --parents": re.compile(r"^\s*(COPY|ADD)\b[^\n]*\s--parents\b", re.IGNORECASE),
    "COPY --exclude": re.compile(r"^\s*(COPY|ADD)\b[^\n]*\s--exclude\b", re.IGNORECASE),
    "ADD --checksum": re.compile(r"^\s*ADD\b[^\n]*\s--(checksum|keep-git-dir)\b", re.IGNORECASE),
    "RUN --network/--security": re.compile(r"^\s*RUN\b[^\n]*\s--(network|security)\b", re.IGNORECASE),
}


def apply(plan: BuildPlan, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
    if _has_syntax(plan.header):
        return plan
    if options.syntax_line:
        return replace(
            plan,
            header=[SYNTAX_LINE, *plan.header],
            warnings=plan.warnings
            + [
                f"adds `{SYNTAX_LINE}` (--syntax-line): BuildKit then pulls the docker/dockerfile frontend image "
                "for every build, which needs access to Docker Hub"
            ],
        )
    before = _features(ins.text for stage in model.stages for ins in stage.instructions)
    new = sorted(_features(_texts(plan)) - before)
    if not new:
        return plan
    return replace(
        plan,
        header=[SYNTAX_LINE, *plan.header],
        warnings=plan.warnings + [f"adds `{SYNTAX_LINE}`: the rewrite uses {', '.join(new)}"],
    )


def _features(texts) -> set[str]:
    found: set[str] = set()
    for text in texts:
        for name, pattern in _NEWER_FRONTEND.items():
            if pattern.search(text):
                found.add(name)
    return found


def _texts(plan: BuildPlan):
    for step in plan.builder + [s for stage in plan.extra_stages for s in stage]:
        yield step.text
    yield plan.runtime_from.text
    for step in plan.runtime_args + plan.runtime_setup + plan.artifacts + plan.contract:
        yield step.text


def _has_syntax(header: list[str]) -> bool:
    """A `# syntax=` among the parser directives at the very top (a later one is a plain comment)."""
    for line in header:
        if not DIRECTIVE_RE.match(line):
            return False
        if re.match(r"^#\s*syntax\s*=", line, re.IGNORECASE):
            return True
    return False
