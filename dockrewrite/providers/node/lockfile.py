"""Whether the lockfile and the workspace around the context let the dependency stages install from it."""

from __future__ import annotations

import json
import posixpath
import re

from dockrewrite.context import BuildContext
from dockrewrite.providers.node.package import LOCKFILES, Package


# -- workspaces ----------------------------------------------------------------------------------
def workspace_reason(ctx: BuildContext, pkg: Package) -> str | None:
    """Why this context is part of a workspace the rewrite cannot split, or None."""
    local = sorted(
        name
        for dev in (False, True)
        for name, spec in pkg.deps(dev).items()
        if spec.startswith(("workspace:", "link:", "file:../", "portal:"))
    )
    above = outside_lockfile(ctx)
    if local:
        where = f"; the workspace lockfile is {above}, outside the build context" if above else ""
        return (
            f"workspace package: {', '.join(local[:3])} come from the workspace ({pkg.deps().get(local[0]) or 'local'})"
            f" and resolve only from the workspace root{where}; build from the root with "
            "`pnpm deploy`/`yarn workspaces focus` or run dockrewrite on the root Dockerfile"
        )
    if pkg.data.get("workspaces") or ctx.exists("pnpm-workspace.yaml") and _pnpm_packages(ctx):
        return (
            "workspace root: production dependencies of one package need `pnpm deploy --prod` or "
            "`yarn workspaces focus --production`, which this rewrite does not plan yet"
        )
    return None


def _pnpm_packages(ctx: BuildContext) -> bool:
    """Whether pnpm-workspace.yaml lists packages besides the root. pnpm 10 keeps settings there
    (onlyBuiltDependencies, minimumReleaseAge), so a file whose list is only '.' is a single package."""
    text = ctx.read_text("pnpm-workspace.yaml") or ""
    m = re.search(r"^packages\s*:[ \t]*(.*)$", text, re.M)
    if m is None:
        return False
    inline = m.group(1).split("#", 1)[0].strip()
    if inline.startswith("["):
        entries = [e.strip().strip("'\"") for e in inline.strip("[]").split(",") if e.strip()]
    else:
        entries = []
        for line in text[m.end() :].splitlines()[1:]:
            item = re.match(r"^\s+-\s*(.*?)\s*(#.*)?$", line)
            if item:
                entries.append(item.group(1).strip("'\""))
            elif line.strip() and not line.lstrip().startswith("#"):
                break  # the next key
    return any(posixpath.normpath(e) != "." for e in entries)


def outside_lockfile(ctx: BuildContext) -> str | None:
    """A lockfile in a folder above the context (the workspace root), as a path relative to the context."""
    if not ctx.known:
        return None
    here = ctx.root.resolve()
    for up in range(1, 4):
        parent = here.parents[up - 1] if up - 1 < len(here.parents) else None
        if parent is None:
            return None
        for name in LOCKFILES:
            if (parent / name).is_file():
                return "../" * up + name
    return None


# -- does the lockfile agree with package.json? ---------------------------------------------------
_DEP_FIELDS = ("dependencies", "devDependencies", "optionalDependencies")


def _declared(pkg: Package) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in _DEP_FIELDS:
        value = pkg.data.get(name)
        if isinstance(value, dict):
            out.update((k, str(v)) for k, v in value.items())
    return out


def pnpm_lock_format_problem(lock_text: str, pnpm_major: int | None) -> str | None:
    """Why a frozen pnpm install would refuse this pnpm-lock.yaml's format, or None. pnpm 9 and later write
    lockfileVersion 9.0 and refuse an older format in frozen mode (ERR_PNPM_LOCKFILE_BREAKING_CHANGE), where
    a plain install converts it; pnpm 8 and earlier cannot read 9.0. `pnpm_major` None: not pinned (the
    latest pnpm runs)."""
    m = re.search(r"""^lockfileVersion:\s*['"]?(\d+)""", lock_text, re.MULTILINE)
    if m is None:
        return None
    lock_major = int(m.group(1))
    runs = "the latest pnpm" if pnpm_major is None else f"pnpm {pnpm_major}"
    if (pnpm_major is None or pnpm_major >= 9) and lock_major < 9:
        return f"pnpm-lock.yaml is lockfileVersion {lock_major}, which {runs} refuses to install frozen"
    if pnpm_major is not None and pnpm_major < 9 and lock_major >= 9:
        return f"pnpm-lock.yaml is lockfileVersion {lock_major}, which {runs} cannot read"
    return None


def pnpm_major(pkg: Package, global_install: str | None) -> int | None:
    """The major version of the pnpm the image runs: package.json's packageManager (corepack), else the
    version the original's `npm i -g pnpm@X` pins; None when unpinned."""
    for spec in (pkg.data.get("packageManager"), global_install):
        m = re.search(r"\bpnpm@(\d+)", spec) if isinstance(spec, str) else None
        if m:
            return int(m.group(1))
    return None


def lock_disagreement(ctx: BuildContext, pkg: Package, lockfile: str) -> str | None:
    """Why `npm ci` / `yarn --frozen-lockfile` / `pnpm --frozen-lockfile` would refuse this lockfile, or None when
    every dependency package.json declares has its entry (package-lock v1 `dependencies`, v2/v3 `packages[""]`;
    yarn.lock `name@range` keys; pnpm-lock's importer for the project with the same specifiers)."""
    declared = _declared(pkg)
    if not declared:
        return None
    text = ctx.read_text(lockfile, limit=20_000_000)
    if text is None:
        return f"{lockfile} cannot be read"
    if lockfile in ("package-lock.json", "npm-shrinkwrap.json"):
        missing = _npm_missing(text, declared)
    elif lockfile == "yarn.lock":
        missing = _yarn_missing(text, declared)
    else:
        missing = _pnpm_missing(text, declared)
    if missing is None:
        return f"{lockfile} cannot be parsed"
    if not missing:
        return None
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return f"{lockfile} has no entry for {shown} from package.json"


def _npm_missing(text: str, declared: dict[str, str]) -> list[str] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    packages = data.get("packages")
    if isinstance(packages, dict) and data.get("lockfileVersion", 1) != 1:  # v2/v3: the root package's record
        root = packages.get("") if isinstance(packages.get(""), dict) else {}
        listed: set[str] = set()
        for name in (*_DEP_FIELDS, "peerDependencies"):
            value = root.get(name)
            if isinstance(value, dict):
                listed |= set(value)
        return [
            name
            for name in declared
            if name not in listed or not isinstance(packages.get(f"node_modules/{name}"), dict)
        ]
    deps = data.get("dependencies")
    deps = deps if isinstance(deps, dict) else {}
    return [name for name in declared if name not in deps]


_YARN_KEY = re.compile(r'^(?!\s)(?!#)("?[^\n]+?)"?:\s*$', re.M)


def _yarn_missing(text: str, declared: dict[str, str]) -> list[str]:
    """yarn.lock keys: `express@^4.19.2, express@^4.18.0:` (v1), `"express@npm:^4.19.2":` (berry)."""
    keys: set[str] = set()
    for m in _YARN_KEY.finditer(text):
        for part in m.group(1).split(","):
            keys.add(part.strip().strip('"'))
    missing = []
    for name, spec in declared.items():
        candidates = {f"{name}@{spec}", f"{name}@npm:{spec}"}
        if not candidates & keys:
            missing.append(f"{name}@{spec}")
    return missing


def _pnpm_missing(text: str, declared: dict[str, str]) -> list[str] | None:
    from ruamel.yaml import YAML  # only for pnpm projects

    try:
        data = YAML(typ="safe", pure=True).load(text)
    except Exception:  # noqa: BLE001 - any YAML error means the lockfile cannot be read
        return None
    if not isinstance(data, dict):
        return None
    importers = data.get("importers")
    project = importers.get(".") if isinstance(importers, dict) else data  # v5-v9 single projects keep it on top
    if not isinstance(project, dict):
        return None
    specifiers: dict[str, str] = {}
    if isinstance(project.get("specifiers"), dict):  # lockfile v5
        specifiers = {k: str(v) for k, v in project["specifiers"].items()}
    for name in _DEP_FIELDS:
        value = project.get(name)
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, dict) and "specifier" in v:  # lockfile v6+
                    specifiers[k] = str(v["specifier"])
                else:
                    specifiers.setdefault(k, str(v))
    return [f"{name}@{spec}" for name, spec in declared.items() if specifiers.get(name) not in (spec,)]
