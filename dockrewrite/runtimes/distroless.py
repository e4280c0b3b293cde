"""distroless: Google's images without shell or package manager; static, base, cc, python and nodejs variants."""

from __future__ import annotations

from dockrewrite import images
from dockrewrite.runtimes.base import Runtime, register

NONROOT_UID = "65532"
NONROOT = f"{NONROOT_UID}:{NONROOT_UID}"  # the nonroot user every variant ships, as USER takes it
USERS = {"root": "0:0", "nonroot": NONROOT, "nobody": "65534:65534"}
STATIC_IMAGE = "gcr.io/distroless/static-debian12"
NODEJS_MAJORS = frozenset({18, 20, 22, 24})
# The Debian releases distroless images are built on, as their names number them.
_DEBIAN = {"bookworm": "12", "trixie": "13", "bullseye": "11"}
# The Python each Debian release ships, which gcr.io/distroless/python3-debianN runs as /usr/bin/python3.
_DEBIAN_PYTHON = {"bookworm": "3.11", "bullseye": "3.9", "trixie": "3.13"}


def static_image(builder: str, codename: str) -> str:
    return STATIC_IMAGE


def base_image(builder: str, codename: str) -> str | None:
    """glibc, OpenSSL and CA certificates: for a program linked against the Debian release's libc."""
    version = _DEBIAN.get(codename)
    return f"gcr.io/distroless/base-debian{version}" if version else None


def cc_image(builder: str, codename: str) -> str | None:
    """base plus libgcc and libstdc++: for a program that links C++ code."""
    version = _DEBIAN.get(codename)
    return f"gcr.io/distroless/cc-debian{version}" if version else None


def python_release(codename: str | None) -> tuple[str, str, str] | None:
    """(runtime image, Debian builder image, Python version) for a release; bookworm when the tag is silent."""
    codename = codename or "bookworm"
    version = _DEBIAN.get(codename)
    if version is None or codename not in _DEBIAN_PYTHON:
        return None
    return f"gcr.io/distroless/python3-debian{version}", f"debian:{version}-slim", _DEBIAN_PYTHON[codename]


def python_image(builder: str) -> str | None:
    """The distroless Python of the builder's Debian release."""
    found = python_release(images.family(builder))
    return found[0] if found else None


def nodejs_image(builder: str, major: int | None) -> str | None:
    """The distroless Node image of the builder's Node major, None when there is none (the images are per major)."""
    return f"gcr.io/distroless/nodejs{major}-debian12" if major in NODEJS_MAJORS else None


_COMMON = dict(
    name="distroless",
    family="debian",
    shell=False,
    package_manager=None,
    ca_certificates=True,
    tzdata=True,
    users=USERS,
    nonroot_tag=":nonroot",
    rank=2,
)
STATIC = Runtime(variant="static", libc=None, images={"go": static_image}, **_COMMON)
BASE = Runtime(variant="base", libc="glibc", images={"go": base_image}, **_COMMON)
CC = Runtime(variant="cc", libc="glibc", images={"go": cc_image}, **_COMMON)
PYTHON = Runtime(variant="python", libc="glibc", images={"python": python_image}, entrypoint=("python3",), **_COMMON)
NODEJS = Runtime(
    variant="nodejs", libc="glibc", images={"node": nodejs_image}, entrypoint=("/nodejs/bin/node",), **_COMMON
)
register(STATIC, BASE, CC, PYTHON, NODEJS)
