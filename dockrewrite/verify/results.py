"""The values a verification produces: status constants, smoke runs and checks, side effects, VerifyResult."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from dockrewrite.verify.compare import Difference, ImageFacts, short

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
SAME_EFFECTS, EFFECTS_DIFFER, CHANGED_EFFECTS = "same", "differ", "CHANGED"


@dataclass
class SmokeRun:
    kind: str  # "run" or "http"
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    http_status: int | None = None
    http_body: str = ""
    seconds: float = 0.0
    error: str = ""
    changes: list[str] | None = None  # `docker diff` of the container after the run ("A /app/x.db"); None: not read


@dataclass
class SideEffects:
    """What the two smoke containers did to their file systems (`docker diff`), compared.

    Paths are leaves (a folder is left out when something below it changed), without noise (scratch
    space, bytecode, package-manager caches), the image's working directory written `<workdir>` and a
    home folder `~`, so the original's /root/x and the rewrite's /home/node/x are the same path.
    """

    verdict: str  # SAME_EFFECTS, EFFECTS_DIFFER (not explained by the log) or CHANGED_EFFECTS
    original: list[str]  # "A <workdir>/data.db"
    rewrite: list[str]
    missing: list[str] = field(default_factory=list)  # what the original did and the rewrite did not: "A /app/x.db"
    evidence: str = ""  # the rewrite's log line that says why (permission denied, no such file, read-only …)

    def describe(self) -> str:
        if self.verdict == SAME_EFFECTS:
            n = len(self.original)
            return f"same ({n} path{'s' if n != 1 else ''} written)" if n else "same (nothing written)"
        paths = [line[2:] for line in self.missing]
        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        if self.verdict == CHANGED_EFFECTS:
            return f"CHANGED: the rewrite did not write {shown}: {short(self.evidence, 120)}"
        return f"differ: the rewrite did not write {shown} (its log shows no write error)"


@dataclass
class SmokeCheck:
    kind: str
    description: str
    original: SmokeRun
    rewrite: SmokeRun
    status: str  # PASSED, FAILED (the rewrite misbehaves) or ERROR (the original does not pass it)
    detail: str = ""
    side_effects: SideEffects | None = None  # None when a container's changes could not be read


@dataclass
class VerifyResult:
    path: str
    context: str
    status: str = PASSED
    stage: str = ""  # where it stopped: engine, convert, original-build, rewrite-build, pull, contract, smoke
    message: str = ""
    runtime: str | None = None
    warnings: list[str] = field(default_factory=list)
    dockerfile: str | None = None  # the rewrite that was built
    original: ImageFacts | None = None
    rewrite: ImageFacts | None = None
    build_seconds: dict[str, float] = field(default_factory=dict)
    build_log: list[str] = field(default_factory=list)  # tail of the failing build's output
    differences: list[Difference] = field(default_factory=list)
    smoke: list[SmokeCheck] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)  # tags, when kept

    @property
    def ok(self) -> bool:
        return self.status == PASSED

    @property
    def ratio(self) -> float | None:
        if self.original and self.rewrite and self.rewrite.size:
            return self.original.size / self.rewrite.size
        return None

    @property
    def unintended(self) -> list[Difference]:
        return [d for d in self.differences if not d.intended]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["ratio"] = round(self.ratio, 2) if self.ratio else None
        return data
