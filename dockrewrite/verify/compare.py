"""Compare the original image's runtime contract with the rewrite's and mark each difference intended or not.

A difference is intended when the base images explain it, when it is a mechanical equivalent (a moved
binary, shell form made exec form, a non-root user), or when the rewrite declared it: the plan's typed
intents (dockrewrite/intents.py), which `declared_reason` is the one place to read.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dockrewrite.intents import Declared

# Environment variables that only steer `go build`; they say nothing about how the image runs.
GO_BUILD_ONLY_ENV = frozenset(
    {
        "CGO_ENABLED", "GOOS", "GOARCH", "GOARM", "GOAMD64", "GO386", "GOFLAGS", "GO111MODULE", "GOPROXY",
        "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GONOSUMCHECK", "GOSUMDB", "GOINSECURE", "GOCACHE",
        "GOMODCACHE", "GOBIN", "GOROOT", "GOTOOLCHAIN", "GOEXPERIMENT", "CGO_CFLAGS", "CGO_LDFLAGS",
        "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CC", "CXX",
    }
)  # fmt: skip
# What the golang images set; used when the builder base image cannot be inspected locally.
GOLANG_BASE_ENV = frozenset({"GOLANG_VERSION", "GOPATH", "GOTOOLCHAIN"})
GO_TOOLCHAIN_DIRS = ("/go/bin", "/usr/local/go/bin")
# Env a rewrite may add for a runtime that lacks something the builder image had.
REWRITE_ENV = {"ZONEINFO": "time zone data copied from the Go toolchain (the runtime has no tzdata)"}


@dataclass
class ImageFacts:
    image_id: str
    size: int
    layers: int
    command: list[str]
    env: dict[str, str]
    exposed_ports: list[str]
    working_dir: str
    user: str
    labels: dict[str, str]
    healthcheck: dict | None
    stop_signal: str
    volumes: list[str]
    largest_layer: str = ""
    largest_layer_size: int = 0


@dataclass
class Difference:
    field: str
    original: object
    rewrite: object
    intended: bool
    reason: str = ""

    def describe(self) -> str:
        mark = "intended" if self.intended else "CHANGED"
        why = f" ({self.reason})" if self.reason else ""
        return f"{mark}: {self.field}: {short(self.original)} -> {short(self.rewrite)}{why}"


def _is_root(user: str) -> bool:
    return user.split(":", 1)[0] in ("", "root", "0")


def _same_program(a: Sequence[str], b: Sequence[str]) -> str | None:
    """Why argv b stands for argv a (a moved binary path), or None."""
    if len(a) != len(b):
        return None
    moved = []
    for x, y in zip(a, b, strict=True):
        if x == y:
            continue
        if "/" in x + y and os.path.basename(x) == os.path.basename(y):
            moved.append(f"{x} -> {y}")
            continue
        return None
    return "binary path moved: " + ", ".join(moved) if moved else ""


def _script_runner(command: Sequence[str]) -> bool:
    """`npm start`, `yarn run serve`, `pnpm start` (or the same in shell form, `sh -c "yarn start"`): a
    package manager running a package.json script."""
    if len(command) == 3 and posixpath_base(command[0]) in ("sh", "bash") and command[1] == "-c":
        words = command[2].split()
        command = words[1:] if words[:1] == ["exec"] else words
    return (
        len(command) >= 2
        and posixpath_base(command[0]) in ("npm", "yarn", "pnpm")
        and command[1] in ("start", "run", "run-script")
    )


def posixpath_base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _command_change(orig: list[str], new: list[str], shells: Iterable[list[str]]) -> str | None:
    """Why the rewrite's command is the same program as the original's, or None."""
    why = _same_program(orig, new)
    if why is not None:
        return why or "same"
    for prefix in shells:
        if orig[: len(prefix)] == prefix and len(orig) == len(prefix) + 1:
            try:
                words = shlex.split(orig[-1])
            except ValueError:
                return None
            if words and words[0] == "exec":
                words = words[1:]
            why = _same_program(words, new)
            if why is not None:
                return "shell form became exec form (the runtime has no /bin/sh)" + (f"; {why}" if why else "")
    return None


def declared_reason(declared: Declared, field: str, orig: ImageFacts, new: ImageFacts) -> str:
    """Why the rewrite declared the difference in field ("command", "env KEY", "working dir" or "user"), from
    the plan's typed intents, or "" when it did not declare it. compare asks only where nothing else explains
    the difference; a note's wording plays no part."""
    if field == "command":
        found = declared.command(new.command)
        return f"{found.why} (see the rewrite's notes)" if found else ""
    if field.startswith("env "):
        env = declared.env(field[len("env ") :])
        return env.why if env else ""
    if field == "working dir":
        workdir = declared.workdir()
        return workdir.why if workdir and workdir.path == new.working_dir else ""
    if field == "user":
        user = declared.user(new.user)
        return user.why if user and user.original == orig.user else ""
    return ""


def compare(
    orig: ImageFacts,
    new: ImageFacts,
    orig_base: ImageFacts | None = None,
    new_base: ImageFacts | None = None,
    declared: Declared = Declared(),
    orig_base_name: str = "the builder base image",
    new_base_name: str = "the runtime base image",
) -> list[Difference]:
    """Every runtime-contract difference, each marked intended or not with the reason."""
    diffs: list[Difference] = []
    shells = [["/bin/sh", "-c"], ["sh", "-c"], ["/bin/bash", "-c"]]

    if orig.command != new.command:
        why = _command_change(orig.command, new.command, shells)
        if why is None:
            why = declared_reason(declared, "command", orig, new) or None
        diffs.append(Difference("command", orig.command, new.command, why is not None, why or ""))

    for key in sorted(set(orig.env) | set(new.env)):
        a, b = orig.env.get(key), new.env.get(key)
        if a == b or key in GO_BUILD_ONLY_ENV:
            continue
        why = ""
        if key == "PATH" and a is not None:
            kept = [p for p in a.split(":") if p not in GO_TOOLCHAIN_DIRS]
            toolchain = kept != a.split(":")
            same = (orig_base and orig_base.env.get("PATH") == a) or (b is not None and kept == b.split(":"))
            if toolchain and same:
                why = "PATH of the golang base image; the Go toolchain folders are not in the runtime"
            elif b is not None and new_base and new_base.env.get("PATH") == b and orig_base is None:
                why = ""
            elif b is not None:
                why = declared_reason(declared, "env PATH", orig, new)
        elif b is None and a is not None:
            if orig_base is not None and orig_base.env.get(key) == a:
                why = f"set by {orig_base_name}, not by the Dockerfile"
            elif orig_base is None and key in GOLANG_BASE_ENV:
                why = "set by the golang base image, not by the Dockerfile"
        elif a is None and b is not None:
            if new_base is not None and new_base.env.get(key) == b:
                why = f"set by {new_base_name}"
            else:
                why = REWRITE_ENV.get(key) or declared_reason(declared, f"env {key}", orig, new)
        diffs.append(Difference(f"env {key}", a, b, bool(why), why))

    if orig.exposed_ports != new.exposed_ports:
        extra = set(new.exposed_ports) - set(orig.exposed_ports)
        inherited = (
            set(orig.exposed_ports) <= set(new.exposed_ports)
            and new_base is not None
            and extra <= set(new_base.exposed_ports)
        )
        why = f"{', '.join(sorted(extra))} exposed by {new_base_name} as well" if inherited else ""
        diffs.append(Difference("exposed ports", orig.exposed_ports, new.exposed_ports, inherited, why))

    for name in ("working_dir", "stop_signal", "volumes"):
        a, b = getattr(orig, name), getattr(new, name)
        if a == b:
            continue
        inherited = (
            orig_base is not None
            and getattr(orig_base, name) == a
            and (new_base is None or getattr(new_base, name) == b)
        )
        why = "inherited from the base image; the Dockerfile does not set it" if inherited else ""
        if not why and name == "working_dir":
            why = declared_reason(declared, "working dir", orig, new)
        diffs.append(Difference(name.replace("_", " "), a, b, bool(why), why))

    if orig.user != new.user:
        why = ""
        if _is_root(orig.user) and not _is_root(new.user):
            why = "runs as a non-root user"
        elif not _is_root(orig.user) and not _is_root(new.user):
            why = declared_reason(declared, "user", orig, new)
        diffs.append(Difference("user", orig.user or "(root)", new.user or "(root)", bool(why), why))

    for key in sorted(set(orig.labels) | set(new.labels)):
        a, b = orig.labels.get(key), new.labels.get(key)
        if a == b:
            continue
        from_orig_base = a is None or (orig_base is not None and orig_base.labels.get(key) == a)
        from_new_base = b is None or (new_base is not None and new_base.labels.get(key) == b)
        why = ""
        if from_orig_base and from_new_base:
            why = "labels of the base images, not set by the Dockerfile"
        diffs.append(Difference(f"label {key}", a, b, bool(why), why))

    if orig.healthcheck != new.healthcheck:
        a, b = orig.healthcheck or {}, new.healthcheck or {}
        why = ""
        rest_a = {k: v for k, v in a.items() if k != "Test"}
        rest_b = {k: v for k, v in b.items() if k != "Test"}
        ta, tb = list(a.get("Test") or []), list(b.get("Test") or [])
        if rest_a == rest_b and ta[:1] == ["CMD-SHELL"] and tb[:1] == ["CMD"] and len(ta) == 2:
            why = _command_change(["/bin/sh", "-c", ta[1]], tb[1:], shells) or ""
        elif rest_a == rest_b and ta[:1] == tb[:1] == ["CMD"]:
            why = _same_program(ta[1:], tb[1:]) or ""
        diffs.append(Difference("healthcheck", orig.healthcheck, new.healthcheck, bool(why), why))
    return diffs


def short(value: object, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"
