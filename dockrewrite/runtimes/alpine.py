"""alpine: busybox's shell and tools, musl, apk; the alpine flavour of the language images."""

from __future__ import annotations

import re

from dockrewrite import images
from dockrewrite.runtimes.base import COMMON_PROGRAMS, Runtime, register

# What the alpine image's busybox answers to (the applets commands in Dockerfiles actually use).
BUSYBOX = COMMON_PROGRAMS | {"ash", "wget", "nc", "ps", "nslookup", "ping", "netstat", "pgrep", "pkill", "watch"}
# Tools a package adds: program -> package name.
INSTALLABLE = {
    "curl": "curl",
    "bash": "bash",
    "jq": "jq",
    "tini": "tini",
    "dumb-init": "dumb-init",
    "envsubst": "gettext",
    "su-exec": "su-exec",
    "pg_isready": "postgresql-client",
    "psql": "postgresql-client",
    "mysql": "mysql-client",
    "mysqladmin": "mysql-client",
    "redis-cli": "redis",
    "git": "git",
    "openssl": "openssl",
}
USERS = {"root": "0:0", "nobody": "65534:65534"}
DEFAULT = "alpine:3.20"


def go_image(builder: str, codename: str | None = None) -> str:
    """The alpine release a Go binary runs on: the one in the builder's tag (what a musl build needs), else the
    default."""
    m = re.search(r"alpine(3\.\d+)", images.tag_of(builder))
    return f"alpine:{m.group(1)}" if m else DEFAULT


def node_image(image: str, major: int | None = None) -> str:
    """node:20 -> node:20-alpine; node:20-bookworm-slim -> node:20-alpine."""
    repo, tag, _ = images.split_ref(image)
    if "alpine" in tag:
        return f"{repo}:{tag}"
    if not tag or tag in ("latest", "slim"):
        return f"{repo}:alpine"
    tag = re.sub(r"-slim$", "", tag)
    for codename in images.DEBIAN_CODENAMES:
        tag = re.sub(rf"-{codename}(-slim)?$", "", tag)
    return f"{repo}:{tag}-alpine"


def python_image(image: str) -> str:
    """An alpine Python builder's own image: the packages built there run on it."""
    return image


ALPINE = Runtime(
    name="alpine",
    variant="alpine",
    family="alpine",
    shell=True,
    package_manager="apk",
    ca_certificates=True,
    tzdata=False,
    libc="musl",
    users=USERS,
    images={"go": go_image, "node": node_image, "python": python_image},
    programs=BUSYBOX,
    installable=INSTALLABLE,
    pin_versions={"alpine": ("3.22.2", "3.21.5", "3.20.3", "3.19.6", "3.18.9")},
    language_tools=True,
    rank=3,
)
register(ALPINE)
