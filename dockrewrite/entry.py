"""Console entry point: answers `--version` before loading the command-line framework."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from dockrewrite import __version__

        print(f"dockrewrite {__version__}")
        return
    from dockrewrite.cli import app

    app()
