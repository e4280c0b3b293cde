"""slim: Debian's essential packages (bash, coreutils), glibc, apt-get; the slim flavour of the language images."""

from __future__ import annotations

import re

from dockrewrite import images
from dockrewrite.runtimes.base import COMMON_PROGRAMS, Runtime, register

# Debian slim's essential packages (coreutils, dash, bash, grep, sed, findutils, tar, gzip, mawk, hostname…).
DEBIAN_BASE = COMMON_PROGRAMS | {"bash", "dash"}
# Tools a package adds: program -> package name.
INSTALLABLE = {
    "curl": "curl",
    "wget": "wget",
    "jq": "jq",
    "nc": "netcat-openbsd",
    "tini": "tini",
    "dumb-init": "dumb-init",
    "envsubst": "gettext-base",
    "ps": "procps",
    "gosu": "gosu",
    "pg_isready": "postgresql-client",
    "psql": "postgresql-client",
    "pg_dump": "postgresql-client",
    "mysql": "default-mysql-client",
    "mysqladmin": "default-mysql-client",
    "redis-cli": "redis-tools",
    "git": "git",
    "openssl": "openssl",
}
USERS = {"root": "0:0", "nobody": "65534:65534"}


def go_image(builder: str, codename: str) -> str:
    """The Debian release's slim image, for a Go binary built on that release (or a static one)."""
    return f"debian:{codename}-slim"


def node_image(image: str, major: int | None = None) -> str:
    """node:20 -> node:20-slim; node:20-bookworm -> node:20-bookworm-slim; node:20-alpine3.19 -> node:20-slim."""
    repo, tag, _ = images.split_ref(image)
    if "slim" in tag:
        return f"{repo}:{tag}"
    if not tag or tag == "latest" or tag.startswith("alpine"):
        return f"{repo}:slim"
    tag = re.sub(r"-alpine[\d.]*$", "", tag)
    return f"{repo}:{tag}-slim"


def python_image(image: str) -> str:
    """python:3.10 -> python:3.10-slim; python:3.11-bookworm -> python:3.11-slim-bookworm."""
    ref, _, digest = image.partition("@")
    repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
    if not tag or tag == "latest":
        return f"{repo}:slim"
    if "slim" in tag:
        return f"{repo}:{tag}"
    for codename in images.DEBIAN_CODENAMES:
        if tag.endswith("-" + codename):
            return f"{repo}:{tag[: -len(codename) - 1]}-slim-{codename}"
    return f"{repo}:{tag}-slim"


SLIM = Runtime(
    name="slim",
    variant="slim",
    family="debian",
    shell=True,
    package_manager="apt-get",
    ca_certificates=False,
    tzdata=False,
    libc="glibc",
    users=USERS,
    images={"go": go_image, "node": node_image, "python": python_image},
    programs=DEBIAN_BASE,
    installable=INSTALLABLE,
    pin_versions={"debian": ("13.3", "12.13", "11.11")},
    language_tools=True,
    rank=4,
)
register(SLIM)
