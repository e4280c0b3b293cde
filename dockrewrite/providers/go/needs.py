"""What a static Go binary needs from its runtime base's own files (CA roots, time zone data, users, /tmp, the
MIME table), and whether the analysis read enough of the program to say it needs none of them."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockrewrite.context import BuildContext
from dockrewrite.model import Stage
from dockrewrite.providers.go import sources as go_source
from dockrewrite.providers.go.analyse import GoFacts
from dockrewrite.runtimes.base import Runtime

# More Go files than this and the scan stops, and a program it did not read in full gets no empty base.
_FILE_LIMIT = 2000

# What each need is called in the notes (the short name for the list of what a chosen base goes without).
WHAT = {
    "certs": ("CA certificates", "CA certificates"),
    "tzdata": ("time zone data", "time zone data"),
    "users": ("a user entry in /etc/passwd and its home folder", "users"),
    "tmp": ("a /tmp folder", "/tmp"),
    "files": ("system files", "/etc files"),
}

_IMPORT_BLOCK = re.compile(r"^import\s*\(([^)]*)\)", re.MULTILINE)
_IMPORT_ONE = re.compile(r'^import\s+(?:[\w.]+\s+)?"([^"]+)"', re.MULTILINE)
_IMPORT_ITEM = re.compile(r'^\s*(?:([\w.]+)\s+)?"([^"]+)"', re.MULTILINE)
# Imports that talk TLS as a client (or may: a reverse proxy forwards to https backends), so need CA roots.
_TLS_PACKAGES = frozenset({"crypto/tls", "crypto/x509", "net/smtp", "net/http/httputil"})
# net/http's client side: any of these may reach an https address.
_HTTP_CLIENT = r"\.(?:Get|Head|Post|PostForm|NewRequest\w*|Client|DefaultClient|Transport|DefaultTransport)\b"
# net/http serving files names their type from the MIME table (/etc/mime.types) before its built-in list.
_HTTP_FILES = r"\.(?:FileServer|FileServerFS|ServeFile|ServeFileFS|ServeContent|FS)\("
_TZ = re.compile(r'\btime\.LoadLocation|"time/tzdata"|\.In\(time\.')
_USERS = re.compile(r'\bos\.(?:UserHomeDir|UserConfigDir|UserCacheDir)\(|\b(?:Getenv|LookupEnv)\(\s*"HOME"|\$\{?HOME\b')
# Calls that make a file or folder under os.TempDir (net/http and mime/multipart spill large uploads there).
_TMP = re.compile(
    r"\bos\.(?:TempDir|CreateTemp|MkdirTemp)\(|\bioutil\.(?:TempFile|TempDir)\("
    r"|\.(?:ParseMultipartForm|FormFile|FormValue|PostFormValue|MultipartForm|MultipartReader|ReadForm)\b"
    r'|"/tmp\b'
)
_SERVICES = re.compile(r"\bnet\.LookupPort\(|\.LookupPort\(")
_SYSTEM_PATH = re.compile(r'"(/(?:etc|usr/share|home)/[^"\n]*)"')
# RUN lines that bring in or make code the context does not hold.
_FETCH = re.compile(r"\b(?:git\s+clone|go\s+get|go\s+generate|curl|wget)\b")


@dataclass(frozen=True)
class BaseNeeds:
    """What the binary needs from the base, and why the analysis cannot rule anything out (None when it can)."""

    unseen: str | None
    needs: tuple[tuple[str, str], ...]  # (need, where the code or the Dockerfile asks for it), first first


def provides(rt: Runtime, need: str) -> bool:
    """Whether the base holds what this need asks for."""
    if need == "certs":
        return rt.ca_certificates
    if need == "tzdata":
        return rt.tzdata
    if need == "users":
        return bool(rt.users)
    return rt.system_files


def find(ctx: BuildContext, facts: GoFacts, stage: Stage) -> BaseNeeds:
    """Read every Go file of the context (every package the binary is built from lives there, or the program is
    unseen) and the original's USER and ENV for what a base must provide."""
    needs: dict[str, str] = {}
    own = _modules(ctx)
    unseen = _unseen_by_build(ctx, facts, stage, own)
    if facts.user is not None and facts.user.args:
        spec = facts.user.args[0]
        if not all(part.isdigit() for part in spec.split(":") if part):
            needs["users"] = f"USER {spec} (line {facts.user.line}) names a user"
    if facts.env.get("TZ") or facts.env.get("ZONEINFO"):
        needs["tzdata"] = "ENV TZ or ZONEINFO"
    count = 0
    for rel in ctx.walk((".go",), limit=_FILE_LIMIT):
        count += 1
        if rel.endswith("_test.go"):
            continue
        text = ctx.read_text(rel, limit=400_000)
        if text is None:
            unseen = unseen or f"{rel} could not be read"
            continue
        imports = _imports(text)
        outside = next((p for p in imports if _third_party(p, own)), None)
        if outside is not None:
            unseen = unseen or f"{rel} imports {outside}, whose code the analysis does not read"
        for need, where in _file_needs(rel, text, imports):
            needs.setdefault(need, where)
    if count >= _FILE_LIMIT:
        unseen = unseen or f"the context holds more than {_FILE_LIMIT} Go files"
    if not facts.sources.readable:
        unseen = unseen or "no Go source was found in the build context"
    return BaseNeeds(unseen, tuple(needs.items()))


def _unseen_by_build(ctx: BuildContext, facts: GoFacts, stage: Stage, own: tuple[str, ...]) -> str | None:
    """Why the program may hold code the context does not show: modules it requires, packages fetched or
    generated while building."""
    if not ctx.known:
        return "the build context is not known"
    # go.work's `use` lines name local folders only; a requirement in either file is code from elsewhere
    for rel in ctx.walk(("go.mod", "go.work"), limit=_FILE_LIMIT):
        text = ctx.read_text(rel) or ""
        required = go_source.REQUIRE.search(text)
        if required:
            return f"{rel} requires {required.group(1)}, whose code the analysis does not read"
    for ins in stage.find("RUN", "ADD"):
        text = ins.shell if ins.keyword == "RUN" else " ".join(ins.args)
        m = _FETCH.search(text) if ins.keyword == "RUN" else re.search(r"\b(?:https?|git)://\S+|\bgit@\S+", text)
        if m:
            return f"line {ins.line} fetches or generates code ({m.group(0)})"
    for package in facts.main.packages:
        if package.endswith(".go") or package.startswith((".", "/")):
            continue
        if "@" in package or _third_party(package, own):
            return f"line {facts.main.line} builds {package}, which is not in the build context"
    return None


def _modules(ctx: BuildContext) -> tuple[str, ...]:
    """The module paths of every go.mod in the context: the program's own packages."""
    found = (go_source.module_path(ctx, posixpath.dirname(rel)) for rel in ctx.walk(("go.mod",), limit=_FILE_LIMIT))
    return tuple(path for path in found if path)


def _imports(text: str) -> dict[str, str]:
    """Import path -> the name the file uses for it."""
    out: dict[str, str] = {}
    items = [(None, p) for p in _IMPORT_ONE.findall(text)]
    for block in _IMPORT_BLOCK.findall(text):
        items += _IMPORT_ITEM.findall(block)
    aliased = dict(re.findall(r'^import\s+([\w.]+)\s+"([^"]+)"', text, re.MULTILINE))
    for alias, path in items:
        name = alias or next((a for a, p in aliased.items() if p == path), None) or path.rsplit("/", 1)[-1]
        out[path] = name
    return out


def _third_party(path: str, own: tuple[str, ...]) -> bool:
    """An import from outside the standard library and the program's own modules."""
    if any(path == module or path.startswith(module + "/") for module in own):
        return False
    return "." in path.split("/", 1)[0]


def _file_needs(rel: str, text: str, imports: dict[str, str]) -> list[tuple[str, str]]:
    """(need, where) for each need one file shows, in WHAT's order."""
    found: list[tuple[str, str]] = []
    tls = next((p for p in imports if p in _TLS_PACKAGES), None)
    http = imports.get("net/http")
    client = re.search(rf"\b{re.escape(http)}{_HTTP_CLIENT}", text) if http else None
    if tls is not None:
        found.append(("certs", f'{rel} imports "{tls}"'))
    elif client is not None:
        found.append(("certs", f"{rel}: {client.group(0)} may reach https addresses"))
    tz = _TZ.search(text)
    if tz:
        found.append(("tzdata", f"{rel}: {tz.group(0).strip('(')}"))
    users = _USERS.search(text) or (re.search(r'"os/user"', text) if "os/user" in imports else None)
    if users:
        found.append(("users", f"{rel}: {users.group(0).rstrip('(')}"))
    tmp = _TMP.search(text) or (re.search(r'"mime/multipart"', text) if "mime/multipart" in imports else None)
    if tmp:
        found.append(("tmp", f"{rel}: {tmp.group(0).lstrip('.').rstrip('(')}"))
    mime = (re.search(r'"mime"', text) if "mime" in imports else None) or (
        re.search(rf"\b{re.escape(http)}{_HTTP_FILES}", text) if http else None
    )
    services = _SERVICES.search(text)
    system = _SYSTEM_PATH.search(text)
    if mime:
        found.append(("files", f"{rel}: {mime.group(0).rstrip('(')} names file types from /etc/mime.types"))
    elif services:
        found.append(("files", f"{rel}: {services.group(0).lstrip('.').rstrip('(')} reads /etc/services"))
    elif system:
        found.append(("files", f"{rel} names {system.group(1)}"))
    return found
