"""The Runtime value: one runtime base, its images per language, what it provides and how it is changed."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from dockrewrite import ops

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
    # The shared libraries the base has, as file-name patterns: a build's linked libraries it need not get.
    libraries: tuple[str, ...] = ()
    # A file system of its own: /tmp, /etc/mime.types, /etc/services, /etc/passwd (every base but scratch).
    system_files: bool = True
    entrypoint: tuple[str, ...] = ()  # the image's ENTRYPOINT, which a CMD gives arguments to
    nonroot_tag: str = ""  # the tag suffix of the image flavour that runs as the base's unprivileged user
    pin_versions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # --pin: image -> versions, newest first
    rank: int = 0  # place in the --runtime list: from the base that holds least to the one that holds most
    offered: bool = True  # whether --runtime and the config offer it (nginx is picked for static sites only)

    def image(self, language: str, *args: object) -> str | None:
        """The image for a language (None when the base has none for it or for these arguments)."""
        make = self.images.get(language)
        return make(*args) if make is not None else None

    def install(self, packages: Sequence[str], comments: tuple[str, ...] = ()) -> ops.Install:
        """The step that installs these packages, written by templates/runtimes/<name>.j2 (its `install`
        macro); only a base with a package manager has that template."""
        if self.package_manager is None:
            raise ValueError(f"{self.name} cannot install packages")
        return ops.Install(packages=tuple(packages), runtime=self.name, comments=comments)

    def add_user(self, name: str, uid: str, then: Sequence[str] = (), comments: tuple[str, ...] = ()) -> ops.AddUser:
        """The step that adds an unprivileged user with a home (and runs `then` after it), written by
        templates/runtimes/<name>.j2 (its `add_user` macro); only a base with a shell has that template."""
        if not self.shell:
            raise ValueError(f"{self.name} has no shell to add a user with")
        return ops.AddUser(name=name, uid=uid, runtime=self.name, then=tuple(then), comments=comments)

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
