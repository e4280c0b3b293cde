"""`verify --choose`: verify the rewrite on every runtime base it can use and pick the smallest that passes.

A smaller runtime is only worth it when it keeps the contract, so each candidate is built and smoke-tested
against the original like any verified rewrite; a candidate the converter refuses (scratch for a CGO
binary, distroless for a shell script) is listed with the converter's reason and never built. When no
candidate passes, nothing is chosen and the file stays on what `convert` would write.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dockrewrite.runtimes import select
from dockrewrite.verify.results import PASSED, SKIPPED, VerifyResult

# Every base --runtime offers, smallest first (the runtimes' one list); the sizes decide among the passing.
CANDIDATES = tuple(name for name in select.NAMES if name != select.AUTO)


@dataclass
class Tried:
    """One candidate runtime: what verifying the rewrite on it gave."""

    runtime: str
    status: str
    message: str = ""
    size: int | None = None  # the rewrite's image size, when it was built
    result: VerifyResult | None = None


@dataclass
class Choice:
    """Every candidate tried for one Dockerfile, and the one chosen (None: no candidate kept the contract)."""

    path: str
    tried: list[Tried] = field(default_factory=list)
    chosen: Tried | None = None

    @property
    def status(self) -> str:
        return PASSED if self.chosen else "failed"


def choose(path: Path, context: Path | None, options, verify: Callable[..., VerifyResult]) -> Choice:
    """Verify the rewrite of path on each candidate runtime (verify: verify_file with the caller's smoke
    settings bound) and choose the smallest passing image."""
    from dockrewrite import source
    from dockrewrite.context import BuildContext
    from dockrewrite.results import CHANGED
    from dockrewrite.transform import convert_text

    choice = Choice(str(path))
    try:
        text, _ = source.read(path)
    except (OSError, source.SourceError) as exc:
        choice.tried.append(Tried("-", "error", f"cannot read: {getattr(exc, 'strerror', None) or exc}"))
        return choice
    ctx = BuildContext(context if context is not None else path.parent)
    seen: dict[str, str] = {}  # rewrite text -> the candidate that wrote it first
    for runtime in CANDIDATES:
        candidate = dataclasses.replace(options, runtime=runtime)
        converted = convert_text(text, ctx, candidate, str(path))
        if converted.status != CHANGED or converted.output is None:
            choice.tried.append(Tried(runtime, SKIPPED, f"not converted: {converted.reason or converted.status}"))
            continue
        if converted.output in seen:
            # `--runtime distroless` of a static Go binary may be the very file scratch gave: built once
            choice.tried.append(Tried(runtime, SKIPPED, f"the same rewrite as {seen[converted.output]}"))
            continue
        seen[converted.output] = runtime
        result = verify(path, context, candidate)
        size = result.rewrite.size if result.rewrite is not None else None
        message = result.message or ("verified" if result.status == PASSED else result.status)
        choice.tried.append(Tried(runtime, result.status, message, size, result))
    passing = [t for t in choice.tried if t.status == PASSED and t.size is not None]
    if passing:
        choice.chosen = min(passing, key=lambda t: (t.size, CANDIDATES.index(t.runtime)))
    return choice


def table(choice: Choice) -> str:
    """The candidates of one file, one line each, and the choice."""
    lines = [f"{choice.path}:"]
    for t in choice.tried:
        size = f"{t.size / 1e6:.1f} MB" if t.size is not None else "-"
        mark = "  <- chosen" if t is choice.chosen else ""
        lines.append(f"  {t.runtime:<11} {t.status:<8} {size:>9}  {t.message}{mark}")
    if choice.chosen is None:
        lines.append("  no runtime passed: the file stays as `convert` would write it")
    return "\n".join(lines)


def as_dict(choice: Choice) -> dict:
    return {
        "path": choice.path,
        "chosen": choice.chosen.runtime if choice.chosen else None,
        "tried": [
            {"runtime": t.runtime, "status": t.status, "size": t.size, "message": t.message} for t in choice.tried
        ],
    }
