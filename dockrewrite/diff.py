"""Unified diffs, coloured for a terminal."""

from __future__ import annotations

import difflib

_COLORS = {"+": "\033[32m", "-": "\033[31m", "@": "\033[36m"}
_RESET = "\033[0m"


def unified(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    out = []
    for line in lines:
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def colorize(diff: str) -> str:
    out = []
    for line in diff.splitlines(keepends=True):
        head = line[:3]
        if head in ("+++", "---"):
            out.append(f"\033[1m{line.rstrip(chr(10))}{_RESET}\n")
            continue
        color = _COLORS.get(line[:1])
        out.append(f"{color}{line.rstrip(chr(10))}{_RESET}\n" if color else line)
    return "".join(out)
