"""distroless: Google's images without shell or package manager; static, base, cc and nodejs variants."""

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
# The Debian release the distroless nodejs images are built on: a builder that gathers libraries for them must be
# of it, or they would not match the image's glibc.
NODEJS_CODENAME = "bookworm"


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


def own_runtime_image(builder: str, *_: object) -> str | None:
    """static for a Debian python or node image: the rewrite copies in the builder's own interpreter (or node)
    with every library it and the app's modules link, glibc included, so no Debian release has to match the
    builder's. None for alpine (musl) and Ubuntu images, whose interpreter the rewrite does not gather."""
    return STATIC_IMAGE if images.family(builder) in (None, *images.DEBIAN_CODENAMES) else None


def nodejs_image(builder: str, major: int | None) -> str | None:
    """The distroless Node image of the builder's Node major, None when there is none (the images are per major)."""
    return f"gcr.io/distroless/nodejs{major}-debian{_DEBIAN[NODEJS_CODENAME]}" if major in NODEJS_MAJORS else None


# glibc and OpenSSL, which every glibc variant has; cc adds the C++ runtime (libgcc_s, libstdc++, libgomp).
_GLIBC = ("ld-linux*", "libc.so.*", "libm.so.*", "libpthread.so.*", "libdl.so.*", "librt.so.*", "libresolv.so.*")
_BASE_LIBRARIES = (*_GLIBC, "libutil.so.*", "libnss_*", "libssl.so.*", "libcrypto.so.*")
_CC_LIBRARIES = (
    *_GLIBC,
    "libutil.so.*",
    "libnss_*",
    "libgcc_s.so.*",
    "libstdc++.so.*",
    "libgomp.so.*",
    "libssl.so.*",
    "libcrypto.so.*",
)
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
STATIC = Runtime(variant="static", libc=None, images={"go": static_image, "python": own_runtime_image}, **_COMMON)
BASE = Runtime(variant="base", libc="glibc", images={"go": base_image}, libraries=_BASE_LIBRARIES, **_COMMON)
CC = Runtime(variant="cc", libc="glibc", images={"go": cc_image}, libraries=_CC_LIBRARIES, **_COMMON)
NODEJS = Runtime(
    variant="nodejs",
    libc="glibc",
    images={"node": nodejs_image},
    entrypoint=("/nodejs/bin/node",),
    libraries=_CC_LIBRARIES,
    **_COMMON,
)
register(STATIC, BASE, CC, NODEJS)
# Node on static with the builder's own node: not registered, so what --runtime distroless and the selection
# give for Node stays the nodejs image; the Node provider takes this one where the nodejs image cannot serve
# (a pinned release, a major with no nodejs image, a version from a build argument, addons from another release).
NODE_STATIC = Runtime(variant="static", libc=None, images={"node": own_runtime_image}, **_COMMON)
