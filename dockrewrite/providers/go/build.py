"""Find `go build` / `go install` in RUN text, work out where the binary lands, and make it static."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockrewrite import shell

_GO_CMD = re.compile(r"(?<![\w/.-])go\s+(build|install)\b")
# Flags of `go build` that take a separate value.
_VALUE_FLAGS = {
    "o",
    "ldflags",
    "tags",
    "gcflags",
    "asmflags",
    "installsuffix",
    "p",
    "mod",
    "modfile",
    "C",
    "buildmode",
    "compiler",
    "gccgoflags",
    "overlay",
    "pkgdir",
    "toolexec",
    "pgo",
    "coverpkg",
    "covermode",
    "exec",
}
_LDFLAGS = re.compile(r"""(?P<flag>--?ldflags)(?P<sep>=|\s+)(?P<value>"[^"]*"|'[^']*'|[^\s"'\\;&|]+)""")


@dataclass(frozen=True)
class GoBuild:
    verb: str  # build | install
    line: int
    cwd: str
    output: str | None  # absolute path of the binary in the builder, None when Go writes none
    packages: list[str]
    cgo: str | None  # "0"/"1" when this command or the environment sets CGO_ENABLED
    flags: dict[str, str]


def parse_build(words: list[str]) -> tuple[dict[str, str], str, dict[str, str], list[str]] | None:
    """words of a segment -> (env assignments, verb, flags, positional args); None if not a go command."""
    env, rest = shell.env_prefix(words)
    if len(rest) < 2 or rest[0] not in ("go", "/usr/local/go/bin/go") or rest[1] not in ("build", "install"):
        return None
    verb = rest[1]
    flags: dict[str, str] = {}
    positional: list[str] = []
    items = rest[2:]
    i = 0
    while i < len(items):
        w = items[i]
        if w.startswith("-") and len(w) > 1:
            name, eq, value = w.lstrip("-").partition("=")
            if not eq and name in _VALUE_FLAGS and i + 1 < len(items):
                value = items[i + 1]
                i += 1
            flags[name] = value
        else:
            positional.append(w)
        i += 1
    return env, verb, flags, positional


def binary_name(positional: list[str], cwd: str, module: str | None) -> str | None:
    """The file name Go gives the binary when no -o is given; None when it writes none."""
    files = [p for p in positional if p.endswith(".go")]
    if files:
        return posixpath.basename(files[0])[:-3]
    pkgs = [p.split("@", 1)[0] for p in positional]
    if len(pkgs) > 1 or any("..." in p for p in pkgs):
        return None
    target = pkgs[0] if pkgs else "."
    path = module or cwd if target in (".", "./") else target.rstrip("/")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        parts.pop()
    return parts[-1] if parts else None


def static_edit(segment_text: str, make_static: bool, trimpath: bool = True) -> str:
    """Add -trimpath and -s -w to the ldflags (keeping any -X), and CGO_ENABLED=0 when asked."""
    m = _GO_CMD.search(segment_text)
    if not m:
        return segment_text
    head, tail = segment_text[: m.end()], segment_text[m.end() :]
    lm = _LDFLAGS.search(tail)
    inserts = []
    if trimpath and "-trimpath" not in tail:
        inserts.append("-trimpath")
    if lm:
        value = lm.group("value")
        quote = value[0] if value[0] in "\"'" else '"'
        inner = value[1:-1] if value[0] in "\"'" else value
        words = inner.split()
        missing = [f for f in ("-s", "-w") if f not in words]
        if missing:
            merged = " ".join(missing + ([inner] if inner else []))
            tail = tail[: lm.start("value")] + quote + merged + quote + tail[lm.end("value") :]
    else:
        inserts.append('-ldflags="-s -w"')
    if inserts:
        tail = " " + " ".join(inserts) + tail
    if make_static:
        prefix_words = shell.split_words(head[: m.start()])
        env, _ = shell.env_prefix(prefix_words)
        if "CGO_ENABLED" in env:
            head = re.sub(r"CGO_ENABLED=\S*", "CGO_ENABLED=0", head, count=1)
        else:
            head = head[: m.start()] + "CGO_ENABLED=0 " + head[m.start() :]
    return head + tail


def edit_run(text: str, make_static: bool, trimpath: bool = True) -> str:
    """Apply static_edit to every go build/install segment of a RUN instruction's text."""
    head = re.match(r"(?is)^\s*run\b(?:\s|\\\n)*(?:--\S+(?:\s|\\\n)+)*", text)
    prefix, out = (text[: head.end()], text[head.end() :]) if head else ("", text)
    for seg in reversed(shell.segments(out)):
        if _GO_CMD.search(seg.text):
            words = seg.words()
            if parse_build(words) is None:
                continue
            out = out[: seg.start] + static_edit(seg.text, make_static, trimpath) + out[seg.end :]
    return prefix + out


def output_path(verb: str, flags: dict[str, str], name: str | None, cwd: str, gobin: str) -> str | None:
    if verb == "install":
        return posixpath.join(gobin, name) if name else None
    out = flags.get("o")
    if out:
        if out.endswith("/"):
            return shell.resolve(cwd, posixpath.join(out, name)) if name else None
        return shell.resolve(cwd, out)
    return shell.resolve(cwd, name) if name else None
