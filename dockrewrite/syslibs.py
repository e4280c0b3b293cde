"""System packages: which are build-only, and the runtime package each -dev package needs.

One table for every language, so Go CGO builds and Python native wheels agree.
"""

from __future__ import annotations

import re

from dockrewrite import shell

# Build tools: never needed by a compiled program at run time.
BUILD_ONLY = frozenset(
    {
        "gcc",
        "g++",
        "cc",
        "clang",
        "make",
        "cmake",
        "build-essential",
        "build-base",
        "pkg-config",
        "pkgconf",
        "pkgconfig",
        "autoconf",
        "automake",
        "libtool",
        "musl-dev",
        "libc6-dev",
        "libc-dev",
        "linux-headers",
        "binutils",
        "git",
        "mercurial",
        "upx",
        "python3-dev",
        "python-dev",
        "patch",
        "bison",
        "flex",
    }
)

# Debian/Ubuntu: -dev package -> the shared-library package a program built against it loads.
DEBIAN_RUNTIME = {
    "libsqlite3-dev": "libsqlite3-0",
    "zlib1g-dev": "zlib1g",
    "libpq-dev": "libpq5",
    "libssl-dev": "libssl3",
    "libjpeg-dev": "libjpeg62-turbo",
    "libjpeg62-turbo-dev": "libjpeg62-turbo",
    "libpng-dev": "libpng16-16",
    "libxml2-dev": "libxml2",
    "libxslt1-dev": "libxslt1.1",
    "libffi-dev": "libffi8",
    "libyaml-dev": "libyaml-0-2",
    "libcurl4-openssl-dev": "libcurl4",
    "libzstd-dev": "libzstd1",
    "liblz4-dev": "liblz4-1",
    "libbz2-dev": "libbz2-1.0",
    "liblzma-dev": "liblzma5",
    "libsnappy-dev": "libsnappy1v5",
    "librdkafka-dev": "librdkafka1",
    "libmagic-dev": "libmagic1",
    "libgeos-dev": "libgeos-c1v5",
    "libproj-dev": "libproj25",
    "libgdal-dev": "libgdal32",
    "libvips-dev": "libvips42",
    "libmagickwand-dev": "libmagickwand-6.q16-6",
    "libwebp-dev": "libwebp7",
    "libtiff-dev": "libtiff6",
    "libfreetype6-dev": "libfreetype6",
    "libfreetype-dev": "libfreetype6",
    "libmariadb-dev": "libmariadb3",
    "libmariadb-dev-compat": "libmariadb3",
    "default-libmysqlclient-dev": "libmariadb3",
    "libldap2-dev": "libldap-2.5-0",
    "libsasl2-dev": "libsasl2-2",
    "libgmp-dev": "libgmp10",
    "libpcap-dev": "libpcap0.8",
    "libusb-1.0-0-dev": "libusb-1.0-0",
    "libseccomp-dev": "libseccomp2",
    "libsystemd-dev": "libsystemd0",
    "libudev-dev": "libudev1",
    "libglib2.0-dev": "libglib2.0-0",
    "libgpgme-dev": "libgpgme11",
    "libbtrfs-dev": "",
    "libdevmapper-dev": "libdevmapper1.02.1",
    "libpcre3-dev": "libpcre3",
    "libpcre2-dev": "libpcre2-8-0",
    "libcap-dev": "libcap2",
    "libsodium-dev": "libsodium23",
    "libzmq3-dev": "libzmq5",
    "libhiredis-dev": "libhiredis0.14",
    "libopus-dev": "libopus0",
    "libavcodec-dev": "libavcodec59",
    "libavformat-dev": "libavformat59",
    "libswscale-dev": "libswscale6",
    "libleptonica-dev": "liblept5",
    "libtesseract-dev": "libtesseract5",
}

# Alpine: -dev package -> runtime package.
ALPINE_RUNTIME = {
    "sqlite-dev": "sqlite-libs",
    "zlib-dev": "zlib",
    "postgresql-dev": "libpq",
    "libpq-dev": "libpq",
    "openssl-dev": "libssl3",
    "libffi-dev": "libffi",
    "jpeg-dev": "libjpeg-turbo",
    "libjpeg-turbo-dev": "libjpeg-turbo",
    "libpng-dev": "libpng",
    "libxml2-dev": "libxml2",
    "libxslt-dev": "libxslt",
    "yaml-dev": "yaml",
    "curl-dev": "libcurl",
    "zstd-dev": "zstd-libs",
    "lz4-dev": "lz4-libs",
    "bzip2-dev": "libbz2",
    "xz-dev": "xz-libs",
    "librdkafka-dev": "librdkafka",
    "file-dev": "libmagic",
    "geos-dev": "geos",
    "vips-dev": "vips",
    "imagemagick-dev": "imagemagick-libs",
    "libwebp-dev": "libwebp",
    "tiff-dev": "tiff",
    "freetype-dev": "freetype",
    "mariadb-dev": "mariadb-connector-c",
    "mariadb-connector-c-dev": "mariadb-connector-c",
    "openldap-dev": "libldap",
    "gmp-dev": "gmp",
    "libpcap-dev": "libpcap",
    "libsodium-dev": "libsodium",
    "zeromq-dev": "libzmq",
    "pcre-dev": "pcre",
    "pcre2-dev": "pcre2",
    "libcap-dev": "libcap",
    "libseccomp-dev": "libseccomp",
    "gpgme-dev": "gpgme",
    "libusb-dev": "libusb",
    # Pillow's optional image codecs and WeasyPrint's rendering stack
    "lcms2-dev": "lcms2",
    "openjpeg-dev": "openjpeg",
    "tk-dev": "tk",
    "tcl-dev": "tcl",
    "harfbuzz-dev": "harfbuzz",
    "fribidi-dev": "fribidi",
    "libimagequant-dev": "libimagequant",
    "libxcb-dev": "libxcb",
    "cairo-dev": "cairo",
    "pango-dev": "pango",
    "gdk-pixbuf-dev": "gdk-pixbuf",
    "libjpeg-dev": "libjpeg-turbo",
    "linux-headers": "",
    "musl-dev": "",
    "libc-dev": "",
    "python3-dev": "",
    "krb5-dev": "krb5-libs",
    "unixodbc-dev": "unixodbc",
    "proj-dev": "proj",
    "gdal-dev": "gdal",
    "hdf5-dev": "hdf5",
    "openblas-dev": "openblas",
    "lapack-dev": "lapack",
    "libevent-dev": "libevent",
    "libmemcached-dev": "libmemcached-libs",
    "cyrus-sasl-dev": "cyrus-sasl",
    "jansson-dev": "jansson",
    "libxrender-dev": "libxrender",
    "libxext-dev": "libxext",
    "fontconfig-dev": "fontconfig",
    "expat-dev": "expat",
    "ncurses-dev": "ncurses-libs",
    "readline-dev": "readline",
}

_INSTALL = re.compile(r"^(apt-get|apt|apk|yum|dnf|microdnf)$")


def installed_packages(run_text: str) -> tuple[str | None, list[str]]:
    """Packages a RUN installs: (manager, names), from apt-get/apt/apk/yum/dnf invocations."""
    manager = None
    names: list[str] = []
    for seg in shell.segments(run_text):
        _, words = shell.env_prefix(seg.words())
        if not words or not _INSTALL.match(words[0]):
            continue
        tool = words[0]
        verb = next((w for w in words[1:] if not w.startswith("-")), None)
        if verb not in ("install", "add"):
            continue
        manager = "apk" if tool == "apk" else "apt" if tool.startswith("apt") else "rpm"
        skip_next = False
        for w in words[words.index(verb) + 1 :]:
            if skip_next:
                skip_next = False
                continue
            if w in ("--virtual", "-t", "--repository", "-X"):
                skip_next = True
                continue
            if w.startswith("-") or "$" in w:
                continue
            names.append(re.split(r"[=<>~]", w, maxsplit=1)[0])
    return manager, names


def is_dev(name: str) -> bool:
    return name.endswith(("-dev", "-devel")) or name in BUILD_ONLY


def runtime_packages(dev_packages: list[str], family: str) -> tuple[list[str], list[str]]:
    """-> (runtime packages, -dev packages with no known runtime counterpart)."""
    table = ALPINE_RUNTIME if family == "alpine" else DEBIAN_RUNTIME
    needed: list[str] = []
    unknown: list[str] = []
    for name in dev_packages:
        if name in BUILD_ONLY:
            continue
        if name in table:
            if table[name] and table[name] not in needed:
                needed.append(table[name])
        elif name.endswith(("-dev", "-devel")):
            unknown.append(name)
    return needed, unknown
