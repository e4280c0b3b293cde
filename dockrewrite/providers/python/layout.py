"""Where the python rewrite puts what it installs, and the RUN-classification item the planner walks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockrewrite.model import Instruction
from dockrewrite.providers.python import deps

VENV = "/opt/venv"
PREFIX = "/install"
LINKED_LIST = "/tmp/linked-packages.txt"  # Debian packages the built modules link, listed in the builder
UV_PYTHON = "/opt/uv-python"  # where the builder has uv put a Python it downloads (UV_PYTHON_INSTALL_DIR)
PIP_ITSELF = frozenset({"pip", "setuptools", "wheel"})
PYTHON_PROGRAM = re.compile(r"^(/usr/local/bin/)?(python3?(\.\d+)?|pip3?)$")
# Programs a build step may call that a slim runtime does not have: such steps cannot move there.
BUILD_PROGRAMS = frozenset(
    {"gcc", "g++", "cc", "make", "cmake", "git", "npm", "npx", "node", "yarn", "pnpm", "cargo", "go", "curl", "wget"}
)


@dataclass
class Item:
    ins: Instruction
    role: str  # builder | runtime | both | split | meta
    segments: list[deps.Segment]
