"""Go: builder on the original image, a static (or CGO-linked) binary, and a minimal runtime."""

from __future__ import annotations

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.plan import BuildPlan, Options
from dockrewrite.providers.base import Evidence, Provider
from dockrewrite.providers.go.detect import SIGNALS, detect
from dockrewrite.providers.go.plan import GoPlanner


class GoProvider(Provider):
    language = "go"
    supported = True
    signals = SIGNALS

    def detect(self, model: DockerfileModel, ctx: BuildContext) -> Evidence:
        return detect(model, ctx)

    def plan(self, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
        return GoPlanner(model, ctx, options).plan()


# The registry (providers/__init__.py) finds every language folder by this name.
PROVIDER = GoProvider()

__all__ = ["PROVIDER", "GoProvider"]
