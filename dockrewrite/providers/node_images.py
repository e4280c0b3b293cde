"""node:<tag> images: the major version, the libc family, and the slim/alpine/distroless image of the same Node."""

from __future__ import annotations

import re

from dockrewrite import images

DISTROLESS_MAJORS = frozenset({18, 20, 22, 24})
NGINX = "nginx:alpine"


def split_ref(image: str) -> tuple[str, str, str]:
    """`node:20-alpine@sha256:…` -> ("node", "20-alpine", "@sha256:…"); the tag is "" when absent."""
    ref, at, digest = image.partition("@")
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = ref.rpartition(":")
    else:
        repo, tag = ref, ""
    return repo, tag, (at + digest if at else "")


def major(resolved: str) -> int | None:
    m = re.match(r"v?(\d+)", images.tag_of(resolved))
    return int(m.group(1)) if m else None


def is_alpine(resolved: str) -> bool:
    return "alpine" in images.tag_of(resolved).lower()


def slim_of(image: str) -> str:
    """node:20 -> node:20-slim; node:20-bookworm -> node:20-bookworm-slim; node:20-alpine3.19 -> node:20-slim."""
    repo, tag, _ = split_ref(image)
    if "slim" in tag:
        return f"{repo}:{tag}"
    if not tag or tag == "latest" or tag.startswith("alpine"):
        return f"{repo}:slim"
    tag = re.sub(r"-alpine[\d.]*$", "", tag)
    return f"{repo}:{tag}-slim"


def alpine_of(image: str) -> str:
    """node:20 -> node:20-alpine; node:20-bookworm-slim -> node:20-alpine."""
    repo, tag, _ = split_ref(image)
    if "alpine" in tag:
        return f"{repo}:{tag}"
    if not tag or tag in ("latest", "slim"):
        return f"{repo}:alpine"
    tag = re.sub(r"-slim$", "", tag)
    for codename in images.DEBIAN_CODENAMES:
        tag = re.sub(rf"-{codename}(-slim)?$", "", tag)
    return f"{repo}:{tag}-alpine"


def distroless(node_major: int) -> str:
    return f"gcr.io/distroless/nodejs{node_major}-debian12"
