"""What the Go sources in a build context tell us: cgo use, embedded files, strings naming files."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from dockrewrite.context import BuildContext

# Modules that need cgo (a C compiler at build time; libc, sometimes more, at run time).
CGO_MODULES = (
    "github.com/mattn/go-sqlite3",
    "github.com/confluentinc/confluent-kafka-go",
    "gopkg.in/gographics/imagick",
    "github.com/h2non/bimg",
    "github.com/davidbyttow/govips",
    "github.com/tecbot/gorocksdb",
    "github.com/linxGnu/grocksdb",
    "github.com/veandco/go-sdl2",
    "github.com/go-gl/glfw",
    "github.com/miekg/pkcs11",
)
# Packages whose use means the program talks TLS or reads time zones.
_TLS_IMPORTS = re.compile(
    r'"(net/http|crypto/tls|crypto/x509|net/smtp|google\.golang\.org/grpc[^"]*|github\.com/[^"]+)"'
)
_TZ_USE = re.compile(r'time\.LoadLocation|"time/tzdata"|\.In\(time\.')
_EMBED = re.compile(r"^//go:embed\s+(.+)$", re.MULTILINE)
_STRING = re.compile(r'"((?:[^"\\\n]|\\.){1,200})"|`([^`]{1,200})`')
_MODULE = re.compile(r"^module\s+(\S+)", re.MULTILINE)


@dataclass
class GoSources:
    readable: bool = False
    uses_cgo: bool = False
    cgo_reason: str = ""
    needs_certs: bool = False
    needs_tzdata: bool = False
    embedded: set[str] = field(default_factory=set)
    literals: set[str] = field(default_factory=set)
    requires: list[str] = field(default_factory=list)


def module_path(ctx: BuildContext, rel_dir: str) -> str | None:
    """The module path of the go.mod in rel_dir (context-relative), if there is one."""
    text = ctx.read_text(posixpath.join(rel_dir, "go.mod")) if rel_dir not in ("", ".") else ctx.read_text("go.mod")
    m = _MODULE.search(text or "")
    return m.group(1).strip('"') if m else None


def scan(ctx: BuildContext, limit: int = 400) -> GoSources:
    src = GoSources()
    gomod = ctx.read_text("go.mod") or ""
    src.requires = re.findall(r"^\s*(?:require\s+)?([\w.-]+\.[\w.-]+/[^\s]+)\s+v[\w.+-]+", gomod, re.MULTILINE)
    for mod in CGO_MODULES:
        if any(r == mod or r.startswith(mod + "/") for r in src.requires):
            src.uses_cgo, src.cgo_reason = True, f"go.mod requires {mod}, which needs cgo"
    if src.requires:
        src.needs_certs = True
    for rel in ctx.walk((".go",), limit=limit):
        if rel.endswith("_test.go"):
            continue
        text = ctx.read_text(rel, limit=400_000)
        if text is None:
            continue
        src.readable = True
        if not src.uses_cgo and re.search(r'^import\s+"C"|^\s+"C"$', text, re.MULTILINE):
            src.uses_cgo, src.cgo_reason = True, f'{rel} imports "C"'
        if _TLS_IMPORTS.search(text):
            src.needs_certs = True
        if _TZ_USE.search(text):
            src.needs_tzdata = True
        pkg_dir = posixpath.dirname(rel)
        for line in _EMBED.findall(text):
            for pattern in line.split():
                pattern = pattern.strip('"`')
                if pattern.startswith("all:"):
                    pattern = pattern[4:]
                path = posixpath.normpath(posixpath.join(pkg_dir, pattern))
                src.embedded.add(path.split("/", 1)[0])
        for a, b in _STRING.findall(text):
            value = (a or b).strip()
            if value and "\n" not in value and len(value) < 120:
                src.literals.add(value[2:] if value.startswith("./") else value)
    if not src.readable:
        # Without sources we cannot rule anything out: assume the program needs both.
        src.needs_certs = src.needs_tzdata = True
    return src


def names_entry(literals: set[str], entry: str) -> bool:
    """Whether a string literal in the code names this top-level context entry."""
    return any(lit == entry or lit.startswith(entry + "/") for lit in literals)
