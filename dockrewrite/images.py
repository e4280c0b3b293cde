"""Base images the rewrites use, and what we know about image families."""

from __future__ import annotations

import re

DISTROLESS_STATIC = "gcr.io/distroless/static-debian12"
ALPINE = "alpine:3.20"
SCRATCH = "scratch"
NONROOT_UID = "65532"
NONROOT = f"{NONROOT_UID}:{NONROOT_UID}"  # the distroless images' nonroot user, as USER takes it

# Debian release the last images of a golang:<version> tag without a suffix were built on (the official
# images move to each new Debian release). Where two releases are possible, the newer one: a binary
# linked against an older glibc runs on a newer one, not the other way round.
_GO_DEFAULT_CODENAME = ((24, "trixie"), (19, "bookworm"), (16, "bullseye"), (12, "buster"), (9, "stretch"))
DEBIAN_CODENAMES = ("trixie", "bookworm", "bullseye", "buster", "stretch", "jessie")
_DISTROLESS_DEBIAN = {"bookworm": "12", "trixie": "13", "bullseye": "11"}


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


def alpine_for(builder_image: str) -> str:
    """The alpine release a musl build needs: the one in the builder's tag, else the default."""
    m = re.search(r"alpine(3\.\d+)", tag_of(builder_image))
    return f"alpine:{m.group(1)}" if m else ALPINE


def debian_slim(codename: str) -> str:
    return f"debian:{codename}-slim"


def distroless_base(codename: str) -> str | None:
    version = _DISTROLESS_DEBIAN.get(codename)
    return f"gcr.io/distroless/base-debian{version}" if version else None


# The Python each Debian release ships, which gcr.io/distroless/python3-debianN runs as /usr/bin/python3.
_DEBIAN_PYTHON = {"bookworm": "3.11", "bullseye": "3.9", "trixie": "3.13"}


def distroless_python(codename: str | None) -> tuple[str, str, str] | None:
    """(runtime image, Debian builder image, Python version) for a release; bookworm when the tag is silent."""
    codename = codename or "bookworm"
    version = _DISTROLESS_DEBIAN.get(codename)
    if version is None or codename not in _DEBIAN_PYTHON:
        return None
    return f"gcr.io/distroless/python3-debian{version}", f"debian:{version}-slim", _DEBIAN_PYTHON[codename]


def python_version(image: str) -> str | None:
    """'3.10' for python:3.10-slim, None when the tag does not say."""
    m = re.match(r"(\d+\.\d+)", tag_of(image))
    return m.group(1) if m else None
