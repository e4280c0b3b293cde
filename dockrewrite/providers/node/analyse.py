"""The original and its context read once into frozen facts: what it installs, builds, copies and runs, as whom."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dockrewrite import shell, syslibs
from dockrewrite.context import BuildContext
from dockrewrite.contract import env_pairs as contract_env_pairs
from dockrewrite.model import DockerfileModel, Instruction, Stage
from dockrewrite.providers.base import image_name
from dockrewrite.providers.common import global_args
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node import lockfile as nlock
from dockrewrite.providers.node import package as npkg
from dockrewrite.providers.node import runtime as bases
from dockrewrite.results import Skip

MANIFEST_NAMES = (
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".pnpmfile.cjs",
    "pnpm-workspace.yaml",
    ".yarn",
    "patches",
    ".nvmrc",
    ".node-version",
)


@dataclass(frozen=True)
class Item:
    """One instruction of the original, with its RUN segments and the WORKDIR in force after it."""

    ins: Instruction
    segments: list[cmds.Segment] = field(default_factory=list)
    workdir: str = "/"
    source_copy: bool = False  # COPY/ADD of app sources from the context
    manifest_copy: bool = False  # COPY of package.json/lockfiles only


@dataclass(frozen=True)
class Facts:
    """What the original Dockerfile and its build context say, read once before any planning."""

    args: Mapping[str, str]  # the global ARG defaults
    resolved: str  # the base image with the build arguments substituted
    major: int | None  # the base image's Node major, when its tag says
    alpine: bool  # the base image is an alpine (musl) one
    pkg: npkg.Package
    items: tuple[Item, ...]
    workdir: str  # the WORKDIR in force at the end, where the command runs
    entry: Instruction | None  # the last ENTRYPOINT
    cmd: Instruction | None  # the last CMD
    no_command: bool  # neither: the runtime inherits the node image's CMD ["node"]
    install_index: int  # the item that installs the dependencies (its first install)
    install: cmds.Segment
    app_dir: str  # the WORKDIR the install runs in
    install_env: Mapping[str, str]  # ENV and ARG values in force where the original installs
    user: str | None  # the original's last USER, None when that is root
    env: Mapping[str, str]  # the stage's ENV values
    native: str | None  # why the dependencies may hold compiled code tied to the builder's C library
    copied_entries: tuple[str, ...]  # top-level context entries the original copied into the app folder
    global_bins: frozenset[str]  # programs the original's global installs (`npm i -g`) provide
    pnpm_install: str | None  # the original's global install of pnpm (`npm i -g pnpm@8`)


def analyse(model: DockerfileModel, ctx: BuildContext) -> Facts:
    """The facts, or Skip with what in the original no Node rewrite can split."""
    stage = model.stages[0]
    args = global_args(model)
    resolved = shell.substitute(stage.image, args) or stage.image
    if image_name(resolved) != "node":
        raise Skip(
            f"the base image {stage.image} is not an official node image, so the slim/alpine/distroless "
            "image with the same Node is not known",
            stage.from_.line,
        )
    pkg = npkg.read_package(ctx)
    if pkg.error:
        raise Skip(pkg.error, line_naming(stage, "package.json") or stage.from_.line)
    if ctx.known and not pkg.found:
        raise Skip(
            "no readable package.json in the build context (is the context another folder? pass --context)",
            stage.from_.line,
        )
    reason = nlock.workspace_reason(ctx, pkg)
    if reason:
        raise Skip(reason, line_naming(stage, "package.json") or stage.from_.line)
    other = next((n for n in npkg.OTHER_LOCKFILES if ctx.exists(n)), None)
    if other:
        raise Skip(f"{other}: Bun projects are not supported yet", stage.from_.line)
    items, workdir = _walk(stage, args)
    install_index, install = _find_install(stage, items)
    app_dir = items[install_index].workdir
    entry, cmd = stage.last("ENTRYPOINT"), stage.last("CMD")
    return Facts(
        args=MappingProxyType(args),
        resolved=resolved,
        major=bases.major(resolved),
        alpine=bases.is_alpine(resolved),
        pkg=pkg,
        items=tuple(items),
        workdir=workdir,
        entry=entry,
        cmd=cmd,
        # No CMD: the node images (full, slim, alpine) all have CMD ["node"], so the runtime inherits the same one.
        no_command=cmd is None and entry is None,
        install_index=install_index,
        install=install,
        app_dir=app_dir,
        install_env=MappingProxyType(_install_env(items, install_index, install)),
        user=original_user(stage),
        env=MappingProxyType(stage_env(stage)),
        native=_native(items, pkg),
        copied_entries=tuple(_copied_entries(ctx, items, app_dir)),
        global_bins=frozenset(_global_bins(items)),
        pnpm_install=_pnpm_install(items),
    )


def line_naming(stage: Stage, name: str) -> int | None:
    """The COPY/ADD that brings a context file in, by name, pattern or the whole context."""
    for ins in stage.find("COPY", "ADD"):
        if ins.flag("from") is None and any(
            s.rstrip("/") in (".", "") or fnmatch.fnmatch(name, s.lstrip("./")) for s in ins.args[:-1]
        ):
            return ins.line
    return None


def original_user(stage: Stage) -> str | None:
    ins = stage.last("USER")
    if ins is None or not ins.args:
        return None
    name = ins.args[0].split(":")[0]
    return None if name in ("root", "0") else ins.args[0]


def stage_env(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in stage.find("ENV"):
        for i in range(0, len(ins.args) - 1, 2):
            env[ins.args[i]] = ins.args[i + 1].strip("\"'")
    return env


def _walk(stage: Stage, args: dict[str, str]) -> tuple[list[Item], str]:
    """Each instruction with the WORKDIR in force, its RUN segments and what its COPY brings; the last WORKDIR."""
    items: list[Item] = []
    workdir = "/"
    env = dict(args)
    for ins in stage.instructions:
        k = ins.keyword
        segments: list[cmds.Segment] = []
        source_copy = manifest_copy = False
        if k == "WORKDIR":
            target = shell.substitute(ins.args[0] if ins.args else "/", env)
            if target is None:
                raise Skip(f"WORKDIR {ins.args[0]} depends on a build argument without a default", ins.line)
            workdir = shell.resolve(workdir, target.strip("\"'"))
        elif k in ("ARG", "ENV"):
            pairs = (
                [(a.partition("=")[0], a.partition("=")[2]) for a in ins.args]
                if k == "ARG"
                else [(ins.args[i], ins.args[i + 1]) for i in range(0, len(ins.args) - 1, 2)]
            )
            for key, value in pairs:
                env[key] = shell.substitute(value.strip("\"'"), env) or value
        elif k in ("COPY", "ADD") and ins.flag("from") is None:
            sources = [s for s in ins.args[:-1]]
            if k == "ADD" and any(re.match(r"^(https?|git)[:@]", s) for s in sources):
                raise Skip("ADD from a URL: what it fetches cannot be placed in a stage safely", ins.line)
            if ins.heredocs:
                raise Skip("COPY with a heredoc is not supported in Node rewrites", ins.line)
            manifest_copy = bool(sources) and all(is_manifest(s) for s in sources)
            source_copy = not manifest_copy
        elif k == "RUN":
            segments = cmds.classify(ins.shell)
            if ins.heredocs and any(s.kind in (cmds.INSTALL, cmds.BUILD, cmds.FS) for s in segments):
                # FS steps are replayed in the runtime one per line, and a heredoc script's lines (comments,
                # continuations) cannot be lifted out of it: the replayed RUN swallowed the next instruction
                raise Skip("a heredoc RUN that installs, builds or sets up files cannot be split into stages", ins.line)
        items.append(Item(ins, segments, workdir, source_copy, manifest_copy))
    return items, workdir


def _find_install(stage: Stage, items: list[Item]) -> tuple[int, cmds.Segment]:
    """The first dependency install; a later one is marked PRUNE (a production-only install after the build)."""
    found: tuple[int, cmds.Segment] | None = None
    for index, it in enumerate(items):
        for seg in it.segments:
            if seg.kind == cmds.ADD:
                raise Skip(
                    f"`{' '.join(seg.words[:4])}` adds packages while the image builds; add them to "
                    "package.json so the dependency stages install them",
                    it.ins.line,
                )
            if seg.kind == cmds.INSTALL:
                if found is None:
                    found = (index, seg)
                else:
                    seg.kind = cmds.PRUNE  # a second, production-only install after the build
    if found is None:
        line = next((it.ins.line for it in items if it.source_copy), stage.from_.line)
        raise Skip("no npm, yarn or pnpm install was found: nothing to split into a dependency stage", line)
    index, install = found
    it = items[index]
    if it.ins.flag("mount") is not None and "type=bind" in (it.ins.flag("mount") or ""):
        raise Skip("the install reads its manifests through a bind mount; not supported yet", it.ins.line)
    if it.ins.json:
        raise Skip("exec-form RUN installs are not supported in Node rewrites yet", it.ins.line)
    before = it.segments[: it.segments.index(install)]
    if any(s.words[:1] == ["cd"] for s in before):
        raise Skip("the install runs after `cd` in the same RUN; use WORKDIR for the app folder", it.ins.line)
    if re.search(r"\|\||(?<!\|)\|(?!\|)|;", it.ins.shell) and len(it.segments) > 1:
        raise Skip(
            "this RUN mixes the install with other steps through `;`, `|` or `||`; split it into RUN lines",
            it.ins.line,
        )
    return found


def _install_env(items: list[Item], install_index: int, install: cmds.Segment) -> dict[str, str]:
    """ENV and ARG values in force where the original installs (NODE_ENV=production makes it skip dev)."""
    env: dict[str, str] = {}
    for it in items[:install_index]:
        if it.ins.keyword == "ENV":
            env.update((k, v.strip("\"'")) for k, v in contract_env_pairs(it.ins))
    env.update(install.env)
    return env


def _native(items: list[Item], pkg: npkg.Package) -> str | None:
    """Why dependencies may hold compiled code tied to the builder's C library, or None."""
    for it in items:
        for seg in it.segments:
            if seg.kind == cmds.SYSTEM:
                _, names = syslibs.installed_packages(seg.text)
                tools_ = [n for n in names if n in ("python3", "python", "make", "g++", "gcc", "build-base")]
                if tools_:
                    return f"{' '.join(tools_)} installed for node-gyp (line {it.ins.line})"
    found = sorted(n for n in pkg.deps() if n in npkg.NATIVE_PACKAGES)
    if found:
        return f"{', '.join(found)} in dependencies"
    return None


def _copied_entries(ctx: BuildContext, items: list[Item], app_dir: str) -> list[str]:
    """Top-level context entries the original copied into the app folder."""
    out: list[str] = []
    for it in items:
        if not it.source_copy:
            continue
        sources = it.ins.args[:-1]
        raw_dest = it.ins.args[-1]
        dest = shell.resolve(it.workdir, raw_dest)
        for s in sources:
            s = s.rstrip("/")
            if s in (".", "./", ""):
                if dest == app_dir:
                    out += [e for e in ctx.entries if e not in out]
                continue
            name = s[2:] if s.startswith("./") else s
            into = raw_dest.endswith("/") or len(sources) > 1
            target = posixpath.join(dest, posixpath.basename(name)) if into else dest
            flat = "*" not in name and "/" not in name
            if flat and target == posixpath.join(app_dir, name) and name not in out:
                out.append(name)
    return out


def _global_bins(items: list[Item]) -> set[str]:
    out: set[str] = set()
    for it in items:
        for seg in it.segments:
            if seg.kind == cmds.GLOBAL:
                out |= {g.rsplit("/", 1)[-1] for g in seg.globals_}
    if "pm2" in out:
        out |= {"pm2-runtime", "pm2-docker"}
    return out


def _pnpm_install(items: list[Item]) -> str | None:
    """The original's global install of pnpm (`npm i -g pnpm@8`), which the runtime can repeat; corepack
    would fetch pnpm when the container starts, as the node user."""
    for it in items:
        for seg in it.segments:
            if seg.kind == cmds.GLOBAL and seg.words[:1] == ["npm"] and "pnpm" in seg.globals_:
                return seg.text.strip()
    return None


def is_manifest(source: str) -> bool:
    name = source.rstrip("/")
    name = name[2:] if name.startswith("./") else name
    if name in MANIFEST_NAMES:
        return True
    return bool(re.fullmatch(r"package[^/]*\.json|\*\.json|[^/]*lock[^/]*", name)) and "/" not in name
