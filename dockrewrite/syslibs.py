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
    # more of what Python packages build against (Debian 12 names; several packages where the library is split)
    "libmariadbclient-dev": "libmariadb3",
    "libmysqlclient-dev": "libmariadb3",
    "libkrb5-dev": "libkrb5-3 libgssapi-krb5-2",
    "unixodbc-dev": "libodbc2",
    "libcairo2-dev": "libcairo2",
    "libpango1.0-dev": "libpango-1.0-0 libpangocairo-1.0-0 libpangoft2-1.0-0",
    "libgdk-pixbuf2.0-dev": "libgdk-pixbuf-2.0-0",
    "libgdk-pixbuf-2.0-dev": "libgdk-pixbuf-2.0-0",
    "libgirepository1.0-dev": "libgirepository-1.0-1",
    "libxmlsec1-dev": "libxmlsec1 libxmlsec1-openssl",
    "libevent-dev": "libevent-2.1-7",
    "libmemcached-dev": "libmemcached11",
    "libhdf5-dev": "libhdf5-103-1",
    "libopenblas-dev": "libopenblas0",
    "liblapack-dev": "liblapack3",
    "libblas-dev": "libblas3",
    "libatlas-base-dev": "libatlas3-base",
    "libfftw3-dev": "libfftw3-double3",
    "libexpat1-dev": "libexpat1",
    "libncurses-dev": "libncursesw6",
    "libncurses5-dev": "libncursesw6",
    "libncursesw5-dev": "libncursesw6",
    "libreadline-dev": "libreadline8",
    "libgdbm-dev": "libgdbm6",
    "liblcms2-dev": "liblcms2-2",
    "libopenjp2-7-dev": "libopenjp2-7",
    "libtiff5-dev": "libtiff6",
    "libharfbuzz-dev": "libharfbuzz0b",
    "libfribidi-dev": "libfribidi0",
    "libxcb1-dev": "libxcb1",
    "libx11-dev": "libx11-6",
    "libxext-dev": "libxext6",
    "libxrender-dev": "libxrender1",
    "libsm-dev": "libsm6",
    "libfontconfig1-dev": "libfontconfig1",
    "libfontconfig-dev": "libfontconfig1",
    "libgl1-mesa-dev": "libgl1",
    "libgl-dev": "libgl1",
    "tk-dev": "libtk8.6",
    "tcl-dev": "libtcl8.6",
    "libgeoip-dev": "libgeoip1",
    "libsndfile1-dev": "libsndfile1",
    "portaudio19-dev": "libportaudio2",
    "libasound2-dev": "libasound2",
    "libmpc-dev": "libmpc3",
    "libmpfr-dev": "libmpfr6",
    "libgmp3-dev": "libgmp10",
    "libgraphviz-dev": "libgvc6",
    "libuv1-dev": "libuv1",
    "libarchive-dev": "libarchive13",
    "libleveldb-dev": "libleveldb1d",
    "liblmdb-dev": "liblmdb0",
    "libssh2-1-dev": "libssh2-1",
    "libgit2-dev": "libgit2-1.5",
    "libsecp256k1-dev": "libsecp256k1-1",
    "libaio-dev": "libaio1",
    "libspatialite-dev": "libsqlite3-mod-spatialite",
    "libnss3-dev": "libnss3",
    "libdbus-1-dev": "libdbus-1-3",
    "libcups2-dev": "libcups2",
    "libpoppler-cpp-dev": "libpoppler-cpp0v5",
    "libzbar-dev": "libzbar0",
    "libcurl4-gnutls-dev": "libcurl3-gnutls",
    "libjson-c-dev": "libjson-c5",
    "libonig-dev": "libonig5",
    "libzip-dev": "libzip4",
    "libicu-dev": "libicu72",
    "libedit-dev": "libedit2",
    "libnetcdf-dev": "libnetcdf19",
    "libudunits2-dev": "libudunits2-0",
    "libpython3-dev": "",
    "libeigen3-dev": "",  # headers only
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
            needed += [p for p in table[name].split() if p not in needed]  # some libraries come in several
        elif name.endswith(("-dev", "-devel")):
            unknown.append(name)
    return needed, unknown
