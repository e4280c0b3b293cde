"""Python: detection now; the rewrite arrives with its own issue."""

from __future__ import annotations

import re

from dockrewrite.providers.base import LanguageSignals, Provider


class PythonProvider(Provider):
    language = "python"
    signals = LanguageSignals(
        "python",
        re.compile(r"^(python|pypy)$|^python\d"),
        re.compile(
            r"\b(pip3?\s+install|python3?\s+-m\s+pip|poetry\s+(install|export)|pipenv\s+(install|sync|requirements)"
            r"|uv\s+(sync|pip)|gunicorn|uvicorn|python3?\s+\S+\.py)\b"
        ),
        (
            "requirements.txt",
            "pyproject.toml",
            "setup.py",
            "setup.cfg",
            "Pipfile",
            "Pipfile.lock",
            "poetry.lock",
            "uv.lock",
        ),
        ("requirements*.txt",),
    )
