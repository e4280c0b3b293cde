"""Python dependency installs: classify RUN segments, read requirement files, rewrite pip commands."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from dockrewrite import shell
from dockrewrite.context import BuildContext

# Segment kinds.
SYSTEM, PIP, TOOL, NEUTRAL, APP = "system", "pip", "tool", "neutral", "app"

# Packages that only build or manage other packages; installed alone they stay in the builder.
BUILD_TOOLS = frozenset(
    {
        "pip",
        "setuptools",
        "wheel",
        "poetry",
        "poetry-core",
        "poetry-plugin-export",
        "pipenv",
        "uv",
        "pip-tools",
        "build",
        "setuptools-scm",
        "setuptools_scm",
        "cython",
        "hatchling",
        "flit",
        "flit-core",
        "pdm",
        "virtualenv",
        "twine",
        "maturin",
        "scikit-build",
        "cmake",
        "ninja",
    }
)
# Packages built from source against a system library that must then exist at run time.
# name -> (Debian runtime package, Alpine runtime package)
PIP_RUNTIME_LIBS = {
    "psycopg2": ("libpq5", "libpq"),
    "mysqlclient": ("libmariadb3", "mariadb-connector-c"),
    "python-ldap": ("libldap-2.5-0", "libldap"),
    "pyodbc": ("unixodbc", "unixodbc"),
    "pycairo": ("libcairo2", "cairo"),
    "gssapi": ("libgssapi-krb5-2", "krb5-libs"),
    "pygobject": ("libgirepository-1.0-1", "gobject-introspection"),
}


@dataclass
class Segment:
    kind: str
    text: str
    words: list[str]
    packages: list[str] = field(default_factory=list)  # system packages installed (SYSTEM)
    manager: str | None = None
    start: int = 0  # where the command stands in the text given to classify()
    end: int = 0


# pip's general options that take a value (`pip --cache-dir DIR install …`).
_PIP_VALUE_OPTIONS = frozenset(
    {
        "--log",
        "--proxy",
        "--retries",
        "--timeout",
        "--exists-action",
        "--cert",
        "--client-cert",
        "--cache-dir",
        "--root-user-action",
        "--python",
        "--log-file",
        "--local-log",
        "--use-feature",
        "--use-deprecated",
    }
)


def is_pip(words: list[str]) -> int:
    """Index of `install` when words run `pip install` (or `python -m pip install`, general options such as
    `--no-cache-dir` allowed before it), else -1."""
    if not words:
        return -1
    if re.fullmatch(r"pip3?(\.\d+)?|/usr/local/bin/pip3?(\.\d+)?", words[0]):
        index = 1
    elif re.fullmatch(r"python3?(\.\d+)?|/usr/local/bin/python3?(\.\d+)?", words[0]) and words[1:3] == ["-m", "pip"]:
        index = 3
    else:
        return -1
    while index < len(words) and words[index].startswith("-"):
        index += 2 if words[index] in _PIP_VALUE_OPTIONS else 1
    return index if index < len(words) and words[index] == "install" else -1


def local_requirements(ctx: BuildContext, files: list[str]) -> str | None:
    """The first requirement line that installs from the build context (`-e .`, `./pkg`, `file:`), if any:
    such a file needs the sources next to it, not just itself."""
    for rel in files:
        for raw in (ctx.read_text(rel) or "").splitlines():
            line = raw.split(" #", 1)[0].strip()
            if re.match(r"^(-e|--editable)\s|^\.{1,2}(/|$)|^file:|^\S+\s*@\s*file:", line):
                return f"{rel}: {line}"
    return None


def classify(text: str) -> list[Segment]:
    out: list[Segment] = []
    for seg in shell.segments(text):
        _, words = shell.env_prefix(seg.words())
        kind = _kind(words)
        segment = Segment(kind, seg.text, words, start=seg.start, end=seg.end)
        if kind == SYSTEM:
            from dockrewrite import syslibs

            segment.manager, segment.packages = syslibs.installed_packages(seg.text)
        out.append(segment)
    return out


def _kind(words: list[str]) -> str:
    if not words:
        return NEUTRAL
    first, second = words[0], (words[1] if len(words) > 1 else "")
    if first in ("apt-get", "apt", "apk", "yum", "dnf", "microdnf", "apt-key", "add-apt-repository"):
        return SYSTEM
    if is_pip(words) >= 0:
        return PIP
    if re.fullmatch(r"pip3?(\.\d+)?", first) or words[1:3] == ["-m", "pip"]:
        return TOOL  # pip cache purge, pip config, pip --version
    if first in ("poetry", "pipenv", "pdm"):
        return PIP if second in ("install", "sync") else TOOL
    if first == "uv":
        return PIP if second in ("sync", "pip") else TOOL
    if re.fullmatch(r"python3?(\.\d+)?", first) and second == "setup.py" and "install" in words:
        return PIP
    if first in ("cd", "export", "echo", "set", "true", ":") or _is_cleanup(words):
        return NEUTRAL
    return APP


def _is_cleanup(words: list[str]) -> bool:
    joined = " ".join(words)
    return bool(
        re.match(r"rm\s+-r?f?r?\s+(/var/lib/apt/lists|/root/\.cache|/tmp/|~/\.cache|/var/cache)", joined)
        or re.match(r"find\s+\S+.*(__pycache__|\.pyc)", joined)
    )


def pip_targets(words: list[str]) -> tuple[list[str], list[str], bool]:
    """(requirement files, package specs, editable/local install) of a `pip install` command."""
    start = is_pip(words)
    files: list[str] = []
    specs: list[str] = []
    local = False
    items = words[start + 1 :] if start >= 0 else []
    i = 0
    while i < len(items):
        w = items[i]
        if w in ("-r", "--requirement", "-c", "--constraint"):
            if i + 1 < len(items) and w in ("-r", "--requirement"):
                files.append(items[i + 1])
            i += 2
            continue
        if w.startswith("--requirement="):
            files.append(w.split("=", 1)[1])
        elif w.startswith("-r") and len(w) > 2:
            files.append(w[2:])
        elif w in ("-e", "--editable"):
            local = True
        elif w in (
            "--index-url",
            "-i",
            "--extra-index-url",
            "--trusted-host",
            "-f",
            "--find-links",
            "--target",
            "-t",
            "--prefix",
            "--root",
            "--platform",
            "--python-version",
            "--only-binary",
            "--no-binary",
        ):
            i += 2
            continue
        elif not w.startswith("-"):
            if w in (".", "./") or w.startswith(("./", "/", ".[")) or w.endswith((".whl", ".tar.gz")):
                local = True
            specs.append(w)
        i += 1
    return files, specs, local


def requirement_names(ctx: BuildContext, rel: str, seen: set[str] | None = None) -> list[str]:
    """Distribution names a requirements file asks for, following `-r` includes."""
    seen = seen if seen is not None else set()
    if rel in seen:
        return []
    seen.add(rel)
    text = ctx.read_text(rel) or ""
    names: list[str] = []
    base = posixpath.dirname(rel)
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^(-r|--requirement)\s*=?\s*(\S+)", line)
        if m:
            names += requirement_names(ctx, posixpath.normpath(posixpath.join(base, m.group(2))), seen)
            continue
        if line.startswith("-"):
            continue
        names.append(spec_name(line))
    return [n for n in names if n]


def spec_name(spec: str) -> str:
    m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)", spec.strip())
    return normalize(m.group(1)) if m else ""


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def rewrite_pip(text: str, strategy: str) -> str:
    """Point one `pip install` segment at the strategy's location; editable installs become normal ones."""
    out = re.sub(r"(?<!\S)--user(?!\S)\s*", "", text)
    out = re.sub(r"(?<!\S)(-e|--editable)\s+", "", out)
    out = re.sub(r"(?<!\S)--break-system-packages(?!\S)\s*", "", out) if strategy == "venv" else out
    m = re.search(r"\binstall\b", out)
    if not m:
        return text
    flags = []
    if strategy == "prefix" and "--prefix" not in out:
        flags.append("--prefix=/install")
    elif strategy == "user":
        flags.append("--user")
    if "--no-cache-dir" not in out:
        flags.append("--no-cache-dir")
    if not flags:
        return out
    return out[: m.end()] + " " + " ".join(flags) + out[m.end() :]


def tool_only_install(words: list[str]) -> bool:
    """`pip install --upgrade pip wheel poetry`: only build tooling, which the runtime does not need."""
    files, specs, local = pip_targets(words)
    return not files and not local and bool(specs) and all(spec_name(s) in BUILD_TOOLS for s in specs)


MANIFESTS = re.compile(
    r"^(requirements[\w.-]*\.(txt|in)|constraints[\w.-]*\.txt|Pipfile(\.lock)?|poetry\.lock|pyproject\.toml|"
    r"setup\.(py|cfg)|uv\.lock|pdm\.lock|requirements/.*|README.*|MANIFEST\.in|\.python-version)$"
)


def is_manifest(source: str) -> bool:
    return bool(MANIFESTS.match(source.rstrip("/").lstrip("./"))) or source.rstrip("/") == "requirements"


def drop_requirement_files(text: str, drop: list[str]) -> str | None:
    """Remove `-r FILE` for the given files from a pip command; None when nothing is left to install."""
    out = text
    for path in drop:
        for variant in {path, path[2:] if path.startswith("./") else "./" + path}:
            v = re.escape(variant)
            out = re.sub(rf"\s(-r|--requirement)(\s+|=)?{v}(?=\s|$)", "", out)
    files, specs, local = pip_targets(shell.split_words(out))
    return out if files or specs or local else None


def requirement_files(ctx: BuildContext, rel: str, seen: list[str] | None = None) -> list[str]:
    """rel and every file it includes with -r/-c, context-relative, in reading order."""
    seen = seen if seen is not None else []
    rel = posixpath.normpath(rel)
    if rel in seen or not ctx.exists(rel):
        return seen
    seen.append(rel)
    if not rel.endswith((".txt", ".in")):
        return seen
    base = posixpath.dirname(rel)
    for raw in (ctx.read_text(rel) or "").splitlines():
        m = re.match(r"^\s*(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)", raw)
        if m:
            requirement_files(ctx, posixpath.join(base, m.group(2)), seen)
    return seen


def constraint_files(words: list[str]) -> list[str]:
    """Files a pip command names with -c/--constraint."""
    out: list[str] = []
    for i, w in enumerate(words):
        if w in ("-c", "--constraint") and i + 1 < len(words):
            out.append(words[i + 1])
        elif w.startswith("--constraint="):
            out.append(w.split("=", 1)[1])
        elif w.startswith("-c") and len(w) > 2 and not w.startswith("--"):
            out.append(w[2:])
    return out
