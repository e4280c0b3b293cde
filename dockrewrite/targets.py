"""`--targets develop,test`: named stages for development and for running the tests at build time.

Both stages come off the stage that has the toolchain and every dependency (the `builder`), so
`docker build --target develop` gives a dev image and `docker build --target test` runs the tests;
the production runtime stays the last stage, the default target. What each stage installs and runs
beyond that, the language's hooks say (providers/<language>/hooks.py).
"""

from __future__ import annotations

from dataclasses import replace

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.notes import note
from dockrewrite.ops import From, Op, Workdir, keyword
from dockrewrite.plan import BuildPlan, Options
from dockrewrite.providers import hooks_for

KNOWN = ("develop", "test")


def stage_names(plan: BuildPlan) -> list[str]:
    names = []
    for stage in [plan.builder, *plan.extra_stages]:
        if stage and isinstance(stage[0], From) and stage[0].name:
            names.append(stage[0].name)
    return names


def apply(plan: BuildPlan, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
    if not options.targets:
        return plan
    unknown = [t for t in options.targets if t not in KNOWN]
    if unknown:
        raise ValueError(f"unknown target {unknown[0]!r} (known: {', '.join(KNOWN)})")
    names = stage_names(plan)
    source = next((n for n in ("builder", "base") if n in names), None)
    if source is None:
        plan.warnings.append(
            note(
                "DR706",
                "--targets: this rewrite has no builder stage with the toolchain and dev dependencies to develop "
                "or test in; no extra stages",
            )
        )
        return plan
    dev_base = source
    if "develop" in options.targets and "develop" not in names:
        plan.extra_stages.append(_develop(plan, ctx, source))
        dev_base = "develop"
    elif "develop" in names:
        dev_base = "develop"
    if "test" in options.targets and "test" not in names:
        test = _test(plan, ctx, dev_base)
        if isinstance(test, str):
            plan.warnings.append(note("DR706", f"--targets test: {test}; no test stage"))
        else:
            plan.extra_stages.append(test)
    return plan


def _contract_for_dev(plan: BuildPlan) -> list[Op]:
    """The runtime's ENV, EXPOSE and command, without the switch to an unprivileged user."""
    keep = ("ENV", "EXPOSE", "ENTRYPOINT", "CMD")
    return [replace(s, comments=()) for s in plan.contract if keyword(s) in keep]


def _develop(plan: BuildPlan, ctx: BuildContext, source: str) -> list[Op]:
    note = ("# Development image: docker build --target develop (compose: build.target: develop)",)
    steps: list[Op] = [From(image=source, name="develop", comments=note)]
    if plan.workdir:
        steps.append(Workdir(path=plan.workdir))
    contract = _contract_for_dev(plan)
    hooks = hooks_for(plan.language)
    if hooks is not None:
        own, contract = hooks.develop(plan, ctx, source, contract)
        steps += own
    return steps + contract


def _test(plan: BuildPlan, ctx: BuildContext, base: str) -> list[Op] | str:
    """The test stage, or why there is none."""
    note = ("# Runs the tests at build time: docker build --target test",)
    hooks = hooks_for(plan.language)
    own = hooks.test(plan, ctx, base) if hooks is not None else None
    if own is None:
        return f"no test command is known for {plan.language}"
    if isinstance(own, str):
        return own
    return [From(image=base, name="test", comments=note), *own]
