"""Optional rewrite features applied to a provider's plan: cache and bind mounts, pinned images,
development and test targets, the `# syntax` line. Each is a pure function of the plan and its inputs.

Order: images are pinned first (they only touch FROM lines); cache mounts next, then bind mounts, which
fold the lockfile COPYs into the RUN steps that already carry their cache mounts; the `# syntax` line
last, because it looks at what the finished plan uses. `.dockerignore` content is not part of the plan:
the CLI asks `features.dockerignore.dockerignore_for` for it when it writes the rewrite.
`--targets` stages are added after all of these (transform.py), so cache and bind mounts leave the builder
as those stages need it: with targets, caches those stages read stay in the layer (the language's hooks are
told) and lockfile COPYs stay where the builder ends without putting them back.
No feature knows a language: each asks the languages' hooks (providers/<language>/hooks.py).
"""

from __future__ import annotations

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.plan import BuildPlan, Options


def apply(plan: BuildPlan, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
    """The plan with every feature the options ask for; unchanged when none is asked for."""
    if options.pin:
        from . import pin

        plan = pin.apply(plan, model, ctx, options)
    if options.cache_mounts:
        from . import cache

        plan = cache.apply(plan, model, ctx, options)
    if options.bind_mounts:
        from . import bind

        plan = bind.apply(plan, model, ctx, options)
    from . import syntax

    return syntax.apply(plan, model, ctx, options)
