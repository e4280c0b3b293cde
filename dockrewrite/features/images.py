"""`[images]` in the config: the runtime and build images the rewrite chose, swapped for the team's own
references (a registry mirror, a pinned digest). The original's own base image is never swapped: the
rewrite keeps what the user wrote for it."""

from __future__ import annotations

from dataclasses import replace

from dockrewrite.model import DockerfileModel
from dockrewrite.ops import From, Op
from dockrewrite.plan import BuildPlan, Options


def apply(plan: BuildPlan, model: DockerfileModel, options: Options) -> BuildPlan:
    images = dict(options.images)
    if not images:
        return plan
    original = model.stages[0].image

    def swap(op: Op) -> Op:
        if isinstance(op, From) and op.image != original and op.image in images:
            return op.edit(image=images[op.image])
        return op

    def first_swapped(steps: list[Op]) -> list[Op]:
        return [swap(steps[0]), *steps[1:]] if steps else steps

    return replace(
        plan,
        builder=first_swapped(plan.builder),
        extra_stages=[first_swapped(stage) for stage in plan.extra_stages],
        runtime_from=swap(plan.runtime_from),
    )
