"""Python dependency installs: classify RUN segments, read requirement files, rewrite pip commands."""

from __future__ import annotations

import functools
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
# Pure-Python packages that open a system library themselves (ctypes) when imported, unless an extra that
# bundles it is installed: the runtime must have the library, and no linker scan (ldd) sees the need.
# name -> (Debian runtime package, Alpine runtime package, a requirement text that bundles it instead, the
# system packages whose install puts it in an image). The full python image (buildpack-deps) has all three:
# libpq-dev, `file` (libmagic) and imagemagick with libmagickwand-dev.
_NEVER = re.compile(r"(?!)")
PIP_LOADED_LIBS = {
    "psycopg": (
        "libpq5",
        "libpq",
        re.compile(r"(?i)psycopg\s*\[[^\]]*\b(binary|c)\b|psycopg[-_](binary|c)\b"),
        re.compile(r"^(libpq|postgresql)"),
    ),
    "python-magic": ("libmagic1", "libmagic", _NEVER, re.compile(r"^(libmagic|file$)")),
    "wand": ("libmagickwand-6.q16-6", "imagemagick-libs", _NEVER, re.compile(r"^(libmagick|imagemagick)")),
}
# Packages that run a program of the original's image when imported, which slim lacks: GitPython raises
# ImportError ("Bad git executable") at `import git` when there is no git. Same row shape as PIP_LOADED_LIBS.
PIP_RUN_PROGRAMS = {"gitpython": ("git", "git", _NEVER, re.compile(r"^git$"))}
# Wheels that link a system library they do not bundle (their manylinux tag notwithstanding), which the full
# python image has (gcc brings it) and the slim one lacks: name -> Debian runtime package.
PIP_WHEEL_LIBS = {"lightgbm": "libgomp1"}
# Packages built against a system library that itself opens more of its own files at run time (plugins,
# modules, data), or that open a system library themselves, neither of which a scan of what is linked sees:
# distroless would lack them. Under auto they keep slim, which has (or can install) what the original had.
PIP_PLUGIN_LIBS = {
    "mysqlclient": "links libmariadb, which opens its authentication plugins (caching_sha2_password, what MySQL 8 "
    "asks for by default) from its own plugin folder",
    "python-ldap": "links libldap, whose SASL binds open Cyrus SASL's mechanism plugins",
    "gssapi": "links MIT Kerberos, which opens its preauthentication plugins",
    "pygobject": "loads GObject introspection typelibs and the libraries they name at run time",
    "pycairo": "links cairo, which reads fontconfig's configuration and fonts to draw text",
    "pyodbc": "links unixODBC, which opens the drivers odbcinst.ini names",
    # and packages that open a system library themselves (ctypes, cffi's ABI mode) rather than link it
    "cairocffi": "opens libcairo itself (cffi)",
    "cairosvg": "opens libcairo itself (through cairocffi)",
    "weasyprint": "opens Pango, HarfBuzz and GObject itself (cffi)",
    "pyvips": "opens libvips itself (cffi) unless built against it",
    "pyzbar": "opens libzbar itself (ctypes)",
    "pylibdmtx": "opens libdmtx itself (ctypes)",
    "cx-oracle": "opens Oracle's client library itself",
    "sounddevice": "opens PortAudio itself (cffi)",
    "python-vlc": "opens libvlc itself (ctypes)",
    "pyusb": "opens libusb itself (ctypes)",
    "opuslib": "opens libopus itself (ctypes)",
}
# Where a project names its requirements, extras included.
REQUIREMENT_FILES = re.compile(
    r"^(requirements[^/]*\.(txt|in)|pyproject\.toml|setup\.(py|cfg)|Pipfile(\.lock)?|"
    r"poetry\.lock|uv\.lock|pdm\.lock)$"
)


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


_MODULE_INSTALLERS = frozenset({"pipenv", "poetry", "pdm", "uv"})
_PYTHON = re.compile(r"(/usr/local/bin/|/usr/bin/)?python3?(\.\d+)?")


def module_form(words: list[str]) -> list[str]:
    """`python -m pipenv install` -> `pipenv install …` (also poetry, pdm, uv): the module form runs the same
    installer, so it is recognised wherever the plain command is. (`python -m pip` is read by is_pip.)"""
    if len(words) > 2 and words[1] == "-m" and words[2] in _MODULE_INSTALLERS and _PYTHON.fullmatch(words[0]):
        return words[2:]
    return words


def with_module_python(text: str, python: str | None) -> str:
    """`python -m pipenv install` run by `python` (the interpreter that has the installer, when a virtualenv
    made for the app comes first on PATH and lacks it)."""
    if python is None:
        return text
    pattern = r"(?<!\S)(?:/usr/local/bin/|/usr/bin/)?python3?(?:\.\d+)?(?=\s+-m\s+(?:pipenv|poetry|pdm|uv)(?!\S))"
    return re.sub(pattern, python, text, count=1)


def classify(text: str) -> list[Segment]:
    out: list[Segment] = []
    for seg in shell.segments(text):
        _, words = shell.env_prefix(seg.words())
        words = module_form(words)
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


def mounts_pip_cache(flags: list[str] | tuple[str, ...]) -> bool:
    """Whether a RUN's `--mount=type=cache,target=…` holds pip's cache (~/.cache/pip, ~/.cache, a pip folder)."""
    for flag in flags:
        if not flag.lower().startswith("--mount="):
            continue
        options = dict(part.partition("=")[::2] for part in flag.split("=", 1)[1].split(",") if "=" in part)
        target = (options.get("target") or options.get("dst") or options.get("destination") or "").rstrip("/")
        if options.get("type") == "cache" and (
            re.search(r"(^|/)\.cache(/pip)?$", target) or "pip" in posixpath.basename(target)
        ):
            return True
    return False


def rewrite_pip(text: str, strategy: str, cache_mounted: bool = False) -> str:
    """Point one `pip install` segment at the strategy's location; editable installs become normal ones.
    --no-cache-dir is added unless the RUN mounts a cache for pip, which it would leave unused."""
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
    if "--no-cache-dir" not in out and not cache_mounted:
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
    name = source.rstrip("/")
    while name.startswith("./"):
        name = name[2:]
    return bool(MANIFESTS.match(name.lstrip("/"))) or name == "requirements"


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


# Poetry's lock freshness (poetry/packages/locker.py, `Locker._get_content_hash`): sha256 of the JSON
# (sorted keys) of the pyproject sections that decide what gets locked.
_POETRY_LEGACY_KEYS = ("dependencies", "source", "extras", "dev-dependencies")
_POETRY_KEYS = (*_POETRY_LEGACY_KEYS, "group")
_PROJECT_KEYS = ("requires-python", "dependencies", "optional-dependencies")


def _shape_safe(default):
    """A manifest of the wrong shape (`project = 1`, `package = "x"`, a TOML date where a table belongs)
    says nothing: the reader answers `default` instead of raising."""

    def wrap(reader):
        @functools.wraps(reader)
        def read(*args, **kwargs):
            try:
                return reader(*args, **kwargs)
            except (AttributeError, TypeError, ValueError, KeyError):
                return default() if callable(default) else default

        return read

    return wrap


@_shape_safe(set)
def poetry_content_hashes(pyproject: dict) -> set[str]:
    """The content-hash a poetry.lock made from this pyproject.toml carries, per Poetry generation: 1.x
    hashes [tool.poetry]'s dependencies, source, extras, dev-dependencies (and group when present); 2.0
    adds [project]'s requires-python, dependencies and optional-dependencies; 2.3 adds [dependency-groups]
    (and still accepts the hash without them from locks an older Poetry wrote)."""
    import hashlib
    import json

    def digest(groups: dict) -> str:
        project = pyproject.get("project", {})
        poetry = pyproject.get("tool", {}).get("poetry", {})
        relevant_project = {k: project[k] for k in _PROJECT_KEYS if project.get(k) is not None}
        relevant_poetry = {}
        for key in _POETRY_KEYS:
            value = poetry.get(key)
            if value is None and (key not in _POETRY_LEGACY_KEYS or relevant_project or groups):
                continue
            relevant_poetry[key] = value
        content: dict = {}
        if relevant_project:
            content["project"] = relevant_project
        if groups:
            content["dependency-groups"] = groups
        if content:
            content["tool"] = {"poetry": relevant_poetry}
        else:
            content = relevant_poetry
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

    return {digest(pyproject.get("dependency-groups", {})), digest({})}


@_shape_safe(None)
def poetry_lock_fresh(pyproject: dict, lock_text: str) -> bool | None:
    """Whether poetry.lock's content-hash matches pyproject.toml; None when the lock has no hash to compare."""
    m = re.search(r'(?m)^content-hash\s*=\s*"([0-9a-f]{64})"', lock_text)
    if m is None:
        return None
    return m.group(1) in poetry_content_hashes(pyproject)


def admits_python(spec: str, version: tuple[int, int]) -> bool | None:
    """Whether a requires-python specifier admits some release of Python major.minor (the image's tag floats
    over patch releases, so `>=3.12.4` admits 3.12). None when the specifier cannot be read."""
    major, minor = version
    for clause in (c.strip() for c in spec.split(",")):
        if not clause:
            continue
        m = re.fullmatch(r"(~=|===|==|!=|<=|>=|<|>)\s*(\d+)(?:\.(\d+|\*))?(?:\.(\d+|\*))?(?:\.\*)?", clause)
        if m is None:
            return None
        op, a, b, c = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        if b is None or b == "*":
            ok = {
                ">=": major >= a,
                ">": major > a,
                "<": major < a,
                "<=": major <= a,
                "==": major == a,
                "===": major == a,
                "!=": major != a,
                "~=": major >= a,
            }[op]
        else:
            want = (a, int(b))
            patch = 0 if c in (None, "*") else int(c)
            have = (major, minor)
            ok = {
                ">=": have >= want,
                ">": have >= want,  # 3.11.x patch releases are above 3.11
                "<": have < want or (have == want and patch > 0),
                "<=": have <= want,
                "==": have == want,
                "===": have == want,
                "!=": have != want or c != "*",  # `!=3.11.2` leaves the other 3.11 releases
                "~=": (have >= want and major == a) if c is None else have == want,
            }[op]
        if not ok:
            return False
    return True


def python_version_file(text: str) -> tuple[int, int] | None:
    """The major.minor a .python-version file asks for (`3.13`, `3.13.1`, `cpython@3.13`), None otherwise."""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.search(r"(?<![\d.])(\d+)\.(\d+)", line)
        return (int(m.group(1)), int(m.group(2))) if m and not line.startswith("pypy") else None
    return None


@_shape_safe(list)
def uv_lock_disagreement(pyproject: dict, lock: dict) -> list[str]:
    """Project dependencies uv.lock does not record for the root package (name, or specifier where the lock
    keeps them): with any, `uv sync --locked` fails and plain `uv sync` re-resolves."""
    project = pyproject.get("project", {})
    name = normalize(str(project.get("name", "")))
    root = next((p for p in lock.get("package", []) if normalize(str(p.get("name", ""))) == name), None)
    wanted = [d for d in project.get("dependencies", []) if isinstance(d, str)]
    if root is None:
        return [spec_name(d) for d in wanted] or ([name] if name else [])
    locked = {normalize(str(d.get("name", ""))) for d in root.get("dependencies", []) if isinstance(d, dict)}
    requires = root.get("metadata", {}).get("requires-dist")
    recorded = None
    if isinstance(requires, list):
        recorded = {
            (normalize(str(r.get("name", ""))), str(r.get("specifier", "")).replace(" ", ""))
            for r in requires
            if isinstance(r, dict)
        }
    missing: list[str] = []
    for dep in wanted:
        dep_name = spec_name(dep)
        if not dep_name:
            continue
        has_marker = ";" in dep
        if dep_name not in locked and not has_marker:
            missing.append(dep_name)
            continue
        if recorded is not None:
            spec = re.sub(r"^[A-Za-z0-9._-]+(\[[^\]]*\])?", "", dep.split(";", 1)[0]).strip().replace(" ", "")
            spec = spec.strip("()")
            if (dep_name, ",".join(sorted(spec.split(","))) if spec else "") not in {
                (n, ",".join(sorted(s.split(","))) if s else "") for n, s in recorded
            }:
                missing.append(dep)
    groups = pyproject.get("dependency-groups", {})
    locked_groups = root.get("dev-dependencies", {})
    if isinstance(groups, dict) and isinstance(locked_groups, dict):
        for group, entries in groups.items():
            names = {normalize(str(d.get("name", ""))) for d in locked_groups.get(group, []) if isinstance(d, dict)}
            for dep in entries if isinstance(entries, list) else []:
                if isinstance(dep, str) and ";" not in dep and spec_name(dep) not in names:
                    missing.append(f"{spec_name(dep)} (group {group})")
    wanted_python = str(project.get("requires-python", "")).replace(" ", "")
    locked_python = str(lock.get("requires-python", "")).replace(" ", "")
    if wanted_python and locked_python and wanted_python != locked_python:
        missing.append(f"requires-python {wanted_python} (the lock has {locked_python})")
    return missing
