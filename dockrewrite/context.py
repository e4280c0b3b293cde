"""Read-only view of a build context: which files exist and what a few of them say."""

from __future__ import annotations

import fnmatch
import os
from functools import cached_property
from pathlib import Path

from dockrewrite.source import is_temp_name

_SOURCE_SKIP_DIRS = {".git", "node_modules", "vendor", "testdata", ".venv", "venv", "__pycache__", "dist"}


class BuildContext:
    """A build context directory. `root=None` stands for an unknown context (input from stdin)."""

    def __init__(self, root: Path | None):
        self.root = root

    @cached_property
    def known(self) -> bool:
        return self.root is not None and self.root.is_dir()

    def exists(self, rel: str) -> bool:
        if not self.known:
            return False
        if "/" not in rel:
            return rel in self._listing  # detection asks about many top-level names; one listdir answers them
        # os.path, not Path.exists: a name too long for the file system (a 256-character COPY source) is a
        # file that is not there, not an OSError
        return os.path.exists(self.root / rel) and not self.ignored(rel)

    def is_dir(self, rel: str) -> bool:
        return self.exists(rel) and os.path.isdir(self.root / rel)

    def children(self, rel: str) -> list[str]:
        """The names inside a folder of the context that a COPY of it sends, sorted; none for a folder that is
        not there or whose real path leaves the context (a link)."""
        if not self.is_dir(rel):
            return []
        root = os.path.realpath(self.root)
        real = os.path.realpath(self.root / rel)
        if os.path.commonpath([root, real]) != root:
            return []
        try:
            names = os.listdir(real)
        except OSError:
            return []
        return sorted(n for n in names if not is_temp_name(n) and not self.ignored(f"{rel.rstrip('/')}/{n}"))

    @cached_property
    def _listing(self) -> frozenset[str]:
        return frozenset(self.entries)

    def read_text(self, rel: str, limit: int = 1_000_000) -> str | None:
        if not self.known:
            return None
        key = (rel, limit)
        if key not in self._texts:
            self._texts[key] = self._read_text(rel, limit)
        return self._texts[key]

    @cached_property
    def _texts(self) -> dict[tuple[str, int], str | None]:
        return {}  # the planners and the safety re-run ask for the same few manifests many times

    @cached_property
    def _names(self) -> frozenset[str]:
        """The folder's names, less this tool's temporary files: another file's --write in the same folder may
        have one there for a moment, and a rewrite must never copy it (it is gone once that write ends)."""
        try:
            return frozenset(n for n in os.listdir(self.root) if not is_temp_name(n))
        except OSError:
            return frozenset()

    def _read_text(self, rel: str, limit: int) -> str | None:
        if "/" not in rel and rel not in self._names:
            return None  # most reads ask whether a manifest is there at all: one listdir answers them
        path = self.root / rel
        try:
            if not path.is_file() or path.stat().st_size > limit:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        for enc in ("utf-8-sig", "utf-16", "latin-1"):
            try:
                return data.decode(enc)
            except UnicodeDecodeError:
                continue
        return None

    @cached_property
    def entries(self) -> list[str]:
        """Top-level names in the context that a `COPY . .` would send, sorted."""
        if not self.known:
            return []
        return [n for n in sorted(self._names) if not self.ignored(n)]

    @cached_property
    def _ignore_patterns(self) -> list[tuple[bool, str]]:
        text = self.read_text(".dockerignore") if self.known else None
        patterns: list[tuple[bool, str]] = []
        for line in (text or "").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = os.path.normpath(line.lstrip("!").strip().lstrip("/"))
            patterns.append((negate, pattern))
        return patterns

    def ignored(self, rel: str) -> bool:
        """Whether .dockerignore keeps rel out of the context (last matching pattern wins)."""
        rel = os.path.normpath(rel).lstrip("/")
        if rel in (".", ""):
            return False
        result = False
        for negate, pattern in self._ignore_patterns:
            if _match(pattern, rel):
                result = not negate
        return result

    def walk(self, suffixes: tuple[str, ...], limit: int = 2000):
        """Yield context-relative paths of files with the given suffixes, skipping vendored trees."""
        if not self.known:
            return
        count = 0
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SOURCE_SKIP_DIRS and not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith(suffixes):
                    rel = os.path.relpath(os.path.join(dirpath, name), self.root)
                    if self.ignored(rel):
                        continue
                    yield rel
                    count += 1
                    if count >= limit:
                        return


def _match(pattern: str, rel: str) -> bool:
    # A pattern that names a directory also excludes everything below it.
    parts = rel.split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        if fnmatch.fnmatchcase(prefix, pattern) or (
            pattern.startswith("**/") and fnmatch.fnmatchcase(prefix, pattern[3:])
        ):
            return True
    return False
