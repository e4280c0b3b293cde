"""The python provider: detection by its signals, planning by PythonPlanner."""

from __future__ import annotations

import dataclasses

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.notes import note
from dockrewrite.plan import BuildPlan, Options
from dockrewrite.providers.base import Provider
from dockrewrite.providers.python.detect import SIGNALS
from dockrewrite.providers.python.distroless import KeepSlim
from dockrewrite.providers.python.plan import PythonPlanner
from dockrewrite.results import Skip
from dockrewrite.runtimes.distroless import STATIC
from dockrewrite.runtimes.select import AUTO


class PythonProvider(Provider):
    language = "python"
    supported = True
    signals = SIGNALS

    def plan(self, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
        if options.runtime == AUTO:
            # distroless when the rewrite can run there and nothing suggests a shell or tools at run time;
            # any reason it refuses keeps the slim image, as before
            planner = PythonPlanner(model, ctx, dataclasses.replace(options, runtime=STATIC.name))
            planner.auto = True
            try:
                return planner.plan()
            except KeepSlim as why:
                plan = PythonPlanner(model, ctx, options).plan()
                plan.warnings.append(note("DR601", f"auto keeps the slim image rather than distroless: {why.reason}"))
                return plan
            except Skip:
                pass  # a step, package or strategy distroless cannot have: the slim image, quietly
        return PythonPlanner(model, ctx, options).plan()


# The registry (providers/__init__.py) finds every language folder by this name.
PROVIDER = PythonProvider()

__all__ = ["PROVIDER", "PythonProvider"]
