"""One Result per Dockerfile, and the Report that turns many into a summary and an exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

CHANGED, UNCHANGED, SKIPPED, FAILED = "changed", "unchanged", "skipped", "failed"


class Skip(Exception):
    """A provider cannot convert this file safely; the message says why (and `line` where)."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True)
class FileEdit:
    """A file written (or deleted, data None) together with the Dockerfile: the runner writes them all or
    none. `old`/`new` are the texts a diff shows when nothing is written."""

    path: Path
    data: bytes | None
    old: str = ""
    new: str = ""
    done: str = ""  # the note once written ("wrote …", "deleted …")
    create_only: bool = False  # a file that appeared since the conversion is left alone (a .dockerignore)


@dataclass
class Result:
    path: str
    status: str
    language: str | None = None
    runtime: str | None = None
    reason: str | None = None
    line: int | None = None
    warnings: list[str] = field(default_factory=list)
    original: str = ""
    output: str | None = None
    signals: list[str] = field(default_factory=list)
    encoding: object = None  # the source.SourceFormat the file was read with
    dockerignore: tuple | None = None  # (path, text) of a .dockerignore to write beside the rewrite
    secrets: list[tuple[int, str]] = field(default_factory=list)  # (line, warning): shown in every output mode
    source_bytes: bytes | None = None  # the input as read, when it did not come from a file (stdin)
    loads: list[str] = field(default_factory=list)  # context files the rewrite carries for the app to load at start
    intents: tuple = ()  # intents.Intent values: what the rewrite changes in the runtime contract on purpose
    edits: list[FileEdit] = field(default_factory=list)  # files beside it: .dockerignore, compose, removals

    def as_dict(self, diff: str | None = None) -> dict:
        return {
            "path": self.path,
            "status": self.status,
            "language": self.language,
            "runtime": self.runtime,
            "reason": self.reason,
            "line": self.line,
            "warnings": self.warnings,
            "notes": [{"code": getattr(w, "code", None), "message": str(w)} for w in self.warnings],
            "signals": self.signals,
            "diff": diff,
        }

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass
class Report:
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0

    def add(self, result: Result) -> None:
        setattr(self, result.status, getattr(self, result.status) + 1)

    @property
    def total(self) -> int:
        return self.changed + self.unchanged + self.skipped + self.failed

    def summary(self, written: bool = False, check: bool = False) -> str:
        verb = "written" if written else ("would convert" if check else "converted")
        return f"{self.changed} {verb}, {self.unchanged} unchanged, {self.skipped} skipped, {self.failed} failed"

    def as_dict(self) -> dict[str, int]:
        return {CHANGED: self.changed, UNCHANGED: self.unchanged, SKIPPED: self.skipped, FAILED: self.failed}

    def exit_code(self, check: bool) -> int:
        if self.failed:
            return 2
        if check and self.changed:
            return 1
        return 0
