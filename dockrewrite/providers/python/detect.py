"""How a Dockerfile shows it builds a Python app: base images, install commands and project files."""

from __future__ import annotations

import re

from dockrewrite.providers.base import LanguageSignals

SIGNALS = LanguageSignals(
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
