"""What an image reference says: its name, tag and digest, and the family and versions a builder image has."""

from __future__ import annotations

import re

# Debian release the last images of a golang:<version> tag without a suffix were built on (the official
# images move to each new Debian release). Where two releases are possible, the newer one: a binary
# linked against an older glibc runs on a newer one, not the other way round.
_GO_DEFAULT_CODENAME = ((24, "trixie"), (19, "bookworm"), (16, "bullseye"), (12, "buster"), (9, "stretch"))
DEBIAN_CODENAMES = ("trixie", "bookworm", "bullseye", "buster", "stretch", "jessie")


def split_ref(image: str) -> tuple[str, str, str]:
    """`node:20-alpine@sha256:…` -> ("node", "20-alpine", "@sha256:…"); the tag is "" when absent."""
    ref, at, digest = image.partition("@")
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = ref.rpartition(":")
    else:
        repo, tag = ref, ""
    return repo, tag, (at + digest if at else "")


def tag_of(image: str) -> str:
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def family(image: str) -> str | None:
    """'alpine', a Debian codename, 'ubuntu', or None when the image does not tell."""
    # imported here: the providers package imports every provider, and they (through the runtimes) this module
    from dockrewrite.providers.base import image_name

    name, tag = image_name(image), tag_of(image).lower()
    if name == "alpine" or "alpine" in tag:
        return "alpine"
    for codename in DEBIAN_CODENAMES:
        if codename in tag:
            return codename
    if name == "debian":
        return {"12": "bookworm", "11": "bullseye", "13": "trixie", "10": "buster"}.get(tag.split(".")[0].split("-")[0])
    if name == "ubuntu":
        return "ubuntu"
    if name == "golang":
        m = re.match(r"1\.(\d+)", tag)
        if tag in ("latest", "1") or not m:
            return "trixie" if tag in ("latest", "1") else None
        minor = int(m.group(1))
        for since, codename in _GO_DEFAULT_CODENAME:
            if minor >= since:
                return codename
        return "jessie"
    return None


def go_minor(image: str) -> int | None:
    """The Go minor version of a golang:<1.N...> image, None when the tag does not say."""
    from dockrewrite.providers.base import image_name

    if image_name(image) != "golang":
        return None
    m = re.match(r"1\.(\d+)", tag_of(image))
    return int(m.group(1)) if m else None


def python_version(image: str) -> str | None:
    """'3.10' for python:3.10-slim, None when the tag does not say."""
    m = re.match(r"(\d+\.\d+)", tag_of(image))
    return m.group(1) if m else None
