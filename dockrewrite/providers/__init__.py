"""Ordered registry of language providers and of their hooks, and the detector that picks one for a Dockerfile."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.providers.base import Evidence, Hooks, Provider, collect
from dockrewrite.providers.others import OTHER_LANGUAGES


def _languages() -> list[tuple[Provider, Hooks]]:
    """Every language folder of this package (a package with `PROVIDER` and `hooks.HOOKS`), by name: adding
    a language is adding its folder."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.ispkg:
            package = importlib.import_module(f"{__name__}.{info.name}")
            hooks = importlib.import_module(f"{__name__}.{info.name}.hooks")
            found.append((package.PROVIDER, hooks.HOOKS))
    return found


_FOUND = _languages()
PROVIDERS: tuple[Provider, ...] = tuple(p for p, _ in _FOUND)
# In the providers' order: a feature that asks every language (a Go image may run npm) asks them in this order.
HOOKS: tuple[Hooks, ...] = tuple(h for _, h in _FOUND)


def hooks_for(language: str) -> Hooks | None:
    """The hooks of a language, or None for a language no provider folder serves."""
    return next((h for h in HOOKS if h.language == language), None)


def all_hooks() -> tuple[Hooks, ...]:
    """Every language's hooks: cache and bind mounts are per tool, whatever language the plan is for."""
    return HOOKS


@dataclass
class Detection:
    language: str  # go | node | python | unknown | ambiguous | an other language's name
    provider: Provider | None
    signals: list[str] = field(default_factory=list)
    candidates: list[Evidence] = field(default_factory=list)

    @property
    def ambiguous(self) -> bool:
        return self.language == "ambiguous"


def detect(model: DockerfileModel, ctx: BuildContext) -> Detection:
    evidence = [p.detect(model, ctx) for p in PROVIDERS]
    evidence += [collect(model, ctx, table) for table in OTHER_LANGUAGES]
    ranked = sorted((e for e in evidence if e.score > 0), key=lambda e: -e.score)
    if not ranked:
        return Detection("unknown", None, [f"base image {s.image} (line {s.from_.line})" for s in model.stages])
    top = [e for e in ranked if e.score == ranked[0].score]
    if len(top) > 1:
        signals = [f"{e.language}: {s}" for e in top for s in e.signals]
        return Detection("ambiguous", None, signals, top)
    best = top[0]
    provider = next((p for p in PROVIDERS if p.language == best.language), None)
    return Detection(best.language, provider, best.signals, ranked)
