"""Where a repository's files may lead: a path named by a repository (a config's template folder, a
symlinked Dockerfile) is followed only while its real location stays inside that repository."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=256)
def repository_root(folder: Path) -> Path:
    """The nearest folder at or above `folder` holding `.git` (a folder, or a worktree's file); `folder`
    itself when there is none."""
    start = Path(os.path.abspath(folder))
    for candidate in (start, *start.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    return start


def stays_inside(path: Path, root: Path) -> bool:
    """Whether path, with every link resolved, lies in root (itself resolved)."""
    real_root = os.path.realpath(root)
    return os.path.commonpath([real_root, os.path.realpath(path)]) == real_root
