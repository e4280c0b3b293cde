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
# Calls that create or write a file or folder named by their first string argument (stdlib, SQLite drivers,
# embedded key-value stores, lumberjack's log file).
_WRITE_CALL = re.compile(
    r"\b(?:os\.(?:Create|WriteFile|Mkdir|MkdirAll)|ioutil\.WriteFile|sqlite\.Open|b?bolt\.Open|"
    r'leveldb\.OpenFile|badger\.DefaultOptions|pebble\.Open)\(\s*"([^"\n]{1,200})"'
    r'|\bos\.OpenFile\(\s*"([^"\n]{1,200})"\s*,[^,)]*\bO_(?:CREATE|WRONLY|RDWR|APPEND|TRUNC)\b'
    r'|\bsql\.Open\(\s*"sqlite3?"\s*,\s*"([^"\n]{1,200})"'
    r'|\blumberjack\.Logger\s*\{[^}]*?\bFilename:\s*"([^"\n]{1,200})"'
)
_GETENV = re.compile(r'\bos\.(?:Getenv|LookupEnv)\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\)')
_GODOTENV = re.compile(r'"github\.com/joho/godotenv(/autoload)?"')
_GODOTENV_LOAD = re.compile(r"\bgodotenv\.(?:Load|Overload|Read)\(([^)]*)\)")


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
    writes_relative: str | None = None  # where the code first writes a path relative to the working directory
    write_folders: list[tuple[str, str]] = field(default_factory=list)  # absolute folders written, where named
    env_reads: dict[str, str] = field(default_factory=dict)  # variable -> the first file that reads it
    dotenv: str | None = None  # the first file that loads env files with godotenv
    dotenv_files: list[str] = field(default_factory=list)  # the files it loads (`.env` by default)


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
        _scan_writes(src, rel, text)
        for a, b in _STRING.findall(text):
            value = (a or b).strip()
            if value and "\n" not in value and len(value) < 120:
                src.literals.add(value[2:] if value.startswith("./") else value)
    if not src.readable:
        # Without sources we cannot rule anything out: assume the program needs both.
        src.needs_certs = src.needs_tzdata = True
    return src


def _scan_writes(src: GoSources, rel: str, text: str) -> None:
    """Where the code writes (relative paths, absolute folders), the variables it reads, godotenv."""
    for m in _WRITE_CALL.finditer(text):
        target = next(g for g in m.groups() if g is not None)
        call = "lumberjack.Logger" if m.group(0).startswith("lumberjack") else m.group(0).split("(", 1)[0].strip()
        if target.startswith("file:"):
            target = target[5:].split("?", 1)[0]
        if not target or target.startswith(":memory:") or "%" in target:
            continue
        if target.startswith("/"):
            is_dir = call in ("os.Mkdir", "os.MkdirAll", "badger.DefaultOptions", "leveldb.OpenFile", "pebble.Open")
            folder = posixpath.normpath(target) if is_dir else posixpath.dirname(posixpath.normpath(target))
            if folder not in [f for f, _ in src.write_folders]:
                src.write_folders.append((folder, f'{rel}: {call}("{target}")'))
        elif src.writes_relative is None:
            src.writes_relative = f'{rel}: {call}("{target}")'
    for name in _GETENV.findall(text):
        src.env_reads.setdefault(name, rel)
    if _GODOTENV.search(text):
        src.dotenv = src.dotenv or rel
        names = [".env"] if "godotenv/autoload" in text else []
        for args in _GODOTENV_LOAD.findall(text):
            # no argument loads .env; a name that is not a literal cannot be told
            names += re.findall(r'"([^"\n]+)"', args) if args.strip() else [".env"]
        src.dotenv_files += [n for n in names if n not in src.dotenv_files]


def names_entry(literals: set[str], entry: str) -> bool:
    """Whether a string literal in the code names this top-level context entry."""
    return any(lit == entry or lit.startswith(entry + "/") for lit in literals)
