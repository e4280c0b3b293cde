"""distroless: Google's images without shell or package manager; static, base, python and nodejs variants."""

from __future__ import annotations

from dockrewrite import images
from dockrewrite.runtimes.base import Runtime, register

NONROOT_UID = images.NONROOT_UID
NONROOT = images.NONROOT  # the nonroot user every variant ships, as USER takes it
USERS = {"root": "0:0", "nonroot": NONROOT, "nobody": "65534:65534"}
NODEJS_MAJORS = frozenset({18, 20, 22, 24})


def nodejs_image(builder: str, major: int | None) -> str | None:
    """The distroless Node image of the builder's Node major, None when there is none (the images are per major)."""
    return f"gcr.io/distroless/nodejs{major}-debian12" if major in NODEJS_MAJORS else None


def python_image(codename: str | None) -> str | None:
    """The distroless Python of a Debian release (bookworm when the tag is silent), None when there is none."""
    found = images.distroless_python(codename)
    return found[0] if found else None


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
STATIC = Runtime(variant="static", libc=None, images={"go": lambda: images.DISTROLESS_STATIC}, **_COMMON)
BASE = Runtime(variant="base", libc="glibc", images={"go": images.distroless_base}, **_COMMON)
PYTHON = Runtime(variant="python", libc="glibc", images={"python": python_image}, entrypoint=("python3",), **_COMMON)
NODEJS = Runtime(
    variant="nodejs", libc="glibc", images={"node": nodejs_image}, entrypoint=("/nodejs/bin/node",), **_COMMON
)
register(STATIC, BASE, PYTHON, NODEJS)
