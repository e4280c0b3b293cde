"""The python provider: detection by its signals, planning by PythonPlanner."""

from __future__ import annotations

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.plan import BuildPlan, Options
from dockrewrite.providers.base import Provider
from dockrewrite.providers.python.detect import SIGNALS
from dockrewrite.providers.python.plan import PythonPlanner


class PythonProvider(Provider):
    language = "python"
    supported = True
    signals = SIGNALS

    def plan(self, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
        return PythonPlanner(model, ctx, options).plan()


# The registry (providers/__init__.py) finds every language folder by this name.
PROVIDER = PythonProvider()

__all__ = ["PROVIDER", "PythonProvider"]
