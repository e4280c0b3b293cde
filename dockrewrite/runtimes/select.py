"""THE list of runtime names --runtime and the config offer, lookup by name, and the language-neutral choices."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from dockrewrite import runtimes
from dockrewrite.runtimes.base import Runtime, registered

AUTO = "auto"

# Every module of the package but these two is a runtime base that registers itself on import, so adding a
# base is adding its module.
for _module in pkgutil.iter_modules(runtimes.__path__):
    if _module.name not in ("base", "select"):
        importlib.import_module(f"{runtimes.__name__}.{_module.name}")

_BY_RANK = sorted(registered(), key=lambda rt: rt.rank)
NAMES: tuple[str, ...] = (AUTO, *dict.fromkeys(rt.name for rt in _BY_RANK if rt.offered))


def every() -> tuple[Runtime, ...]:
    """Every registered runtime base and variant, from the one that holds least to the one that holds most."""
    return tuple(_BY_RANK)


def smallest_first(language: str, libc: str | None, package_manager: bool | None = None) -> list[Runtime]:
    """The offered bases with an image for the language and this C library (and, when asked, with or without a
    package manager), smallest first; the registration order breaks ties (distroless base before cc)."""
    return [
        rt
        for rt in _BY_RANK
        if rt.offered
        and language in rt.images
        and rt.libc == libc
        and (package_manager is None or (rt.package_manager is not None) == package_manager)
    ]


def runtime(name: str, variant: str | None = None) -> Runtime:
    """The runtime base of that name (and variant; the first registered when none is named, since what the
    variants of a name differ in is the image and the C library)."""
    for rt in registered():
        if rt.name == name and (variant is None or rt.variant == variant):
            return rt
    raise KeyError(f"no runtime base {name!r}" + (f" variant {variant!r}" if variant else ""))


def variants(name: str) -> tuple[Runtime, ...]:
    """Every variant of the named base (distroless: static, base, cc, python, nodejs)."""
    return tuple(rt for rt in registered() if rt.name == name)


def variant(name: str, language: str, libc: str | None) -> Runtime | None:
    """The variant of the named base with an image for the language and that C library, None when none has."""
    return next((rt for rt in variants(name) if language in rt.images and rt.libc == libc), None)


def for_language(name: str, language: str) -> Runtime | None:
    """The variant of the named base that has an image for the language, None when none has."""
    return next((rt for rt in registered() if rt.name == name and language in rt.images), None)


def like_builder(musl: bool) -> Runtime:
    """The base with a shell whose C library is the builder's: what was built there runs on it."""
    return runtime("alpine") if musl else runtime("slim")


def with_programs(programs: Iterable[str]) -> Runtime | None:
    """The smallest base with a shell that provides (or can install) every one of the programs."""
    wanted = list(programs)
    for rt in _BY_RANK:
        if rt.offered and rt.shell and all(rt.provides(p)[0] for p in wanted):
            return rt
    return None
