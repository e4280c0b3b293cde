"""The Runtime value: one runtime base, its images per language, what it provides and how it is changed."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

# fmt: off
# Utilities both busybox (alpine) and Debian slim's essential packages provide.
COMMON_PROGRAMS = frozenset({
    "sh", "sleep", "cat", "ls", "grep", "sed", "awk", "env", "mkdir", "rm", "cp", "mv", "chmod", "chown", "date",
    "head", "tail", "tr", "cut", "sort", "uniq", "wc", "tee", "touch", "kill", "printenv", "id", "whoami",
    "hostname", "timeout", "tar", "gzip", "gunzip", "find", "xargs", "basename", "dirname", "readlink", "realpath",
    "expr", "seq", "nohup", "su", "stat", "df", "du", "ln", "pwd", "uname", "which", "base64", "md5sum", "sha256sum",
})
# fmt: on


@dataclass(frozen=True, eq=False)  # one value per base: equal when the same (and hashable, with its tables)
class Runtime:
    """A runtime base as the rewrites rely on it. `images` maps a language to the function that names the image;
    every base takes the same arguments for a language (go: builder image and Debian release; node: builder image
    and Node major; python: builder image)."""

    name: str  # what --runtime and the plan call it
    variant: str  # the image flavour where one name has several (distroless: static, base, cc, python, nodejs)
    family: str | None  # whose packages the base is made of: "debian", "alpine", or None (scratch)
    shell: bool  # /bin/sh, for RUN lines and shell-form commands
    package_manager: str | None  # "apk", "apt-get", or None when the base cannot install packages
    ca_certificates: bool  # /etc/ssl/certs/ca-certificates.crt
    tzdata: bool  # /usr/share/zoneinfo
    libc: str | None  # "glibc", "musl", or None (a static binary only)
    users: Mapping[str, str]  # the /etc/passwd users the rewrites may name -> "uid:gid"
    images: Mapping[str, Callable[..., str | None]] = field(default_factory=dict)
    programs: frozenset[str] = frozenset()  # what commands may call without installing anything
    installable: Mapping[str, str] = field(default_factory=dict)  # program -> the package that adds it
    language_tools: bool = False  # the language image's own tools beside the interpreter (npm, yarn, pip)
    entrypoint: tuple[str, ...] = ()  # the image's ENTRYPOINT, which a CMD gives arguments to
    nonroot_tag: str = ""  # the tag suffix of the image flavour that runs as the base's unprivileged user
    unpinned_rule: str | None = None  # the hadolint rule an unpinned install trips, ignored on the install
    rank: int = 0  # place in the --runtime list: from the base that holds least to the one that holds most
    offered: bool = True  # whether --runtime and the config offer it (nginx is picked for static sites only)
    installer: Callable[[Sequence[str]], str] | None = None
    user_adder: Callable[[str, str], str] | None = None

    def image(self, language: str, *args: object) -> str | None:
        """The image for a language (None when the base has none for it or for these arguments)."""
        make = self.images.get(language)
        return make(*args) if make is not None else None

    def install(self, packages: Sequence[str]) -> str | None:
        """The RUN body that installs these packages, None when the base cannot."""
        return self.installer(packages) if self.installer is not None else None

    def add_user(self, name: str, uid: str) -> str | None:
        """The RUN body that adds an unprivileged user with its home, None when the base cannot."""
        return self.user_adder(name, uid) if self.user_adder is not None else None

    def provides(self, program: str) -> tuple[bool, str | None]:
        """(available, package to install) for a program a command calls."""
        name = posixpath.basename(program)
        if name in self.programs:
            return True, None
        package = self.installable.get(name)
        return (package is not None), package


_REGISTRY: list[Runtime] = []


def register(*runtimes: Runtime) -> None:
    """Each runtime module joins the list here; select.py reads it."""
    _REGISTRY.extend(runtimes)


def registered() -> tuple[Runtime, ...]:
    return tuple(_REGISTRY)
