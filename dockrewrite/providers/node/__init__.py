"""Node.js: production dependencies in `deps`, the build in `builder`, and a runtime with only what runs."""

from __future__ import annotations

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.plan import BuildPlan, Options
from dockrewrite.providers.base import Evidence, Provider
from dockrewrite.providers.node.detect import SIGNALS, detect
from dockrewrite.providers.node.plan import NodePlanner


class NodeProvider(Provider):
    language = "node"
    supported = True
    signals = SIGNALS

    def detect(self, model: DockerfileModel, ctx: BuildContext) -> Evidence:
        return detect(model, ctx)

    def plan(self, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
        return NodePlanner(model, ctx, options).plan()


# The registry (providers/__init__.py) finds every language folder by this name.
PROVIDER = NodeProvider()

__all__ = ["PROVIDER", "NodeProvider"]
