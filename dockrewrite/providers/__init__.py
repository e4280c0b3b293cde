"""Ordered registry of language providers, and the detector that picks one for a Dockerfile."""

from __future__ import annotations

from dataclasses import dataclass, field

from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.providers.base import Evidence, Provider, collect
from dockrewrite.providers.go import GoProvider
from dockrewrite.providers.node import NodeProvider
from dockrewrite.providers.others import OTHER_LANGUAGES
from dockrewrite.providers.python import PythonProvider

PROVIDERS: tuple[Provider, ...] = (GoProvider(), NodeProvider(), PythonProvider())


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
