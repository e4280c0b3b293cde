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
from dockrewrite.notes import note
from dockrewrite.ops import Copy, Run, keyword
from dockrewrite.plan import BuildPlan, Options

SYNTAX_LINE = "# syntax=docker/dockerfile:1"

# What Docker 20.10's built-in frontend cannot run: flags by instruction, and heredocs.
_NEWER_FLAGS = {
    ("COPY", "link"): "COPY --link",
    ("COPY", "parents"): "COPY --parents",
    ("COPY", "exclude"): "COPY --exclude",
    ("ADD", "link"): "COPY --link",
    ("ADD", "parents"): "COPY --parents",
    ("ADD", "exclude"): "COPY --exclude",
    ("ADD", "checksum"): "ADD --checksum",
    ("ADD", "keep-git-dir"): "ADD --checksum",
    ("RUN", "network"): "RUN --network/--security",
    ("RUN", "security"): "RUN --network/--security",
}
_HEREDOC = re.compile(r"<<-?[\"']?[A-Za-z_]")


def apply(plan: BuildPlan, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
    if _has_syntax(plan.header):
        return plan
    if options.syntax_line:
        return replace(
            plan,
            header=[SYNTAX_LINE, *plan.header],
            warnings=plan.warnings
            + [
                note(
                    "DR705",
                    f"adds `{SYNTAX_LINE}` (--syntax-line): BuildKit then pulls the docker/dockerfile frontend "
                    "image for every build, which needs access to Docker Hub",
                )
            ],
        )
    before: set[str] = set()
    for stage in model.stages:
        for ins in stage.instructions:
            first = ins.args[0].split("\n", 1)[0] if ins.args and not ins.json else ""
            before |= _needs(ins.keyword, ins.flags, bool(ins.heredocs) or bool(_HEREDOC.search(first)))
    new = sorted(_plan_needs(plan) - before)
    if not new:
        return plan
    return replace(
        plan,
        header=[SYNTAX_LINE, *plan.header],
        warnings=plan.warnings + [note("DR705", f"adds `{SYNTAX_LINE}`: the rewrite uses {', '.join(new)}")],
    )


def _needs(keyword: str, flags, heredoc: bool) -> set[str]:
    """The newer-frontend features one instruction uses."""
    found = {"heredocs"} if heredoc and keyword in ("RUN", "COPY", "ADD") else set()
    for flag in flags:
        name = flag[2:].split("=", 1)[0].lower()
        if (keyword, name) in _NEWER_FLAGS:
            found.add(_NEWER_FLAGS[keyword, name])
    return found


def _plan_needs(plan: BuildPlan) -> set[str]:
    found: set[str] = set()
    steps = plan.builder + [s for stage in plan.extra_stages for s in stage] + [plan.runtime_from]
    for op in steps + plan.runtime_args + plan.runtime_setup + plan.artifacts + plan.contract:
        body = op.body if isinstance(op, Run) else op.args if isinstance(op, Copy) else ""
        found |= _needs(keyword(op), getattr(op, "flags", ()), bool(_HEREDOC.search(body.split("\n", 1)[0])))
    return found


def _has_syntax(header: list[str]) -> bool:
    """A `# syntax=` among the parser directives at the very top (a later one is a plain comment)."""
    for line in header:
        if not DIRECTIVE_RE.match(line):
            return False
        if re.match(r"^#\s*syntax\s*=", line, re.IGNORECASE):
            return True
    return False
