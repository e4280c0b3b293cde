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
# A requirement line of go.mod, alone or inside a require ( … ) block.
REQUIRE = re.compile(r"^\s*(?:require\s+)?([\w.-]+\.[\w.-]+/[^\s]+)\s+v[\w.+-]+", re.MULTILINE)
# Calls that create or write a file or folder named by their first string argument (stdlib, SQLite drivers,
# embedded key-value stores, lumberjack's log file).
_WRITE_CALL = re.compile(
    r"\b(?:os\.(?:Create|WriteFile|Mkdir|MkdirAll)|ioutil\.WriteFile|sqlite\.Open|b?bolt\.Open|storm\.Open|"
    r'buntdb\.Open|bitcask\.Open|leveldb\.OpenFile|badger\.DefaultOptions|pebble\.Open)\(\s*"([^"\n]{1,200})"'
    # the embedded stores given their path through a name: `const dbPath = ".db"` … badger.DefaultOptions(dbPath)
    r"|\b(?:b?bolt\.Open|storm\.Open|buntdb\.Open|bitcask\.Open|leveldb\.OpenFile|badger\.DefaultOptions|"
    r"pebble\.Open|sqlite\.Open)\(\s*([A-Za-z_]\w*)\s*[,)]"
    r'|\bos\.OpenFile\(\s*"([^"\n]{1,200})"\s*,[^,)]*\bO_(?:CREATE|WRONLY|RDWR|APPEND|TRUNC)\b'
    r'|\bsql\.Open\(\s*"sqlite3?"\s*,\s*"([^"\n]{1,200})"'
    r'|\bsql\.Open\(\s*"sqlite3?"\s*,\s*([A-Za-z_]\w*)\s*\)'
    r'|\blumberjack\.Logger\s*\{[^}]*?\bFilename:\s*"([^"\n]{1,200})"'
)
# A constructor of another package given a relative data file to write (`oggwriter.New("output.ogg", …)`,
# `ivfwriter.New("out.ivf")`): counted when the same file closes or writes something.
_DATA_FILE_CALL = re.compile(
    r'\b(?!os\.|ioutil\.|template\.|filepath\.|path\.|embed\.)[a-z]\w*\.(?:New|Create)\w*\(\s*"'
    r'((?:\./)?[\w.-]+(?:/[\w.-]+)*\.(?:ogg|ivf|h264|h265|webm|mkv|mp4|wav|mp3|opus|pcm|raw|y4m|gob|pcap|bin|dat))"'
)
_USES_WRITER = re.compile(r"\.(?:Close|Write\w*)\(")
# A file created under a name only known at run time (`os.Create(fn)`, `os.WriteFile(filepath.Join(dir, n), …)`):
# a relative one lands in the working folder, so that folder must be writable, as it was for the original's root.
_DYNAMIC_WRITE = re.compile(
    r"\bos\.(?:Create|WriteFile)\(\s*(?![\"`\s])([^,)\n]{1,80}?)\s*[,)]"
    r"|\bos\.OpenFile\(\s*(?![\"`\s])([^,)\n]{1,80}?)\s*,[^)\n]*\bO_(?:CREATE|WRONLY|RDWR|APPEND|TRUNC)\b"
)
# Expressions that name a place outside the working folder: the temporary folder or an absolute path.
_NOT_RELATIVE = re.compile(r'TempDir|CreateTemp|MkdirTemp|"/|UserHomeDir|UserCacheDir|UserConfigDir')
# `const dbPath = ".db"`, `var dir string = "./data"`, and the same inside const ( … ) / var ( … ) blocks.
_CONST_ONE = re.compile(r'^\s*(?:const|var)\s+([A-Za-z_]\w*)\s*(?:string\s*)?=\s*"([^"\n]{1,200})"', re.MULTILINE)
_CONST_BLOCK = re.compile(r"^\s*(?:const|var)\s*\(([^)]*)\)", re.MULTILINE)
_BLOCK_ITEM = re.compile(r'^\s*([A-Za-z_]\w*)\s*(?:string\s*)?=\s*"([^"\n]{1,200})"', re.MULTILINE)
# Defaults in struct tags (caarlos0/env `envDefault:"./files"`, kelseyhightower/envconfig `default:"./files"`).
_TAG_DEFAULT = re.compile(r'\b(?:envDefault|default):"([^"\n]{1,200})"')
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
    written: list[str] = field(default_factory=list)  # relative paths the code writes (`static/forum.db`)
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
    src.requires = REQUIRE.findall(gomod)
    for mod in CGO_MODULES:
        if any(r == mod or r.startswith(mod + "/") for r in src.requires):
            src.uses_cgo, src.cgo_reason = True, f"go.mod requires {mod}, which needs cgo"
    if src.requires:
        src.needs_certs = True
    pending: list[tuple[str, str, str]] = []  # (file, call, name) of paths given through a name
    consts: dict[str, str] = {}
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
        _scan_writes(src, rel, text, pending)
        for name, value in string_consts(text).items():
            consts.setdefault(name, value)
        for a, b in _STRING.findall(text):
            value = (a or b).strip()
            if value and "\n" not in value and len(value) < 120:
                src.literals.add(value[2:] if value.startswith("./") else value)
            if b:
                # a struct tag's default names a file or folder as a literal would: `envDefault:"./files"`
                for default in _TAG_DEFAULT.findall(b):
                    default = default.strip()
                    if default:
                        src.literals.add(default[2:] if default.startswith("./") else default)
    for rel, call, name in pending:
        if name in consts:
            record_write(src, rel, call, consts[name], via=name)
    if not src.readable:
        # Without sources we cannot rule anything out: assume the program needs both.
        src.needs_certs = src.needs_tzdata = True
    return src


def string_consts(text: str) -> dict[str, str]:
    """Names a file gives a string literal at package or function level: `const dbPath = ".db"`, `var dir = "x"`."""
    out = dict(_CONST_ONE.findall(text))
    for block in _CONST_BLOCK.findall(text):
        out.update(_BLOCK_ITEM.findall(block))
    return out


def _scan_writes(src: GoSources, rel: str, text: str, pending: list[tuple[str, str, str]] | None = None) -> None:
    """Where the code writes (relative paths, absolute folders), the variables it reads, godotenv. A path given
    through a name no const of this file sets goes to `pending`, for the package's other files to resolve."""
    consts = string_consts(text)
    for m in _WRITE_CALL.finditer(text):
        index = next(i for i, g in enumerate(m.groups()) if g is not None)
        target = m.group(index + 1)
        call = "lumberjack.Logger" if m.group(0).startswith("lumberjack") else m.group(0).split("(", 1)[0].strip()
        if index in (1, 4):  # a name, not a literal
            if target in consts:
                record_write(src, rel, call, consts[target], via=target)
            elif pending is not None:
                pending.append((rel, call, target))
            continue
        record_write(src, rel, call, target)
    for m in _DYNAMIC_WRITE.finditer(text):
        expr = (m.group(1) or m.group(2)).strip()
        call = m.group(0).split("(", 1)[0].strip()
        if expr in consts:
            record_write(src, rel, call, consts[expr], via=expr)
        elif _NOT_RELATIVE.search(expr):
            continue  # the temporary folder is everyone's; an absolute path says where it writes
        elif src.writes_relative is None:
            src.writes_relative = (
                f"{rel}: {call}({expr}), a name known only at run time, relative to it if not absolute"
            )
    if _USES_WRITER.search(text):
        for m in _DATA_FILE_CALL.finditer(text):
            record_write(src, rel, m.group(0).split("(", 1)[0], m.group(1))
    for name in _GETENV.findall(text):
        src.env_reads.setdefault(name, rel)
    if _GODOTENV.search(text):
        src.dotenv = src.dotenv or rel
        names = [".env"] if "godotenv/autoload" in text else []
        for args in _GODOTENV_LOAD.findall(text):
            # no argument loads .env; a name that is not a literal cannot be told
            names += re.findall(r'"([^"\n]+)"', args) if args.strip() else [".env"]
        src.dotenv_files += [n for n in names if n not in src.dotenv_files]


def record_write(src: GoSources, rel: str, call: str, target: str, via: str | None = None) -> None:
    """One path the code writes: an absolute folder to own, or a path relative to the working directory."""
    if target.startswith("file:"):
        target = target[5:].split("?", 1)[0]
    if not target or target.startswith(":memory:") or "%" in target:
        return
    shown = f'{rel}: {call}({via} = "{target}")' if via else f'{rel}: {call}("{target}")'
    if target.startswith("/"):
        is_dir = call in (
            "os.Mkdir",
            "os.MkdirAll",
            "badger.DefaultOptions",
            "leveldb.OpenFile",
            "pebble.Open",
            "bitcask.Open",
        )
        folder = posixpath.normpath(target) if is_dir else posixpath.dirname(posixpath.normpath(target))
        if folder not in [f for f, _ in src.write_folders]:
            src.write_folders.append((folder, shown))
        return
    if src.writes_relative is None:
        src.writes_relative = shown
    path = posixpath.normpath(target)
    if not path.startswith("..") and path != "." and path not in src.written:
        src.written.append(path)


def names_entry(literals: set[str], entry: str) -> bool:
    """Whether a string literal in the code names this top-level context entry."""
    return any(lit == entry or lit.startswith(entry + "/") for lit in literals)
