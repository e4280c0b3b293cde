"""The dependency and builder stages: the install, what it reads, its flags, and the steps around it."""

from __future__ import annotations

import dataclasses
import fnmatch
import re

from dockrewrite import ops, shell
from dockrewrite.contract import RUNTIME_ONLY
from dockrewrite.model import Instruction
from dockrewrite.providers.common import chain, run_prefix
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node import lockfile as nlock
from dockrewrite.providers.node import package as npkg
from dockrewrite.providers.node import sources as nsrc
from dockrewrite.providers.node.analyse import Item
from dockrewrite.results import Skip


class Dependencies:
    """The deps and builder stages around the original install."""

    def _node_version_notes(self) -> None:
        """.nvmrc, .node-version and engines.node against the base image's major. The runtime image is always the
        builder's Node (slim/alpine of the same tag, distroless of the same major), so the app keeps running on
        the Node the original ran; when that is not the Node the project asks for, say so loudly."""
        image, major = self.stage.image, self.facts.major
        for where, spec in npkg.wanted_node(self.ctx, self.facts.pkg):
            if major is None:
                self.note(
                    "DR501",
                    f"{where} asks for Node `{spec}`, and {image} does not say which Node it has: the builder and the "
                    "runtime run whatever that tag is when they are built, the same floating tag for both; pin a major",
                )
                continue
            if npkg.node_major_allowed(major, spec) is False:
                self.note(
                    "DR501",
                    f"NODE VERSION MISMATCH: {where} asks for Node `{spec}`, but {image} has Node {major}; the "
                    f"builder and the runtime both run Node {major}, as the original did (not what {where} "
                    f"asks for): change the FROM tag to a Node that satisfies `{spec}`",
                )

    def _choose_manager(self) -> None:
        """The package manager and its install command, from the original's install and the lockfiles."""
        it = self.facts.items[self.facts.install_index]
        words = self.facts.install.words
        frozen = words[1:2] == ["ci"] or "--frozen-lockfile" in words or "--immutable" in words
        self.manager = npkg.manager_for(self.ctx, self.facts.install.manager or "npm", self.facts.major, frozen)
        manager = self.manager
        if self.ctx.known and not manager.lockfile:
            wrong = npkg.lockfiles(self.ctx)
            words = self.facts.install.words
            if manager.name == "npm" and len(words) > 1 and words[1] == "ci":
                raise Skip("`npm ci` needs package-lock.json, which the build context does not have", it.ins.line)
            if "--frozen-lockfile" in words or "--immutable" in words:
                raise Skip(f"`{' '.join(words[:3])}` needs a lockfile the build context does not have", it.ins.line)
            also = f" ({', '.join(wrong)} belongs to another package manager)" if wrong else ""
            self.note(
                "DR403",
                f"no lockfile for {manager.name}{also}: `{manager.install(False, [])}` resolves versions at "
                "build time, so builds are not reproducible; commit a lockfile",
            )
        if manager.lockfile and not frozen and self.ctx.known:
            self._unless_lock_agrees(it)
            manager = self.manager
        if manager.strict and not frozen:
            self.note(
                "DR401",
                f"`{' '.join(words[:2])}` becomes `{manager.install(False, [])}`: installs follow "
                f"{manager.lockfile} exactly, and the build fails when it is out of date with package.json "
                "instead of quietly resolving new versions",
            )
        if manager.lockfile and self.ctx.known and not self._lockfile_reaches_image():
            self.note(
                "DR401",
                f"{manager.lockfile} is now copied and installed from (`{manager.install(False, [])}`); "
                f"the original never copied it (line {it.ins.line})",
            )
        if manager.berry:
            rc = self.ctx.read_text(".yarnrc.yml") or ""
            if not re.search(r"^nodeLinker:\s*['\"]?node-modules", rc, re.M):
                raise Skip(
                    "Yarn Plug'n'Play keeps dependencies in .yarn/cache and .pnp.cjs, not node_modules; set "
                    "`nodeLinker: node-modules` in .yarnrc.yml",
                    it.ins.line,
                )

    def _unless_lock_agrees(self, it: Item) -> None:
        """`npm ci` and the frozen yarn/pnpm installs fail when package.json declares a dependency the lockfile
        does not have; the original's resolving install then stays (with the lockfile only if it copied it)."""
        manager = self.manager
        problem = nlock.lock_disagreement(self.ctx, self.facts.pkg, manager.lockfile or "")
        if problem is None and manager.name == "pnpm":
            major = nlock.pnpm_major(self.facts.pkg, self.facts.pnpm_install)
            problem = nlock.pnpm_lock_format_problem(self.ctx.read_text(manager.lockfile or "") or "", major)
        if problem is None:
            return
        strict = manager.install(False, [])
        reaches = self._lockfile_reaches_image()
        self.manager = dataclasses.replace(manager, frozen=False, lockfile=manager.lockfile if reaches else None)
        original = " ".join(self.facts.install.words[:2])
        self.note(
            "DR402",
            f"`{original}` (line {it.ins.line}) stays a resolving `{self.manager.install(False, [])}`, not `{strict}`: "
            f"{problem}, so `{strict}` would fail; run `{original}` locally and commit the updated lockfile to make "
            "the builds reproducible",
        )

    def _lockfile_reaches_image(self) -> bool:
        lock = self.manager.lockfile
        for it in self.facts.items[: self.facts.install_index + 1]:
            if it.ins.keyword in ("COPY", "ADD") and (it.source_copy or it.manifest_copy):
                for s in it.ins.args[:-1]:
                    s = s.rstrip("/")
                    if s in (".", "./", "") or fnmatch.fnmatch(lock, s.lstrip("./").lstrip("/")):
                        return True
        return False

    def _from(self, name: str, image: str | None = None) -> str:
        platform = f"--platform={self.stage.platform} " if self.stage.platform else ""
        return f"FROM {platform}{image or self.stage.image} AS {name}"

    def _lifecycle(self) -> list[str]:
        return [s for s in ("preinstall", "install", "postinstall", "prepare") if s in self.facts.pkg.scripts]

    def _reorder(self) -> bool:
        """Whether the builder installs from the manifests before the sources are copied (cache-friendly)."""
        return not any(it.source_copy for it in self.facts.items[: self.facts.install_index]) or not self._lifecycle()

    def _manifest_steps(self) -> list[ops.Op]:
        """COPY lines for what the install reads: the original's manifest COPYs when they cover it."""
        originals = [it for it in self.facts.items[: self.facts.install_index] if it.manifest_copy]
        needed = self._manifest_files()
        covered = set()
        for it in originals:
            for s in it.ins.args[:-1]:
                covered |= {n for n in needed if fnmatch.fnmatch(n, s.lstrip("./").rstrip("/") or ".")}
        if originals and (not self.ctx.known or covered >= set(needed)):
            return [ops.step(it.ins.text, it.ins.comments) for it in originals]
        source = next((it for it in self.facts.items[: self.facts.install_index] if it.source_copy), None)
        ref = originals[0] if originals else source
        flags = "".join(f"{f} " for f in ref.ins.flags) if ref else ""
        if not self.ctx.known:
            return [ops.step(f"COPY {flags}package*.json ./")]
        files = [n for n in needed if not self.ctx.is_dir(n)]
        dirs = [n for n in needed if self.ctx.is_dir(n)]
        dest = "./" if self.facts.app_dir == (ref.workdir if ref else self.facts.app_dir) else self.facts.app_dir + "/"
        steps = [ops.step(cmds.copy_line(flags, files, dest, self.model.escape))]
        steps += [ops.step(cmds.copy_line(flags, [d], dest + d, self.model.escape)) for d in dirs]
        if originals:
            self.note(
                "DR407",
                f"the install now also gets {', '.join(n for n in needed if n not in covered)} "
                f"(line {originals[0].ins.line} copied only part of what it reads)",
            )
        return steps

    def _manifest_files(self) -> list[str]:
        names = ["package.json"]
        if self.manager.lockfile:
            names.append(self.manager.lockfile)
        for name in (".npmrc", ".pnpmfile.cjs", "pnpm-workspace.yaml", "patches"):
            if self.ctx.exists(name):
                names.append(name)
        if self.manager.name == "yarn":
            names += [n for n in (".yarnrc", ".yarnrc.yml", ".yarn") if self.ctx.exists(n)]
        return names

    def _install_text(self, production: bool) -> str:
        """The install RUN for a stage: the original's flags and env, our lockfile and production flags."""
        seg = self.facts.install
        env = "".join(f"{k}={v} " for k, v in seg.env.items())
        command = env + self.manager.install(production, seg.extra)
        if production and self._skip_root_scripts():
            command += " --ignore-scripts"
            if self.facts.native:
                command += " \\\n && " + ("pnpm rebuild" if self.manager.name == "pnpm" else "npm rebuild")
        if production and not self.facts.pkg.deps() and not self.facts.pkg.data.get("optionalDependencies"):
            # nothing to install makes no node_modules folder, and the runtime's COPY of it would fail
            command = "mkdir -p node_modules && " + command
        return run_prefix(self.facts.items[self.facts.install_index].ins.text) + command

    def _skip_root_scripts(self) -> bool:
        """A prepare/postinstall script that calls a dev tool (husky…) fails when dev dependencies are left out."""
        dev = self.facts.pkg.deps(dev=True)
        for script in self._lifecycle():
            for words in npkg.script_commands(self.facts.pkg, script):
                tool = npkg.unwrap(words)[0] if words else ""
                package = tool if tool in dev else npkg.BIN_PACKAGES.get(tool)
                if tool and package in dev:
                    if not hasattr(self, "_root_scripts_warned"):
                        self._root_scripts_warned = True
                        self.note(
                            "DR408",
                            f"the production install skips the package's own {script} script "
                            f"(`{self.facts.pkg.scripts[script]}` needs the dev dependency {package})"
                            + ("; `npm rebuild` then builds the native dependencies" if self.facts.native else ""),
                        )
                    return True
        return False

    def _preamble(self, drop_globals: frozenset[str] = frozenset()) -> list[ops.Op]:
        """What runs before the install: ARG, ENV, WORKDIR, USER, system and global tool installs."""
        steps: list[ops.Op] = []
        items = self.facts.items[: self.facts.install_index + 1]
        for index, it in enumerate(items):
            ins = it.ins
            k = ins.keyword
            if k in RUNTIME_ONLY or (k == "USER" and not self._user_matters(index)):
                continue
            if it.source_copy or it.manifest_copy:
                continue
            if k == "RUN":
                segments = it.segments if index < self.facts.install_index else self._before_install(it)
                kept = [s for s in segments if not _drops(s, drop_globals)]
                if not kept or all(s.kind in (cmds.NEUTRAL, cmds.CLEAN) for s in kept):
                    continue
                if len(kept) == len(it.segments):
                    steps.append(ops.step(ins.text, ins.comments))
                else:
                    steps.append(ops.step(chain(run_prefix(ins.text), kept), ins.comments))
                continue
            if k in ("COPY", "ADD"):
                steps.append(ops.step(ins.text, ins.comments))  # COPY --from=image: tools for the build
                continue
            steps.append(self._build_user(ins) if k == "USER" else ops.step(ins.text, ins.comments))
        return steps

    @staticmethod
    def _build_user(ins: Instruction) -> ops.Op:
        """The original's USER, replayed where the install runs; hadolint already flags it in the original."""
        name = (ins.args[0] if ins.args else "").split(":")[0]
        extra = () if name.isdigit() or "# hadolint ignore=DL3066" in ins.comments else ("# hadolint ignore=DL3066",)
        return ops.step(ins.text, ins.comments + extra)

    def _before_install(self, it: Item) -> list[cmds.Segment]:
        segs = it.segments[: it.segments.index(self.facts.install)]
        return [s for s in segs if s.kind != cmds.NEUTRAL]

    def _user_matters(self, index: int) -> bool:
        return any(it.ins.keyword in ("RUN", "COPY", "ADD") for it in self.facts.items[index + 1 :])

    def _deps_stage(self, name: str = "deps") -> list[ops.Op]:
        steps = [ops.step(self._from(name), self.stage.from_.comments)]
        steps += self._preamble(self._serve_globals())
        steps += self._install_inputs()
        if self.dev_at_runtime:
            verb = "runs or loads" if self.dev_programs else "loads"
            comment = f"# All dependencies: the app {verb} {', '.join(self.dev_at_runtime)} from devDependencies"
            steps.append(ops.step(self._install_text(False), (comment,)))
        else:
            steps.append(ops.step(self._install_text(True), ("# Production dependencies only",)))
        return steps

    def _dev_at_runtime(self) -> list[str]:
        """devDependencies the runtime's own code loads (require/import, `node -r`, the Babel config it runs
        with). The original installed them, so the runtime must too, or the app fails at start."""
        if self.facts.install.production or self.facts.install_env.get("NODE_ENV") == "production":
            return []  # the original left dev dependencies out as well
        dev = self.facts.pkg.deps(dev=True)
        prod = set(self.facts.pkg.deps()) | set(self.facts.pkg.data.get("optionalDependencies") or {})
        loaded = dict(self._loaded())
        for words in self._start_programs():
            for name in filter(None, map(nsrc.package_of, cmds.node_preloads(words))):
                loaded.setdefault(name, "the start command")
        ran: dict[str, str] = {}
        start = self.start
        wrappers: list[list[str]] = []  # `cross-env A=1 node x`: the script still runs through cross-env
        if start.kind == "script" and not (start.resolved or start.compiled or start.build):
            for seg in shell.segments(self.facts.pkg.scripts.get(start.script or "", "")):
                words = shell.env_prefix(seg.words())[1]
                if words and words[0] in ("cross-env", "env-cmd", "dotenv"):
                    wrappers.append(words)
        for words in self._start_programs() + wrappers:
            tool = words[0] if words else ""
            package = tool if tool in dev else npkg.BIN_PACKAGES.get(tool)
            if package in dev and package not in prod:
                ran[package] = tool
        self.dev_programs = sorted(ran.values())
        if ran:
            self.note(
                "DR404",
                f"the start command runs {', '.join(f'`{t}`' for t in ran.values())}, which package.json lists under "
                f"devDependencies only ({', '.join(ran)}): the runtime installs the dev dependencies too, as the "
                "original did"
                + (
                    ""
                    if "tsconfig.json" not in self._start_configs()
                    else ", and carries the sources and tsconfig.json"
                ),
            )
        babel = [c for c in self._start_configs() if "babel" in c]
        for name in nsrc.babel_packages(self.ctx, babel):
            loaded.setdefault(name, babel[0])
        needed = {name: where for name, where in loaded.items() if name in dev and name not in prod}
        if needed:
            where = sorted(set(needed.values()))
            self.note(
                "DR404",
                f"{', '.join(where)} load{'s' if len(where) == 1 else ''} {', '.join(sorted(needed))}, which "
                "package.json lists under devDependencies only: the runtime installs the dev dependencies too, as "
                "the original did (move them to dependencies to leave the dev tools out)",
            )
        return sorted(set(needed) | set(ran))

    def _install_inputs(self) -> list[ops.Op]:
        """What the install reads: the manifests, or the original's copies when install scripts need sources."""
        if self._reorder():
            return self._manifest_steps()
        return [
            ops.step(it.ins.text, it.ins.comments)
            for it in self.facts.items[: self.facts.install_index]
            if it.source_copy or it.manifest_copy
        ]

    @staticmethod
    def _serve_globals() -> frozenset[str]:
        """Global CLIs that only serve or supervise the app: the production install does not need them."""
        return frozenset(npkg.STATIC_SERVERS) | {"pm2"}

    def _builder_stage(self, add_build: str | None = None) -> list[ops.Op]:
        """All dependencies, the sources and the original's build steps, in the original's order."""
        comments = ("# Build with all dependencies",)
        steps = [ops.step(self._from("builder"), comments)]
        steps += self._preamble(frozenset(npkg.STATIC_SERVERS))
        steps += self._install_inputs()
        steps.append(ops.step(self._install_text(False)))
        sources = [
            ops.step(it.ins.text, it.ins.comments)
            for it in self.facts.items[: self.facts.install_index]
            if it.source_copy
        ]
        if self._reorder():
            steps += sources
        it = self.facts.items[self.facts.install_index]
        after = it.segments[it.segments.index(self.facts.install) + 1 :]
        after = [s for s in after if s.kind not in (cmds.PRUNE, cmds.CLEAN)]
        if after and (sources and self._reorder()):
            steps.append(ops.step(chain(run_prefix(it.ins.text), after)))
        elif after:  # nothing in between: the original's `install && build` stays one RUN
            steps[-1] = ops.step(steps[-1].text + " \\\n && " + " \\\n && ".join(s.text.strip() for s in after))
        for index in range(self.facts.install_index + 1, len(self.facts.items)):
            item = self.facts.items[index]
            ins = item.ins
            k = ins.keyword
            if k in RUNTIME_ONLY or (k == "USER" and not self._user_matters(index)):
                continue
            if k == "RUN":
                kept = [s for s in item.segments if s.kind not in (cmds.PRUNE,)]
                kept = [s for s in kept if not _drops(s, frozenset(npkg.STATIC_SERVERS))]
                if not kept or all(s.kind in (cmds.CLEAN, cmds.NEUTRAL) for s in kept):
                    continue
                if len(kept) == len(item.segments):
                    steps.append(ops.step(ins.text, ins.comments))
                else:
                    steps.append(ops.step(chain(run_prefix(ins.text), kept), ins.comments))
                continue
            steps.append(ops.step(ins.text, ins.comments))
        if add_build:
            steps.append(ops.step(f"RUN {add_build}"))
        while steps and steps[-1].text.split(None, 1)[0].upper() in ("ENV", "ARG", "WORKDIR", "USER", "LABEL"):
            steps.pop()  # settings after the last build step change nothing the runtime copies
        return steps

    def _has_build(self) -> bool:
        return bool(self.build_commands)

    def _bin_of_dependency(self, name: str) -> bool:
        return any(name == d.rsplit("/", 1)[-1] for d in self.facts.pkg.deps())


def _drops(seg: cmds.Segment, names: frozenset[str]) -> bool:
    """A global install of only the given CLIs (serve, http-server): the build does not need it."""
    return seg.kind == cmds.GLOBAL and bool(seg.globals_) and set(seg.globals_) <= names
