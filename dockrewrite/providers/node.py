"""Node.js: production dependencies in `deps`, the build in `builder`, and a runtime with only what runs.

Static front ends (vite, react-scripts, vue-cli, angular) served by `serve`, `http-server`, `vite
preview` or a dev server are built by Node and served by nginx on the port the original exposed.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field

from dockrewrite import images, shell, syslibs, tools
from dockrewrite.context import BuildContext
from dockrewrite.contract import LAST_WINS, RUNTIME_ONLY, arg_redeclarations, contract_steps
from dockrewrite.contract import env_pairs as contract_env_pairs
from dockrewrite.model import Command, DockerfileModel, Instruction
from dockrewrite.plan import BuildPlan, Options, Step
from dockrewrite.providers import node_cmds as cmds
from dockrewrite.providers import node_images as nimages
from dockrewrite.providers import node_pkg as npkg
from dockrewrite.providers import writes
from dockrewrite.providers.base import LanguageSignals, Provider, image_name
from dockrewrite.providers.common import Planner, chain, healthcheck_command, package_step, run_prefix
from dockrewrite.results import Skip

NGINX_ROOT = "/usr/share/nginx/html"
NGINX_CONF = "/etc/nginx/conf.d/default.conf"
NGINX_TEMPLATES = "/etc/nginx/templates"
NGINX_TEMPLATE = NGINX_TEMPLATES + "/default.conf.template"  # the nginx image's entrypoint renders it at start
NGINX_UID = "101:101"  # the nginx user of the official nginx images
DISTROLESS_NODE = "/nodejs/bin/node"
NONROOT = images.NONROOT
NODE_UID = "1000:1000"  # the `node` user of the official node images

# Build tools for native addons (node-gyp): they stay in the build stages.
NODE_BUILD_ONLY = syslibs.BUILD_ONLY | {"python3", "python", "python-is-python3", "py3-pip", "g++-multilib", "gyp"}
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
# Context entries a Node runtime never needs: tooling, tests, docs, secrets, lockfiles.
_NEVER_CARRY = re.compile(
    r"^(node_modules|\.git.*|\.github|\.gitlab.*|\.circleci|\.husky|\.vscode|\.idea|\.devcontainer|"
    r"Dockerfile.*|.*\.Dockerfile|Containerfile|\.dockerignore|docker-compose.*|compose\.ya?ml|"
    r"README.*|CHANGELOG.*|LICENSE.*|CONTRIBUTING.*|.*\.md|docs?|Makefile|"
    r"tests?|__tests__|__mocks__|spec|e2e|cypress|playwright|coverage|\.nyc_output|test-results|"
    r".*\.(test|spec)\.[cm]?[jt]sx?|(jest|vitest|karma|playwright|cypress)\.config\..*|"
    r"\.eslint.*|eslint\.config\..*|\.prettier.*|prettier\.config\..*|\.stylelint.*|\.editorconfig|"
    r"\.lintstagedrc.*|lint-staged\.config\..*|commitlint\.config\..*|\.commitlintrc.*|\.releaserc.*|"
    r"renovate\.json|\.travis\.yml|\.nvmrc|\.node-version|\.env.*|tsconfig.*\.json|\.babelrc.*|babel\.config\..*|"
    r"nodemon\.json|\.npmrc|\.yarnrc.*|\.yarn|\.pnpmfile\.cjs|pnpm-workspace\.yaml|package\.json|"
    r"package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|\.storybook|stories)$"
)
# Helpers a build script runs beside the compiler (path aliases, copying assets, cleaning the output).
_FILE_HELPERS = frozenset({"tsc-alias", "copyfiles", "cpy", "cpx", "shx", "rimraf", "rm", "mkdir", "cp", "del-cli"})
# Folders an app reads at run time beside its build output.
_TS_SOURCES = (".ts", ".mts", ".cts")
RUNTIME_DIRS = ("public", "views", "templates", "static", "locales", "i18n", "config", "prisma", "migrations")


@dataclass
class _Item:
    ins: Instruction
    segments: list[cmds.Segment] = field(default_factory=list)
    workdir: str = "/"
    source_copy: bool = False  # COPY/ADD of app sources from the context
    manifest_copy: bool = False  # COPY of package.json/lockfiles only


class NodeProvider(Provider):
    language = "node"
    supported = True
    signals = LanguageSignals(
        "node",
        re.compile(r"^(node|nodejs)$|^node-|^node\d"),
        re.compile(
            r"\b(npm\s+(ci|install|i|run|start)|yarn(\s+install|\s+build)?|pnpm\s+\w+|npx\s+\S+|node\s+\S+\.m?js)\b"
        ),
        ("package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "npm-shrinkwrap.json"),
    )

    def plan(self, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
        return _NodePlanner(model, ctx, options).plan()


class _NodePlanner(Planner):
    # -- analysis ---------------------------------------------------------------------------
    def plan(self) -> BuildPlan:
        stage = self.stage
        self.refuse_unsupported()
        self.args = self._global_args()
        self.resolved = shell.substitute(stage.image, self.args) or stage.image
        if image_name(self.resolved) != "node":
            raise Skip(
                f"the base image {stage.image} is not an official node image, so the slim/alpine/distroless "
                "image with the same Node is not known",
                stage.from_.line,
            )
        # No CMD: the node images (full, slim, alpine) all have CMD ["node"], so the runtime inherits the same one.
        self.no_command = stage.last("CMD") is None and stage.last("ENTRYPOINT") is None
        self.major = nimages.major(self.resolved)
        self.alpine = nimages.is_alpine(self.resolved)
        self.pkg = npkg.read_package(self.ctx)
        if self.pkg.error:
            raise Skip(self.pkg.error, self._line_naming("package.json") or stage.from_.line)
        if self.ctx.known and not self.pkg.found:
            raise Skip(
                "no readable package.json in the build context (is the context another folder? pass --context)",
                stage.from_.line,
            )
        reason = npkg.workspace_reason(self.ctx, self.pkg)
        if reason:
            raise Skip(reason, self._line_naming("package.json") or stage.from_.line)
        other = next((n for n in npkg.OTHER_LOCKFILES if self.ctx.exists(n)), None)
        if other:
            raise Skip(f"{other}: Bun projects are not supported yet", stage.from_.line)

        self._node_version_notes()
        self.items = self._walk()
        self.dev_at_runtime: list[str] = []
        self.dev_programs: list[str] = []  # dev-dependency programs the start command runs
        self.runs_pnpm = False  # the runtime's command still runs pnpm (`pnpm start` of a script that runs pnpm)
        self._find_install()
        self.start = self._start()
        self.build_commands = self._build_commands()
        self.outputs = self._outputs()
        if self._compile_at_start():
            self.build_commands = self._build_commands()
            self.outputs = self._outputs()
        self.native = self._native()
        mode = self._mode()
        if self.no_command:
            self._refuse_outside_command()
            self.warnings.append(
                'no CMD or ENTRYPOINT: the runtime inherits the node image\'s CMD ["node"] as the original did; '
                "a command given from outside (compose, docker run) gets production dependencies only"
            )
        if mode == "static":
            return self._static_plan()
        return self._server_plan(mode)

    def _node_version_notes(self) -> None:
        """.nvmrc, .node-version and engines.node against the base image's major. The runtime image is always the
        builder's Node (slim/alpine of the same tag, distroless of the same major), so the app keeps running on
        the Node the original ran; when that is not the Node the project asks for, say so loudly."""
        image = self.stage.image
        for where, spec in npkg.wanted_node(self.ctx, self.pkg):
            if self.major is None:
                self.warnings.append(
                    f"{where} asks for Node `{spec}`, and {image} does not say which Node it has: the builder and the "
                    "runtime run whatever that tag is when they are built, the same floating tag for both; pin a major"
                )
                continue
            if npkg.node_major_allowed(self.major, spec) is False:
                self.warnings.append(
                    f"NODE VERSION MISMATCH: {where} asks for Node `{spec}`, but {image} has Node {self.major}; the "
                    f"builder and the runtime both run Node {self.major}, as the original did (not what {where} "
                    f"asks for): change the FROM tag to a Node that satisfies `{spec}`"
                )

    def _refuse_outside_command(self) -> None:
        """With no CMD the command comes from compose or docker run; a global CLI the original installs
        (`ng`, `nodemon`) is most likely what it runs, and the runtime only carries CLIs its own command uses."""
        for it in self.items:
            for seg in it.segments:
                tools_ = [g for g in seg.globals_ if g not in ("npm", "yarn", "pnpm", "corepack")]
                if seg.kind == cmds.GLOBAL and tools_:
                    raise Skip(
                        f"no CMD or ENTRYPOINT, and `{seg.text.strip()}` installs {', '.join(tools_)}, which the "
                        "command given from outside most likely runs; the runtime would not have it",
                        it.ins.line,
                    )

    def _global_args(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for ins in self.model.global_args:
            for item in ins.args:
                key, _, value = item.partition("=")
                values[key] = value.strip("\"'")
        return values

    def _line_naming(self, name: str) -> int | None:
        """The COPY/ADD that brings a context file in, by name, pattern or the whole context."""
        for ins in self.stage.find("COPY", "ADD"):
            if ins.flag("from") is None and any(
                s.rstrip("/") in (".", "") or fnmatch.fnmatch(name, s.lstrip("./")) for s in ins.args[:-1]
            ):
                return ins.line
        return None

    def _walk(self) -> list[_Item]:
        items: list[_Item] = []
        workdir = "/"
        env = dict(self.args)
        for ins in self.stage.instructions:
            item = _Item(ins, workdir=workdir)
            k = ins.keyword
            if k == "WORKDIR":
                target = shell.substitute(ins.args[0] if ins.args else "/", env)
                if target is None:
                    raise Skip(f"WORKDIR {ins.args[0]} depends on a build argument without a default", ins.line)
                workdir = shell.resolve(workdir, target.strip("\"'"))
                item.workdir = workdir
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
                if sources and all(_is_manifest(s) for s in sources):
                    item.manifest_copy = True
                else:
                    item.source_copy = True
            elif k == "RUN":
                item.segments = cmds.classify(ins.shell)
                if ins.heredocs and any(s.kind in (cmds.INSTALL, cmds.BUILD, cmds.FS) for s in item.segments):
                    # FS steps are replayed in the runtime one per line, and a heredoc script's lines (comments,
                    # continuations) cannot be lifted out of it: the replayed RUN swallowed the next instruction
                    raise Skip(
                        "a heredoc RUN that installs, builds or sets up files cannot be split into stages", ins.line
                    )
            items.append(item)
        self.final_workdir = workdir
        return items

    def _find_install(self) -> None:
        found: tuple[int, cmds.Segment] | None = None
        for index, it in enumerate(self.items):
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
            line = next((it.ins.line for it in self.items if it.source_copy), self.stage.from_.line)
            raise Skip("no npm, yarn or pnpm install was found: nothing to split into a dependency stage", line)
        self.install_index, self.install = found
        it = self.items[self.install_index]
        if it.ins.flag("mount") is not None and "type=bind" in (it.ins.flag("mount") or ""):
            raise Skip("the install reads its manifests through a bind mount; not supported yet", it.ins.line)
        if it.ins.json:
            raise Skip("exec-form RUN installs are not supported in Node rewrites yet", it.ins.line)
        before = it.segments[: it.segments.index(self.install)]
        if any(s.words[:1] == ["cd"] for s in before):
            raise Skip("the install runs after `cd` in the same RUN; use WORKDIR for the app folder", it.ins.line)
        if re.search(r"\|\||(?<!\|)\|(?!\|)|;", it.ins.shell) and len(it.segments) > 1:
            raise Skip(
                "this RUN mixes the install with other steps through `;`, `|` or `||`; split it into RUN lines",
                it.ins.line,
            )
        self.app_dir = it.workdir
        words = self.install.words
        frozen = words[1:2] == ["ci"] or "--frozen-lockfile" in words or "--immutable" in words
        self.manager = npkg.manager_for(self.ctx, self.install.manager or "npm", self.major, frozen)
        manager = self.manager
        if self.ctx.known and not manager.lockfile:
            wrong = npkg.lockfiles(self.ctx)
            words = self.install.words
            if manager.name == "npm" and len(words) > 1 and words[1] == "ci":
                raise Skip("`npm ci` needs package-lock.json, which the build context does not have", it.ins.line)
            if "--frozen-lockfile" in words or "--immutable" in words:
                raise Skip(f"`{' '.join(words[:3])}` needs a lockfile the build context does not have", it.ins.line)
            also = f" ({', '.join(wrong)} belongs to another package manager)" if wrong else ""
            self.warnings.append(
                f"no lockfile for {manager.name}{also}: `{manager.install(False, [])}` resolves versions at "
                "build time, so builds are not reproducible; commit a lockfile"
            )
        if manager.lockfile and not frozen and self.ctx.known:
            self._unless_lock_agrees(it)
            manager = self.manager
        if manager.strict and not frozen:
            self.warnings.append(
                f"`{' '.join(words[:2])}` becomes `{manager.install(False, [])}`: installs follow "
                f"{manager.lockfile} exactly, and the build fails when it is out of date with package.json "
                "instead of quietly resolving new versions"
            )
        if manager.lockfile and self.ctx.known and not self._lockfile_reaches_image():
            self.warnings.append(
                f"{manager.lockfile} is now copied and installed from (`{manager.install(False, [])}`); "
                f"the original never copied it (line {it.ins.line})"
            )
        if manager.berry:
            rc = self.ctx.read_text(".yarnrc.yml") or ""
            if not re.search(r"^nodeLinker:\s*['\"]?node-modules", rc, re.M):
                raise Skip(
                    "Yarn Plug'n'Play keeps dependencies in .yarn/cache and .pnp.cjs, not node_modules; set "
                    "`nodeLinker: node-modules` in .yarnrc.yml",
                    it.ins.line,
                )

    def _unless_lock_agrees(self, it: _Item) -> None:
        """`npm ci` and the frozen yarn/pnpm installs fail when package.json declares a dependency the lockfile
        does not have; the original's resolving install then stays (with the lockfile only if it copied it)."""
        manager = self.manager
        problem = npkg.lock_disagreement(self.ctx, self.pkg, manager.lockfile or "")
        if problem is None and manager.name == "pnpm":
            major = npkg.pnpm_major(self.pkg, self._pnpm_installs())
            problem = npkg.pnpm_lock_format_problem(self.ctx.read_text(manager.lockfile or "") or "", major)
        if problem is None:
            return
        strict = manager.install(False, [])
        reaches = self._lockfile_reaches_image()
        self.manager = dataclasses.replace(manager, frozen=False, lockfile=manager.lockfile if reaches else None)
        original = " ".join(self.install.words[:2])
        self.warnings.append(
            f"`{original}` (line {it.ins.line}) stays a resolving `{self.manager.install(False, [])}`, not `{strict}`: "
            f"{problem}, so `{strict}` would fail; run `{original}` locally and commit the updated lockfile to make "
            "the builds reproducible"
        )

    def _lockfile_reaches_image(self) -> bool:
        lock = self.manager.lockfile
        for it in self.items[: self.install_index + 1]:
            if it.ins.keyword in ("COPY", "ADD") and (it.source_copy or it.manifest_copy):
                for s in it.ins.args[:-1]:
                    s = s.rstrip("/")
                    if s in (".", "./", "") or fnmatch.fnmatch(lock, s.lstrip("./").lstrip("/")):
                        return True
        return False

    # -- the start command --------------------------------------------------------------------
    def _start(self) -> cmds.Start:
        entry, cmd = self.stage.last("ENTRYPOINT"), self.stage.last("CMD")
        self.entry_ins, self.cmd_ins = entry, cmd
        self.start_build: str | None = None  # set by _move_start_build; the shell-form returns below leave it unset
        e = Command.of(entry) if entry is not None and entry.args else None
        c = Command.of(cmd) if cmd is not None and cmd.args else None
        argv: list[str] | None
        if e is None:
            argv = list(c.as_simple_argv() or ()) if c else []
            if c and c.as_simple_argv() is None:
                return cmds.Start("shell", ["sh", "-c", c.shell])
        elif not e.exec_form:
            return cmds.Start("shell", ["sh", "-c", e.shell])
        else:
            rest = list(c.argv) if c and c.exec_form else (list(c.as_simple_argv() or []) if c else [])
            argv = list(e.argv) + rest
            if argv and posixpath.basename(argv[0]) == "docker-entrypoint.sh":
                argv = argv[1:]
                if argv and (argv[0].startswith("-") or argv[0].endswith((".js", ".mjs", ".cjs"))):
                    argv = ["node", *argv]
        start = cmds.start_of(argv, self.pkg)
        if start.kind == "script" and start.resolved is None and start.script:
            self._move_start_build(start)
        return start

    def _move_start_build(self, start: cmds.Start) -> None:
        """`"start": "tsc && node ."`: the compile runs once in the builder and the runtime starts node on its
        output, instead of compiling at every start with the compiler, sources and tsconfig in the runtime."""
        wrapped = self.entry_ins is None or _is_wrapper(self.entry_ins)
        split = cmds.split_build_prefix(self.pkg, start.script or "")
        if split is None or self.cmd_ins is None or not wrapped:
            return
        builds, node_argv = split
        runs: list[str] = []
        moved: list[list[str]] = []
        for words in builds:
            target = npkg.script_target(words, self.pkg)
            expanded = [npkg.unwrap(w) for w in npkg.script_commands(self.pkg, target)] if target else [words]
            if not expanded or not all(self._compiles(w) or w[:1] and w[0] in _FILE_HELPERS for w in expanded):
                return  # migrations, seeds …: they belong to the start, not to the image build
            if not any(self._compiles(w) for w in expanded):
                return
            runs.append(self.manager.run(target) if target else self._exec(npkg.unwrap(words)))
            moved += expanded
        start.resolved = node_argv + npkg.script_args(start.argv)
        start.build = moved
        self.start_build = " \\\n && ".join(runs)
        self.warnings.append(
            f"the start script `{self.pkg.scripts[start.script or '']}` compiles before it starts node: the builder "
            f"runs `{' && '.join(runs)}` once, and the runtime starts `{' '.join(start.resolved)}` on the output"
        )

    def _compile_at_start(self) -> bool:
        """`nest start`, `ts-node src/index.ts`, `tsx src/index.ts` compile TypeScript at every start, with the dev
        dependencies and sources in the image. When the project says what the compiled program is (a Nest build,
        a tsconfig with outDir), the builder compiles once and the runtime starts node on the output, like `go run`.
        Watch modes and what cannot be told are left to _mode (a skip, or the dev dependencies kept)."""
        start = self.start
        wrapped = self.entry_ins is None or _is_wrapper(self.entry_ins)
        if start.build or self.cmd_ins is None or not wrapped:
            return False
        programs = self._start_programs()
        if len(programs) != 1 or not programs[0]:
            return False
        words = programs[0]
        if words[0] == "nodemon":
            return self._without_nodemon(words)
        if words[0] == "nest" and words[1:2] == ["start"]:
            found = self._nest_compiled(words)
        elif words[0] in ("ts-node", "tsx"):
            found = self._ts_compiled(words)
        else:
            return False
        if found is None:
            return False
        argv, build, run = found
        start.compiled = argv
        start.build = [build] if run else []
        if run:
            self.start_build = run
        how = f"the builder runs `{run}` once" if run else "the builder already compiles it"
        self.warnings.append(
            f"`{' '.join(start.argv)}` (line {self._command_line()}) compiled TypeScript at every start: {how}, and "
            f"the runtime runs `{' '.join(argv)}` on the output, without the compiler or the dev dependencies"
        )
        return True

    def _without_nodemon(self, words: list[str]) -> bool:
        """`nodemon server.js`: nodemon restarts node when files change, and an image's files do not; with no
        nodemon config (exec, env, execMap) and only watch options, the runtime runs `node server.js` itself."""
        if self.ctx.exists("nodemon.json") or "nodemonConfig" in self.pkg.data:
            return False
        i = 1
        while i < len(words) and words[i].startswith("-"):
            if words[i] in (
                "-w",
                "--watch",
                "-e",
                "--ext",
                "-i",
                "--ignore",
                "-d",
                "--delay",
                "-P",
                "--polling-interval",
            ):
                i += 2
            elif words[i] in ("-L", "--legacy-watch", "-q", "--quiet", "-V", "--verbose", "--no-colors", "-C"):
                i += 1
            else:
                return False  # --exec, node options nodemon passes on (--inspect …)
        if i >= len(words) or not words[i].endswith((".js", ".cjs", ".mjs")):
            return False
        argv = ["node", *words[i:]]
        if words[i + 1 :] and words[i + 1] == "--":
            argv = ["node", words[i], *words[i + 2 :]]
        self.start.compiled = argv
        self.warnings.append(
            f"`{' '.join(self.start.argv)}` (line {self._command_line()}) restarts node when files change, which "
            f"files in an image do not: the runtime runs `{' '.join(argv)}` directly, and nodemon stays out"
        )
        return True

    def _nest_compiled(self, words: list[str]) -> tuple[list[str], list[str], str | None] | None:
        """`nest start` (no watch or debug flags) after `nest build`, or with a `start:prod` script beside a
        `nest build` build script: node on what nest builds (`start:prod` says which file, else nest-cli.json)."""
        if words[2:]:
            return None  # --watch, --debug, --exec, a project or app arguments: not the production start
        build = ["nest", "build"]
        built = any(w[:2] == build for _, w in self.build_commands)
        run = None
        if not built:
            scripted = [npkg.unwrap(w) for w in npkg.script_commands(self.pkg, "build")]
            if "start:prod" not in self.pkg.scripts or not any(w[:2] == build for w in scripted):
                return None
            run = self.manager.run("build")
        prod = cmds.resolve_script(self.pkg, "start:prod", []) if "start:prod" in self.pkg.scripts else None
        argv = prod if prod and cmds.node_entry(prod) else ["node", npkg.nest_entry(self.ctx)]
        return argv, build, run

    def _ts_compiled(self, words: list[str]) -> tuple[list[str], list[str], str | None] | None:
        """`ts-node [-T] [-P tsconfig.json] src/index.ts args`, `tsx src/index.ts`: tsc with the project's tsconfig
        writes <outDir>/index.js; the runtime runs node on it with the same arguments."""
        tool = words[0]
        project = None
        i = 1
        while i < len(words) and words[i].startswith("-"):
            flag = words[i]
            if flag in ("-P", "--project", "--tsconfig") and i + 1 < len(words):
                project = words[i + 1]
                i += 2
                continue
            if flag not in ("-T", "--transpile-only", "--transpileOnly", "--files", "--swc", "--esm"):
                return None  # -r preloads, --watch, compiler options given on the command line
            i += 1
        if i >= len(words) or not words[i].endswith(npkg._TS_INPUTS) or not self.pkg.has("typescript"):
            return None
        if tool == "tsx" and self.pkg.data.get("type") == "module":
            return None  # tsx resolves extensionless ESM imports; node does not run tsc's output of them
        entry = shell.resolve(self.final_workdir, words[i])
        if not entry.startswith(self.app_dir.rstrip("/") + "/"):
            return None
        found = npkg.tsc_entry(self.ctx, project, entry[len(self.app_dir.rstrip("/")) + 1 :])
        if found is None:
            return None
        js, out, config = found
        build = ["tsc"] + (["-p", config] if config != "tsconfig.json" else [])
        built = any(npkg.build_outputs(self.ctx, self.pkg, w)[:1] == [out] for _, w in self.build_commands)
        if not built and (tool == "tsx" or "-T" in words or "--transpile-only" in words or "--swc" in words):
            self.warnings.append(
                f"{tool} ran without type-checking; tsc in the builder type-checks, so a type error now fails the build"
            )
        return ["node", js, *words[i + 1 :]], build, None if built else self._exec(build)

    def _compiles(self, words: list[str]) -> bool:
        """A compiler whose output the runtime can carry (tsc, babel -d, vite build …)."""
        return bool(npkg.build_outputs(self.ctx, self.pkg, words)) or npkg.tsc_in_place(self.ctx, words) is not None

    def _exec(self, words: list[str]) -> str:
        """A project bin run in the builder by the project's package manager (node_modules/.bin is not on PATH)."""
        text = " ".join(shlex.quote(w) for w in words)
        script = next((name for name, body in self.pkg.scripts.items() if body.strip() == text), None)
        if script:
            return self.manager.run(script)
        runner = {"npm": "npx", "yarn": "yarn run", "pnpm": "pnpm exec"}[self.manager.name]
        return f"{runner} {text}"

    def _start_programs(self) -> list[list[str]]:
        start = self.start
        if start.compiled:
            return [start.compiled]  # the compile moved to the builder
        if start.kind == "script":
            if start.build:
                return [start.resolved or []]  # the compile moved to the builder
            return [npkg.unwrap(w) for w in npkg.script_commands(self.pkg, start.script)] or (
                [start.resolved] if start.resolved else []
            )
        if start.kind == "shell":
            return [npkg.unwrap(shell.env_prefix(s.words())[1]) for s in shell.segments(start.argv[2])]
        if not start.argv:
            return []
        words = npkg.unwrap(start.argv[1:] if cmds.package_bin(start.argv, self.pkg) else start.argv)
        inner = cmds.supervised(words)  # pm2-runtime npm -- start: the script is what runs
        target = npkg.script_target(inner, self.pkg) if inner else None
        if target is not None:
            return [words] + [npkg.unwrap(w) for w in npkg.script_commands(self.pkg, target)]
        return [words]

    def _build_commands(self) -> list[tuple[_Item, list[str]]]:
        out: list[tuple[_Item, list[str]]] = []
        for index, it in enumerate(self.items):
            for seg in it.segments:
                if seg.kind != cmds.BUILD or index < self.install_index:
                    continue
                if index == self.install_index and it.segments.index(seg) < it.segments.index(self.install):
                    continue
                target = npkg.script_target(seg.words, self.pkg)
                if target is not None:
                    expanded = npkg.script_commands(self.pkg, target)
                    out += [(it, npkg.unwrap(w)) for w in expanded] or [(it, seg.words)]
                else:
                    out.append((it, npkg.unwrap(seg.words)))
        out += [(self.items[-1], words) for words in self.start.build]
        return out

    def _outputs(self) -> list[str]:
        outs: list[str] = []
        for _, words in self.build_commands:
            for out in npkg.build_outputs(self.ctx, self.pkg, words):
                if out not in outs and out not in (".", ""):
                    outs.append(out)
        return outs

    def _native(self) -> str | None:
        """Why dependencies may hold compiled code tied to the builder's C library, or None."""
        for it in self.items:
            for seg in it.segments:
                if seg.kind == cmds.SYSTEM:
                    _, names = syslibs.installed_packages(seg.text)
                    tools_ = [n for n in names if n in ("python3", "python", "make", "g++", "gcc", "build-base")]
                    if tools_:
                        return f"{' '.join(tools_)} installed for node-gyp (line {it.ins.line})"
        found = sorted(n for n in self.pkg.deps() if n in npkg.NATIVE_PACKAGES)
        if found:
            return f"{', '.join(found)} in dependencies"
        return None

    def _mode(self) -> str:
        programs = self._start_programs()
        first = [p[0] if p else "" for p in programs]
        self.serve_words: list[str] | None = None
        for words in programs:
            if _serves_static(words):
                self.serve_words = words
            if words[:1] in (["next"], ["nuxt"], ["nuxi"]) and words[1:2] == ["dev"]:
                # checked before the Next.js planning: a dev image never runs `next build`
                raise Skip(
                    f"`{' '.join(words[:2])}` is a development server; the image never builds the app for "
                    "production (start it with `next start` after `next build`)",
                    self._command_line(),
                )
        if self.pkg.has("next") and (
            "next" in first or any(w[:2] == ["next", "build"] for _, w in self.build_commands)
        ):
            self._refuse_compile_at_start(programs)
            return "next"
        if self.serve_words is not None:
            if self.pkg.has("@sveltejs/kit") or self.pkg.has("nuxt") or self.pkg.has("@remix-run/serve"):
                raise Skip(
                    "a SvelteKit/Nuxt/Remix app served by its dev or preview server: its build is a Node server, "
                    "not static files; start the built server instead",
                    self._command_line(),
                )
            return "static"  # a build in the start command is fine: the builder runs the build for nginx
        self._refuse_compile_at_start(programs)
        for words in programs:
            if not words:
                continue
            tool = words[0]
            # ts-node, tsx, babel-node and nodemon that could not be resolved run with the dev dependencies kept
            # (_dev_at_runtime); watch modes and dev servers, and `nest start` with no build, are no production start
            watch = tool in ("ts-node-dev", "webpack-dev-server") or words[:2] == ["tsx", "watch"]
            if watch or (tool == "nest" and words[1:2] == ["start"]):
                raise Skip(
                    f"`{' '.join(words[:3])}` compiles TypeScript when the container starts, which needs the dev "
                    "dependencies and sources in the image; start the compiled output (e.g. `node dist/main`) "
                    "instead",
                    self._command_line(),
                )
        return "server"

    def _refuse_compile_at_start(self, programs: list[list[str]]) -> None:
        """A compile the start command runs and the rewrite could not move to the builder (`tsc; node x`,
        `prisma migrate deploy && tsc && node x`): the runtime has neither the compiler nor its config."""
        for words in programs:
            if words[:1] == ["tsc"] or words and self._compiles(words):
                raise Skip(
                    f"`{' '.join(words[:3])}` in the start command compiles when the container starts, which needs "
                    "the compiler, its config and the sources in the runtime; run it in a build step and start the "
                    "output with node",
                    self._command_line(),
                )

    def _command_line(self) -> int:
        ins = self.cmd_ins or self.entry_ins
        return ins.line if ins is not None else self.stage.from_.line

    # -- stages -------------------------------------------------------------------------------
    def _from(self, name: str, image: str | None = None) -> str:
        platform = f"--platform={self.stage.platform} " if self.stage.platform else ""
        return f"FROM {platform}{image or self.stage.image} AS {name}"

    def _lifecycle(self) -> list[str]:
        return [s for s in ("preinstall", "install", "postinstall", "prepare") if s in self.pkg.scripts]

    def _reorder(self) -> bool:
        """Whether the builder installs from the manifests before the sources are copied (cache-friendly)."""
        return not any(it.source_copy for it in self.items[: self.install_index]) or not self._lifecycle()

    def _manifest_steps(self) -> list[Step]:
        """COPY lines for what the install reads: the original's manifest COPYs when they cover it."""
        originals = [it for it in self.items[: self.install_index] if it.manifest_copy]
        needed = self._manifest_files()
        covered = set()
        for it in originals:
            for s in it.ins.args[:-1]:
                covered |= {n for n in needed if fnmatch.fnmatch(n, s.lstrip("./").rstrip("/") or ".")}
        if originals and (not self.ctx.known or covered >= set(needed)):
            return [Step(it.ins.text, it.ins.comments) for it in originals]
        source = next((it for it in self.items[: self.install_index] if it.source_copy), None)
        ref = originals[0] if originals else source
        flags = "".join(f"{f} " for f in ref.ins.flags) if ref else ""
        if not self.ctx.known:
            return [Step(f"COPY {flags}package*.json ./")]
        files = [n for n in needed if not self.ctx.is_dir(n)]
        dirs = [n for n in needed if self.ctx.is_dir(n)]
        dest = "./" if self.app_dir == (ref.workdir if ref else self.app_dir) else self.app_dir + "/"
        steps = [Step(cmds.copy_line(flags, files, dest, self.model.escape))]
        steps += [Step(cmds.copy_line(flags, [d], dest + d, self.model.escape)) for d in dirs]
        if originals:
            self.warnings.append(
                f"the install now also gets {', '.join(n for n in needed if n not in covered)} "
                f"(line {originals[0].ins.line} copied only part of what it reads)"
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
        seg = self.install
        env = "".join(f"{k}={v} " for k, v in seg.env.items())
        command = env + self.manager.install(production, seg.extra)
        if production and self._skip_root_scripts():
            command += " --ignore-scripts"
            if self.native:
                command += " \\\n && " + ("pnpm rebuild" if self.manager.name == "pnpm" else "npm rebuild")
        if production and not self.pkg.deps() and not self.pkg.data.get("optionalDependencies"):
            # nothing to install makes no node_modules folder, and the runtime's COPY of it would fail
            command = "mkdir -p node_modules && " + command
        return run_prefix(self.items[self.install_index].ins.text) + command

    def _skip_root_scripts(self) -> bool:
        """A prepare/postinstall script that calls a dev tool (husky…) fails when dev dependencies are left out."""
        dev = self.pkg.deps(dev=True)
        for script in self._lifecycle():
            for words in npkg.script_commands(self.pkg, script):
                tool = npkg.unwrap(words)[0] if words else ""
                package = tool if tool in dev else npkg.BIN_PACKAGES.get(tool)
                if tool and package in dev:
                    if not hasattr(self, "_root_scripts_warned"):
                        self._root_scripts_warned = True
                        self.warnings.append(
                            f"the production install skips the package's own {script} script "
                            f"(`{self.pkg.scripts[script]}` needs the dev dependency {package})"
                            + ("; `npm rebuild` then builds the native dependencies" if self.native else "")
                        )
                    return True
        return False

    def _preamble(self, drop_globals: frozenset[str] = frozenset()) -> list[Step]:
        """What runs before the install: ARG, ENV, WORKDIR, USER, system and global tool installs."""
        steps: list[Step] = []
        items = self.items[: self.install_index + 1]
        for index, it in enumerate(items):
            ins = it.ins
            k = ins.keyword
            if k in RUNTIME_ONLY or (k == "USER" and not self._user_matters(index)):
                continue
            if it.source_copy or it.manifest_copy:
                continue
            if k == "RUN":
                segments = it.segments if index < self.install_index else self._before_install(it)
                kept = [s for s in segments if not _drops(s, drop_globals)]
                if not kept or all(s.kind in (cmds.NEUTRAL, cmds.CLEAN) for s in kept):
                    continue
                if len(kept) == len(it.segments):
                    steps.append(Step(ins.text, ins.comments))
                else:
                    steps.append(Step(chain(run_prefix(ins.text), kept), ins.comments))
                continue
            if k in ("COPY", "ADD"):
                steps.append(Step(ins.text, ins.comments))  # COPY --from=image: tools for the build
                continue
            steps.append(self._build_user(ins) if k == "USER" else Step(ins.text, ins.comments))
        return steps

    @staticmethod
    def _build_user(ins: Instruction) -> Step:
        """The original's USER, replayed where the install runs; hadolint already flags it in the original."""
        name = (ins.args[0] if ins.args else "").split(":")[0]
        extra = () if name.isdigit() or "# hadolint ignore=DL3066" in ins.comments else ("# hadolint ignore=DL3066",)
        return Step(ins.text, ins.comments + extra)

    def _before_install(self, it: _Item) -> list[cmds.Segment]:
        segs = it.segments[: it.segments.index(self.install)]
        return [s for s in segs if s.kind != cmds.NEUTRAL]

    def _user_matters(self, index: int) -> bool:
        return any(it.ins.keyword in ("RUN", "COPY", "ADD") for it in self.items[index + 1 :])

    def _deps_stage(self, name: str = "deps") -> list[Step]:
        steps = [Step(self._from(name), self.stage.from_.comments)]
        steps += self._preamble(self._serve_globals())
        steps += self._install_inputs()
        if self.dev_at_runtime:
            verb = "runs or loads" if self.dev_programs else "loads"
            comment = f"# All dependencies: the app {verb} {', '.join(self.dev_at_runtime)} from devDependencies"
            steps.append(Step(self._install_text(False), (comment,)))
        else:
            steps.append(Step(self._install_text(True), ("# Production dependencies only",)))
        return steps

    def _dev_at_runtime(self) -> list[str]:
        """devDependencies the runtime's own code loads (require/import, `node -r`, the Babel config it runs
        with). The original installed them, so the runtime must too, or the app fails at start."""
        if self.install.production or self._install_env().get("NODE_ENV") == "production":
            return []  # the original left dev dependencies out as well
        dev = self.pkg.deps(dev=True)
        prod = set(self.pkg.deps()) | set(self.pkg.data.get("optionalDependencies") or {})
        loaded = dict(self._loaded())
        for words in self._start_programs():
            for name in filter(None, map(npkg.package_of, cmds.node_preloads(words))):
                loaded.setdefault(name, "the start command")
        ran: dict[str, str] = {}
        start = self.start
        wrappers: list[list[str]] = []  # `cross-env A=1 node x`: the script still runs through cross-env
        if start.kind == "script" and not (start.resolved or start.compiled or start.build):
            for seg in shell.segments(self.pkg.scripts.get(start.script or "", "")):
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
            self.warnings.append(
                f"the start command runs {', '.join(f'`{t}`' for t in ran.values())}, which package.json lists under "
                f"devDependencies only ({', '.join(ran)}): the runtime installs the dev dependencies too, as the "
                "original did"
                + (
                    ""
                    if "tsconfig.json" not in self._start_configs()
                    else ", and carries the sources and tsconfig.json"
                )
            )
        babel = [c for c in self._start_configs() if "babel" in c]
        for name in npkg.babel_packages(self.ctx, babel):
            loaded.setdefault(name, babel[0])
        needed = {name: where for name, where in loaded.items() if name in dev and name not in prod}
        if needed:
            where = sorted(set(needed.values()))
            self.warnings.append(
                f"{', '.join(where)} load{'s' if len(where) == 1 else ''} {', '.join(sorted(needed))}, which "
                "package.json lists under devDependencies only: the runtime installs the dev dependencies too, as "
                "the original did (move them to dependencies to leave the dev tools out)"
            )
        return sorted(set(needed) | set(ran))

    def _install_env(self) -> dict[str, str]:
        """ENV and ARG values in force where the original installs (NODE_ENV=production makes it skip dev)."""
        env: dict[str, str] = {}
        for it in self.items[: self.install_index]:
            if it.ins.keyword == "ENV":
                env.update((k, v.strip("\"'")) for k, v in contract_env_pairs(it.ins))
        env.update(self.install.env)
        return env

    def _install_inputs(self) -> list[Step]:
        """What the install reads: the manifests, or the original's copies when install scripts need sources."""
        if self._reorder():
            return self._manifest_steps()
        return [
            Step(it.ins.text, it.ins.comments)
            for it in self.items[: self.install_index]
            if it.source_copy or it.manifest_copy
        ]

    @staticmethod
    def _serve_globals() -> frozenset[str]:
        """Global CLIs that only serve or supervise the app: the production install does not need them."""
        return frozenset(npkg.STATIC_SERVERS) | {"pm2"}

    def _builder_stage(self, add_build: str | None = None) -> list[Step]:
        """All dependencies, the sources and the original's build steps, in the original's order."""
        comments = ("# Build with all dependencies",)
        steps = [Step(self._from("builder"), comments)]
        steps += self._preamble(frozenset(npkg.STATIC_SERVERS))
        steps += self._install_inputs()
        steps.append(Step(self._install_text(False)))
        sources = [Step(it.ins.text, it.ins.comments) for it in self.items[: self.install_index] if it.source_copy]
        if self._reorder():
            steps += sources
        it = self.items[self.install_index]
        after = it.segments[it.segments.index(self.install) + 1 :]
        after = [s for s in after if s.kind not in (cmds.PRUNE, cmds.CLEAN)]
        if after and (sources and self._reorder()):
            steps.append(Step(chain(run_prefix(it.ins.text), after)))
        elif after:  # nothing in between: the original's `install && build` stays one RUN
            steps[-1] = Step(steps[-1].text + " \\\n && " + " \\\n && ".join(s.text.strip() for s in after))
        for index in range(self.install_index + 1, len(self.items)):
            item = self.items[index]
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
                    steps.append(Step(ins.text, ins.comments))
                else:
                    steps.append(Step(chain(run_prefix(ins.text), kept), ins.comments))
                continue
            steps.append(Step(ins.text, ins.comments))
        if add_build:
            steps.append(Step(f"RUN {add_build}"))
        while steps and steps[-1].text.split(None, 1)[0].upper() in ("ENV", "ARG", "WORKDIR", "USER", "LABEL"):
            steps.pop()  # settings after the last build step change nothing the runtime copies
        return steps

    def _has_build(self) -> bool:
        return bool(self.build_commands)

    # -- static sites -------------------------------------------------------------------------
    def _static_plan(self) -> BuildPlan:
        requested = self.options.runtime
        if requested not in ("auto",):
            raise Skip(
                f"a static front end is served by nginx; --runtime {requested} does not apply (use auto)",
                self._command_line(),
            )
        serve = self.serve_words or []
        add_build = None
        outputs = list(self.outputs)
        if not self._has_build():
            if "build" not in self.pkg.scripts:
                raise Skip(
                    f"`{' '.join(serve[:2])}` serves a front end the image never builds, and package.json has no "
                    "build script",
                    self._command_line(),
                )
            add_build = self.manager.run("build")
            for words in npkg.script_commands(self.pkg, "build"):
                outputs += [o for o in npkg.build_outputs(self.ctx, self.pkg, npkg.unwrap(words)) if o not in outputs]
            self.warnings.append(
                f"the original served `{' '.join(serve[:2])}` without building; the builder runs `{add_build}` "
                "and nginx serves the result"
            )
        served = _served_dir(serve)
        if served:
            site = served
        elif len(outputs) == 1:
            site = outputs[0]
        else:
            raise Skip(
                "cannot tell which folder holds the built site"
                + (f" (the build writes {', '.join(outputs)})" if outputs else " (unknown build tool)"),
                self._command_line(),
            )
        vite_config = "".join(self.ctx.read_text(n) or "" for n in npkg.VITE_CONFIGS) if serve[:1] == ["vite"] else ""
        honours = _honours_port(serve, vite_config)
        env_port = self._env().get("PORT", "")
        port = env_port if honours and env_port.isdigit() else self._static_port(serve)
        builder = self._builder_stage(add_build)
        site_path = shell.resolve(self.app_dir, site)
        image = nimages.NGINX
        original_user = self._original_user()
        if original_user and int(port) < 1024:
            raise Skip(
                f"nginx under USER {original_user} cannot listen on port {port} (below 1024)", self._command_line()
            )
        setup = [self._nginx_setup(port, honours)]
        if honours and "PORT" not in self._env():
            setup.append(Step(f"ENV PORT={port}", ("# The port nginx listens on unless the platform sets PORT",)))
        self.warnings.append(
            (
                f"`{' '.join(serve[:3])}` listened on $PORT (default {port}): nginx does too, through the nginx "
                f"image's template mechanism (/etc/nginx/templates, rendered with envsubst at start; ENV PORT={port})"
                if honours
                else f"nginx listens on port {port}, as `{' '.join(serve[:3])}` did, whatever PORT is set to"
            )
            + "; nginx can run as any non-root user too (`docker run --user`, platforms that run containers "
            "unprivileged): its pid and temp files are under /tmp"
        )
        packages = self._runtime_tools("alpine", nginx=True)
        if packages:
            setup.insert(0, self._package_step(packages, "alpine"))
        # nginx starts as root and serves as user nginx; an original USER becomes nginx's own uid
        replace: dict[str, str | None] = {"USER": f"USER {NGINX_UID}" if original_user else None}
        if original_user:
            self.warnings.append(
                f"USER {original_user} becomes {NGINX_UID}, the nginx image's own unprivileged user, which can read "
                "the site and write nginx's files under /tmp"
            )
        nginx_argv = ["nginx", "-g", "daemon off;"]
        if self.entry_ins is not None and self.cmd_ins is not None:
            replace["ENTRYPOINT"] = 'ENTRYPOINT ["/docker-entrypoint.sh"]'
            replace["CMD"] = "CMD " + json.dumps(nginx_argv)
        elif self.entry_ins is not None:
            replace["ENTRYPOINT"] = "ENTRYPOINT " + json.dumps(["/docker-entrypoint.sh", *nginx_argv])
        else:
            replace["CMD"] = "CMD " + json.dumps(nginx_argv)
        hc = self.stage.last("HEALTHCHECK")
        if hc is not None and _uses_node(hc):
            raise Skip("the HEALTHCHECK runs node, which the nginx image does not have", hc.line)
        contract = contract_steps(self.stage, frozenset(), replace)
        self.rewritten |= {k for k in ("CMD", "ENTRYPOINT") if k in replace}
        self.warnings.append(
            f"static site: {site}/ is built by Node and served by nginx on port {port} "
            f"(replaces `{' '.join(serve[:3])}`)"
        )
        artifacts = [self._copy("", [site_path], ".", "builder")]
        return self._assemble(
            "nginx",
            image,
            builder=builder,
            extra=[],
            setup=setup,
            artifacts=artifacts,
            contract=contract,
            workdir=NGINX_ROOT,
            note="nginx serves the static files the Node build produced; no Node at run time",
        )

    def _nginx_setup(self, port: str, honours: bool) -> Step:
        """The generated site config (a template with ${PORT} when the original honoured $PORT, rendered now
        with the default too), and nginx made able to start as any non-root user: the pid file under /tmp,
        and conf.d writable by group 0 (the group `docker run --user <uid>` gets) for the rendered template."""
        config = _nginx_config("${PORT}" if honours else port)
        lines = "".join(f"    '{line}' \\\n" for line in config)
        if honours:
            body = (
                f"RUN mkdir -p {NGINX_TEMPLATES} \\\n && printf '%s\\n' \\\n{lines}    > {NGINX_TEMPLATE} \\\n"
                f" && PORT={port} envsubst '${{PORT}}' < {NGINX_TEMPLATE} > {NGINX_CONF} \\\n"
            )
            comment = f"# SPA config: listen on ${{PORT}} (default {port}), fall back to /index.html, gzip"
        else:
            body = f"RUN printf '%s\\n' \\\n{lines}    > {NGINX_CONF} \\\n"
            comment = f"# SPA config: listen on {port}, fall back to /index.html, gzip"
        body += " && sed -i 's|^\\(\\s*\\)pid\\s.*|\\1pid /tmp/nginx.pid;|' /etc/nginx/nginx.conf"
        user = "# nginx can start as a non-root user: pid and temp files under /tmp"
        if honours:
            body += " \\\n && chown -R 101:0 /etc/nginx/conf.d \\\n && chmod -R g+w /etc/nginx/conf.d"
            user += ", conf.d writable by group 0 for the template"
        return Step(body, (comment, user, "# hadolint ignore=SC2016"))

    def _static_port(self, serve: list[str]) -> str:
        exposes = [a for ins in self.stage.find("EXPOSE") for a in ins.args]
        if exposes:
            raw = exposes[0]
            value = shell.substitute(raw, {**self.args, **self._env()})
            m = re.fullmatch(r"(\d+)(/tcp)?", value or "")
            if not m:
                raise Skip(
                    f"EXPOSE {raw}: nginx needs a fixed TCP port to listen on", self.stage.find("EXPOSE")[0].line
                )
            return m.group(1)
        port = cmds.port_option(serve)
        if port:
            return port
        tool = serve[0] if serve else ""
        if tool == "vite":
            return "4173" if serve[1:2] == ["preview"] else "5173"
        return str(npkg.STATIC_SERVERS.get(tool) or npkg.FRONTEND_DEV_SERVERS.get(tool) or 80)

    def _env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for ins in self.stage.find("ENV"):
            for i in range(0, len(ins.args) - 1, 2):
                env[ins.args[i]] = ins.args[i + 1].strip("\"'")
        return env

    # -- servers ------------------------------------------------------------------------------
    def _server_plan(self, mode: str) -> BuildPlan:
        if self.final_workdir == "/" and self.stage.last("USER") is None and not self.options.keep_root:
            self.options = dataclasses.replace(self.options, keep_root=True)
            self.warnings.append(
                "the app lives in / (no WORKDIR), which only root can write, and it may write next to itself: the "
                "runtime keeps root, as the original did (give it a WORKDIR to run it as the node user)"
            )
        runtime, image = self._runtime_image()
        standalone = mode == "next" and npkg.next_standalone(self.ctx)
        entries = self._entries()
        built = bool(self.outputs) and bool(entries) and all(self._in_outputs(e) for e in entries)
        if mode == "next":
            built = True
        needs_builder = self._has_build() or mode == "next"
        user = self._user(runtime)
        chown = self._chown(runtime, user)
        workdir = self.final_workdir
        app = self.app_dir
        artifacts: list[Step] = []
        carried: list[str] = []

        def dest(path: str) -> str:
            if workdir != "/" and path == workdir:
                return "."
            if workdir != "/" and path.startswith(workdir.rstrip("/") + "/"):
                return "./" + path[len(workdir.rstrip("/")) + 1 :]
            return path

        def from_builder(rel: str) -> Step:
            return self._copy(chown, [self._at(rel)], dest(self._at(rel)), "builder")

        if not standalone:
            modules = self._at("node_modules")
            artifacts.append(self._copy(chown, [modules], dest(modules), "deps"))
        if mode == "next" and standalone:
            artifacts.append(self._copy(chown, [self._at(".next/standalone")], dest(app), "builder"))
            artifacts.append(from_builder(".next/static"))
            if "public" in self._copied_entries():
                artifacts.append(from_builder("public"))
        elif mode == "next":
            for rel in [".next", "public", npkg.next_config(self.ctx)]:
                if rel and (rel == ".next" or rel in self._copied_entries()):
                    artifacts.append(from_builder(rel))
            for rel in self._env_files():
                artifacts.append(from_builder(rel))
                carried.append(rel)
        elif built:
            dirs = [
                rel
                for rel in RUNTIME_DIRS
                if rel in self._copied_entries() and not self._in_outputs(rel) and self.ctx.is_dir(rel)
            ]
            for out in self.outputs:
                if not any(out.startswith(d + "/") for d in dirs):  # public/build comes with public/
                    artifacts.append(from_builder(out))
            for rel in dirs + self._start_configs():
                artifacts.append(from_builder(rel))
                carried.append(rel + ("/" if rel in dirs else ""))
        else:
            artifacts += self._app_files(needs_builder, chown, dest, carried)
        if not standalone:
            artifacts.append(self._copy(chown, ["package.json"], dest(app) if dest(app) != "." else "./"))
        if self.pkg.has("@prisma/client") and not standalone:
            artifacts.append(from_builder("node_modules/.prisma"))
            needs_builder = True
        if carried:
            self.warnings.append("runtime files carried into the final stage: " + ", ".join(carried))
        runtime_runs = self._runtime_runs(runtime)
        artifacts += runtime_runs

        replace: dict[str, str | None] = {}
        if user is not None:
            replace["USER"] = user
        replace.update(self._command_rewrites(runtime, standalone))
        contract = contract_steps(self.stage, frozenset(), replace)
        if standalone:
            contract = self._with_standalone_env(contract)
        for step in contract:
            if step.text == f"USER {NODE_UID}" and not step.comments:
                step.comments = ("# node: the unprivileged user the official node images ship",)
        self.rewritten |= {k for k in replace if k in ("CMD", "ENTRYPOINT")}

        setup: list[Step] = []
        packages = self._runtime_packages(runtime)
        packages += [p for p in self._runtime_tools(runtime, replace=replace) if p not in packages]
        if packages:
            if runtime == "distroless":
                raise Skip(
                    f"the runtime needs {', '.join(packages)} and distroless cannot install packages; use "
                    "--runtime slim",
                    self.stage.from_.line,
                )
            setup.append(self._package_step(packages, runtime))
        setup += self._runtime_globals(runtime)
        found = self._writes(workdir) if user is not None and chown and self._original_user() is None else None
        owner = NONROOT if runtime == "distroless" else "node:node"
        if found is not None and found.paths and runtime != "distroless":
            # WORKDIR creates a missing folder owned by root (the legacy builder always does), so the app could not
            # create files beside itself as the original's root could
            comment = (
                "# The app folder belongs to the user that runs the app, as it belonged to root"
                if found.paths == [workdir]
                else writes.COMMENT
            )
            setup.append(Step(f"RUN {writes.own_folders(found.paths, owner)}", (comment,)))
        elif found is not None and found.paths:
            # distroless has no shell: the first build stage makes the folders, the runtime copies them owned
            setup += writes.copy_steps(found.paths, owner, "builder" if standalone else "deps")
        if found is not None:
            self.warnings += writes.notes(found, owner if runtime == "distroless" else f"node ({NODE_UID})")
        env_files = self._env_files()
        if env_files:
            self.loads += env_files
            why = self._start_files().loader or "dotenv"
            if self._start_files().compiled:
                why += f"; the compiled app reads it from the working directory, {self.final_workdir}"
            self.warnings.append(writes.baked_note(env_files, why))

        extra: list[list[Step]] = []
        self.dev_at_runtime = self._dev_at_runtime() if not standalone else []
        first = self._deps_stage() if not standalone else None
        if needs_builder:
            builder = self._builder_stage(self.start_build)
            if self.pkg.has("@prisma/client") and not any("prisma generate" in s.text for s in builder):
                builder.append(Step("RUN npx prisma generate", ("# The Prisma client the runtime loads",)))
                self.warnings.append(
                    "@prisma/client: the builder runs `prisma generate` and the runtime copies node_modules/.prisma"
                )
            if first is None:
                first, extra = builder, []
            else:
                extra = [builder]
        if found is not None and found.paths and runtime == "distroless":
            first = writes.with_build_step(first, found.paths)
        return self._assemble(
            runtime,
            image,
            builder=first,
            extra=extra,
            setup=setup,
            artifacts=artifacts,
            contract=contract,
            workdir=workdir if workdir != "/" or self.stage.find("WORKDIR") else None,
            note=self._note(runtime, mode, standalone),
        )

    def _note(self, runtime: str, mode: str, standalone: bool) -> str:
        what = (
            "the standalone Next.js server and its static files"
            if standalone
            else "production node_modules, the app and package.json"
        )
        if self.dev_at_runtime:
            if self.dev_programs:
                what = f"node_modules with the dev dependencies the start command runs ({', '.join(self.dev_programs)})"
                return f"{self._image_note(runtime)}; {what}, the app and package.json"
            what = "node_modules with the dev dependencies the app loads, the app and package.json"
            return f"{self._image_note(runtime)}; {what}, no compilers"
        return f"{self._image_note(runtime)}; {what}, no compilers or dev dependencies"

    def _image_note(self, runtime: str) -> str:
        image = {
            "slim": "the slim image of the same Node",
            "alpine": "the alpine image of the same Node (musl, like the builder)",
            "distroless": "distroless Node (entrypoint node, no shell or npm)",
        }[runtime]
        if runtime == "alpine" and not self.alpine:
            image = "the alpine image of the same Node (no native addons, so musl is fine)"
        return image

    def _runtime_image(self) -> tuple[str, str]:
        requested = self.options.runtime
        line = self.stage.from_.line
        kind, image = self._runtime_kind_image(requested, line)
        pinned = self.stage.image
        if nimages.split_ref(pinned)[2]:
            if image == pinned.split("@", 1)[0]:
                return kind, pinned  # the same image as the builder: its digest pins it too
            self.warnings.append(
                f"{pinned} is pinned by digest; the runtime image is referenced by tag: pin it by digest too"
            )
        return kind, image

    def _runtime_kind_image(self, requested: str, line: int) -> tuple[str, str]:
        text = self.stage.image.split("@", 1)[0]
        if requested == "scratch":
            raise Skip("--runtime scratch has no Node; use slim, alpine or distroless", line)
        if requested == "auto":
            requested = "alpine" if self.alpine else "slim"
        if requested == "alpine":
            if not self.alpine and self.native:
                raise Skip(
                    f"native addons ({self.native}) are built against glibc here; alpine has musl; use --runtime slim",
                    line,
                )
            return "alpine", nimages.alpine_of(text)
        if self.alpine and self.native:
            raise Skip(
                f"native addons ({self.native}) are built against musl on this alpine builder; --runtime "
                f"{requested} has glibc; use --runtime alpine",
                line,
            )
        if requested == "slim":
            return "slim", nimages.slim_of(text)
        if self.major is None:
            raise Skip(
                f"{self.stage.image} does not say which Node major it has; distroless images are per major", line
            )
        if self.major not in nimages.DISTROLESS_MAJORS:
            raise Skip(f"there is no distroless image for Node {self.major}", line)
        if "$" in text:
            self.warnings.append(
                f"the runtime pins Node {self.major} (distroless images are per major); "
                f"{text} follows the build argument"
            )
        # :nonroot unless root is kept on purpose; a named USER of the original becomes the nonroot uid.
        suffix = "" if self.options.keep_root and not self._original_user() else ":nonroot"
        return "distroless", nimages.distroless(self.major) + suffix

    def _original_user(self) -> str | None:
        ins = self.stage.last("USER")
        if ins is None or not ins.args:
            return None
        name = ins.args[0].split(":")[0]
        return None if name in ("root", "0") else ins.args[0]

    def _user(self, runtime: str) -> str | None:
        original = self._original_user()
        if runtime == "distroless":
            if original and not original.split(":")[0].isdigit():
                self.warnings.append(
                    f"USER {original} becomes {NONROOT}: distroless has no user named {original.split(':')[0]}"
                )
                return f"USER {NONROOT}"
            if original is None and not self.options.keep_root:
                self.warnings.append(
                    f"no USER in the original: the runtime runs as the distroless nonroot user ({NONROOT})"
                )
                return f"USER {NONROOT}"
            return None
        if original is not None or self.options.keep_root:
            return None
        self.warnings.append(
            f"the original ran as root: the runtime runs as the image's `node` user ({NODE_UID}; --keep-root "
            "keeps root); files the app writes must be writable by it"
        )
        return f"USER {NODE_UID}"

    def _chown(self, runtime: str, user: str | None) -> str:
        """--chown for the runtime's COPY lines: the original's (numeric on distroless), or the user the rewrite
        switches to, since the original's root could write the app's files and the app may (uploads, SQLite,
        caches such as .next/cache)."""
        original = next((it.ins.flag("chown") for it in self.items if it.source_copy and it.ins.flag("chown")), None)
        if original:
            if runtime == "distroless" and not original.split(":")[0].isdigit():
                return f"--chown={NONROOT} "
            return f"--chown={original} "
        if user is not None and self._original_user() is None:
            return f"--chown={NONROOT} " if runtime == "distroless" else "--chown=node:node "
        return ""

    def _at(self, rel: str) -> str:
        """A path under the app folder (`/app/dist`; `/dist` when the app lives in /)."""
        return posixpath.join(self.app_dir, rel)

    def _copy(self, chown: str, sources: list[str], dest: str, stage: str | None = None) -> Step:
        """A runtime COPY of paths named after context entries: JSON form where a name needs it."""
        for name in [*sources, dest]:
            if "\\" in name or "\n" in name or (self.model.escape != "\\" and self.model.escape in name):
                raise Skip(
                    f"`{name}` has a backslash, a line break or the escape character in its name, which COPY "
                    "cannot name reliably (BuildKit reads the backslash as an escape); rename it",
                    self._line_naming(posixpath.basename(name)) or self._command_line(),
                )
        flags = (f"--from={stage} " if stage else "") + chown
        return Step(cmds.copy_line(flags, sources, dest, self.model.escape))

    def _owned(self, ins: Instruction, chown: str) -> Step:
        """The original's own COPY line, owned like the rest of the runtime's files."""
        text, owner = ins.text, ins.flag("chown")
        if chown and owner is None:
            text = re.sub(r"(?i)^(\s*(?:COPY|ADD)\s+)", lambda m: m.group(1) + chown, text, count=1)
        elif owner and chown == f"--chown={NONROOT} " and not owner.split(":")[0].isdigit():
            text = re.sub(r"--chown=\S+ ?", chown, text, count=1)  # distroless has no user by that name
        return Step(text, ins.comments)

    # entries, outputs and app files -------------------------------------------------------------
    def _entries(self) -> list[str]:
        """Files (or a build folder) the start command runs, relative to the app folder."""
        out: list[str] = []
        for words in self._start_programs():
            entry = cmds.run_target(words)
            if entry and entry.rstrip("/") in (".", "") and cmds.is_node(words[0]):
                main = self.pkg.data.get("main")
                entry = main if isinstance(main, str) and main else "index.js"  # `node .` runs package.json main
            if entry:
                path = shell.resolve(self.final_workdir, entry)
                if path.startswith(self.app_dir.rstrip("/") + "/"):
                    out.append(path[len(self.app_dir.rstrip("/")) + 1 :])
                else:
                    out.append(path)
        return out

    def _in_outputs(self, rel: str) -> bool:
        return any(rel == o or rel.startswith(o.rstrip("/") + "/") for o in self.outputs)

    def _copied_entries(self) -> list[str]:
        """Top-level context entries the original copied into the app folder."""
        if hasattr(self, "_copied"):
            return self._copied
        out: list[str] = []
        for it in self.items:
            if not it.source_copy:
                continue
            sources = it.ins.args[:-1]
            raw_dest = it.ins.args[-1]
            dest = shell.resolve(it.workdir, raw_dest)
            for s in sources:
                s = s.rstrip("/")
                if s in (".", "./", ""):
                    if dest == self.app_dir:
                        out += [e for e in self.ctx.entries if e not in out]
                    continue
                name = s[2:] if s.startswith("./") else s
                into = raw_dest.endswith("/") or len(sources) > 1
                target = posixpath.join(dest, posixpath.basename(name)) if into else dest
                flat = "*" not in name and "/" not in name
                if flat and target == posixpath.join(self.app_dir, name) and name not in out:
                    out.append(name)
        self._copied = out
        return out

    def _app_files(self, from_builder: bool, chown: str, dest, carried: list[str]) -> list[Step]:
        """The app's own files for a server that runs its sources (no build output to pick)."""
        steps: list[Step] = []
        app = self.app_dir
        if not self.ctx.known:
            if from_builder:
                raise Skip(
                    "the build context is unknown, so what the build writes and which files the app needs cannot "
                    "be told; pass --context",
                    self._command_line(),
                )
            steps = [self._owned(it.ins, chown) for it in self.items if it.source_copy]
            self.warnings.append("the build context is unknown: the runtime copies the sources as the original did")
            return steps
        if not from_builder and not any(self._copies_context(it) for it in self.items if it.source_copy):
            # Files the original named one by one: copy them the same way (lockfiles and manifests aside).
            return [self._owned(it.ins, chown) for it in self.items if it.source_copy]
        configs = self._start_configs()
        entries = [e for e in self._copied_entries() if not _NEVER_CARRY.match(e) or e in configs]
        entries += [o for o in self.outputs if o not in entries]
        left_out = [
            e
            for e in self._copied_entries()
            if _NEVER_CARRY.match(e) and not _QUIET.match(e) and e[:4] != ".env" and e not in configs
        ]
        for entry in self._entries():
            top = entry.split("/", 1)[0]
            if top not in entries and not top.startswith("/") and self.ctx.exists(top):
                entries.append(top)
        if not entries:
            raise Skip("no app files to copy into the runtime were found", self._command_line())
        files = [e for e in entries if not self.ctx.is_dir(e) and e not in self.outputs]
        dirs = [e for e in entries if e not in files]
        if from_builder:
            files = self._compiled_in_place(files)
        if files:
            sources = [self._at(f) for f in files] if from_builder else files
            steps.append(
                self._copy(chown, sources, dest(app) if dest(app) != "." else "./", from_builder and "builder")
            )
        for d in dirs:
            steps.append(
                self._copy(chown, [self._at(d) if from_builder else d], dest(self._at(d)), from_builder and "builder")
            )
        carried += [e + ("/" if e in dirs else "") for e in files + dirs]
        if left_out:
            self.warnings.append("left out of the runtime: " + ", ".join(left_out))
        secrets = [e for e in self._copied_entries() if e.startswith(".env") and e not in self._env_files()]
        if secrets:
            self.warnings.append(
                f"{', '.join(secrets)} is no longer baked into the image; pass its settings with ENV or `--env-file`"
            )
        return steps

    def _compiled_in_place(self, files: list[str]) -> list[str]:
        """`tsc` without outDir writes index.js beside index.ts: the runtime carries the .js, not the .ts."""
        configs = [c for c in (npkg.tsc_in_place(self.ctx, w) for _, w in self.build_commands) if c is not None]
        if not configs:
            return files
        out: list[str] = []
        for f in files:
            js = next((n for n in (npkg.compiled_name(c, f) for c in configs) if n), None)
            if js and js not in out:
                out.append(js)
                self.warnings.append(f"{f} is compiled in place by tsc (no outDir): the runtime gets {js}")
            elif not js and f not in out:
                out.append(f)
        return out

    def _start_configs(self) -> list[str]:
        """Config files the start command reads at run time, of those the original copied into the app folder:
        Babel and tsconfig files the start needs, env files the app loads (dotenv, `node --env-file`)."""
        found = cmds.start_configs(self._start_programs(), self._loaded(), self._copied_entries())
        return found + [f for f in self._env_files() + self._named_files() if f not in found]

    def _named_files(self) -> list[str]:
        """Top-level files the original copied into the app folder that ENV (`CONFIG_PATH=/app/settings.yml`) or
        a string in the app's code (`readFileSync("config.yml")`) names: the app reads them at start."""
        copied = self._copied_entries()
        names = list(self._start_files().named_files)
        for _name, value, _line in writes.stage_env(self.stage):
            if value and value.startswith(self.app_dir.rstrip("/") + "/"):
                names.append(value[len(self.app_dir.rstrip("/")) + 1 :])
        out: list[str] = []
        for name in names:
            if name in copied and not self.ctx.is_dir(name) and not _QUIET.match(name) and name not in out:
                out.append(name)
        return out

    def _start_files(self) -> npkg.StartFiles:
        if not hasattr(self, "_start_cache"):
            files = [e for e in self._entries() if self.ctx.known and not e.startswith("/")]
            sources: list[str] = []
            if files and all(self._in_outputs(e) for e in files) and self.ctx.is_dir("src"):
                # the app runs what the build compiled (dist/main.js): what it loads is read from its sources
                sources = [
                    r
                    for r in self.ctx.walk(_TS_SOURCES, limit=400)
                    if r.startswith("src/") and not re.search(r"\.(spec|test|d)\.[cm]?ts$", r)
                ]
            self._start_cache = npkg.start_files(
                self.ctx, files, self._start_programs(), sources=sources, next_server=not npkg.next_standalone(self.ctx)
            )
        return self._start_cache

    def _env_files(self) -> list[str]:
        """Env files the app loads at start that the original copied into the app folder (top-level entries)."""
        start = self._start_files()
        if start.loader is None or self.final_workdir != self.app_dir:
            return []
        copied = self._copied_entries()
        return writes.env_files(self.ctx, start.env_files, lambda name: name in copied)

    def _writes(self, workdir: str) -> writes.Writes:
        """The folders the runtime user must own: the app's folder (root owned it in the original, and the app may
        write beside itself: uploads, SQLite, caches such as .next/cache), and what ENV, VOLUME and the code name."""
        reason = "the app's folder, which root owned in the original" if workdir != "/" else None
        reads = [(n, f) for n, f in self._start_files().env_reads.items() if writes.is_write_name(n)]
        return writes.find(
            self.stage, workdir, workdir_reason=reason, env_reads=reads, ctx=self.ctx, start_workdir=self.start_dir()
        )

    def _loaded(self) -> dict[str, str]:
        """Bare packages the runtime's own JS files load (the entries and the local modules they require)."""
        if not hasattr(self, "_loaded_cache"):
            files = [e for e in self._entries() if self.ctx.known and not e.startswith("/")]
            self._loaded_cache = npkg.loaded_packages(self.ctx, files) if files else {}
        return self._loaded_cache

    @staticmethod
    def _copies_context(it: _Item) -> bool:
        return any(src.rstrip("/") in (".", "./", "") for src in it.ins.args[:-1])

    # runtime extras ---------------------------------------------------------------------------
    def _runtime_runs(self, runtime: str) -> list[Step]:
        """mkdir/chown/useradd steps of the original, replayed in the runtime, in order, as one RUN (they stand
        together there, and hadolint asks for consecutive RUNs to be one)."""
        segs: list = []
        comments: tuple[str, ...] = ()
        for it in self.items:
            own = [s for s in it.segments if s.kind == cmds.FS]
            if not own:
                continue
            if runtime == "distroless":
                raise Skip(
                    f"`{own[0].text.strip()}` must run in the runtime too and distroless has no shell", it.ins.line
                )
            segs += own
            comments += it.ins.comments
        return [Step(writes.tolerant_mkdir(chain("RUN ", segs)), comments)] if segs else []

    def _runtime_packages(self, runtime: str) -> list[str]:
        family = "alpine" if runtime == "alpine" else "debian"
        packages: list[str] = []
        for it in self.items:
            for seg in it.segments:
                if seg.kind != cmds.SYSTEM:
                    continue
                _, names = syslibs.installed_packages(seg.text)
                if not names:
                    continue
                if (family == "alpine") != (syslibs.installed_packages(seg.text)[0] == "apk"):
                    if any(n not in NODE_BUILD_ONLY for n in names):
                        raise Skip(
                            "the runtime's package manager differs from the builder's; install these packages "
                            "for it by hand",
                            it.ins.line,
                        )
                    continue
                virtual = "--virtual" in seg.words or "-t" in seg.words
                dev = [n for n in names if syslibs.is_dev(n) or virtual]
                needed, unknown = syslibs.runtime_packages(dev, family)
                if unknown:
                    raise Skip(
                        f"no known runtime package for {', '.join(unknown)}; native addons built against it "
                        "would miss their shared library",
                        it.ins.line,
                    )
                plain = [n for n in names if n not in dev and n not in NODE_BUILD_ONLY]
                packages += [p for p in needed + plain if p not in packages]
        return packages

    def _runtime_tools(self, runtime: str, nginx: bool = False, replace: dict | None = None) -> list[str]:
        """Packages for programs the command and healthcheck call that the runtime image lacks."""
        checks: list[tuple[Instruction, list[str]]] = []
        replace = replace or {}
        if not nginx:
            for ins in (self.entry_ins, self.cmd_ins):
                if ins is None or not ins.args:
                    continue
                if replace.get(ins.keyword):
                    argv = json.loads(replace[ins.keyword].split(None, 1)[1])
                    if runtime == "distroless" and ins.keyword == "CMD" and self.entry_ins is None:
                        argv = ["node", *argv]
                    checks.append((ins, tools.programs(Command(True, tuple(argv)))[0]))
                else:
                    checks.append((ins, tools.programs(Command.of(ins))[0]))
        hc = self.stage.last("HEALTHCHECK")
        if hc is not None and hc.args and hc.args[0].upper() == "CMD":
            checks.append((hc, tools.programs(healthcheck_command(hc))[0]))
        family = "alpine" if runtime == "alpine" else "slim"
        extra: list[str] = []
        installed = self._runtime_packages(runtime) if not nginx else []
        for ins, programs in checks:
            for program in programs:
                name = posixpath.basename(program)
                if name in ("node", "nodejs", "npm", "npx", "yarn", "pnpm", "corepack", "docker-entrypoint.sh"):
                    if runtime == "distroless" and name != "node" and name != "nodejs":
                        raise Skip(f"`{name}` is not in the distroless Node image", ins.line)
                    if nginx and name in ("node", "nodejs"):
                        raise Skip("the nginx image has no node", ins.line)
                    continue
                if "/" in program and not program.startswith(("/usr/bin/", "/bin/", "/usr/local/bin/")):
                    continue  # a script or binary the app ships
                if name in npkg.STATIC_SERVERS or name in ("pm2", "pm2-runtime") or name in self._global_bins():
                    continue
                if name in installed or name in tools.SHELL_BUILTINS:
                    continue
                if runtime == "distroless":
                    raise Skip(f"`{name}` is called here and distroless has no such program", ins.line)
                available, package = tools.provided(family, name)
                if not available:
                    if name in self.pkg.deps() or self._bin_of_dependency(name):
                        continue
                    raise Skip(f"`{name}` is called here and the {runtime} image does not provide it", ins.line)
                if package and package not in extra:
                    extra.append(package)
        for package in self._script_packages(family, installed) if not nginx and runtime != "distroless" else []:
            if package not in extra:
                extra.append(package)
        if extra:
            self.warnings.append(
                f"the runtime installs {', '.join(extra)}: the commands call {'it' if len(extra) == 1 else 'them'} "
                f"and the {'nginx' if nginx else runtime} image lacks {'it' if len(extra) == 1 else 'them'}"
            )
        return extra

    def _script_packages(self, family: str, installed: list[str]) -> list[str]:
        """Packages for the shell and known tools a start script from the context calls (docker-entrypoint.sh).
        Names it calls that no package is known for are npm bins or functions more often than not: not refused."""
        out: list[str] = []
        for ins in (self.entry_ins, self.cmd_ins):
            found = self.entry_script(Command.of(ins)) if ins is not None and ins.args else None
            if found is None:
                continue
            for program in [found.script.interpreter] + [p for p, _ in found.script.programs]:
                name = posixpath.basename(program)
                if "/" in program or name in installed or name in tools.SHELL_BUILTINS:
                    continue
                available, package = tools.provided(family, name)
                if available and package and package not in out:
                    out.append(package)
        return out

    def _bin_of_dependency(self, name: str) -> bool:
        return any(name == d.rsplit("/", 1)[-1] for d in self.pkg.deps())

    def _global_bins(self) -> set[str]:
        out: set[str] = set()
        for it in self.items:
            for seg in it.segments:
                if seg.kind == cmds.GLOBAL:
                    out |= {g.rsplit("/", 1)[-1] for g in seg.globals_}
        if "pm2" in out:
            out |= {"pm2-runtime", "pm2-docker"}
        return out

    def _runtime_globals(self, runtime: str) -> list[Step]:
        """Global CLIs the start command runs (pm2-runtime …): installed in the runtime as the original did."""
        used = {"pnpm"} if self.runs_pnpm else set()
        for words in self._start_programs():
            if words:
                used.add(posixpath.basename(words[0]))
        steps: list[Step] = []
        for it in self.items:
            for seg in it.segments:
                if seg.kind != cmds.GLOBAL or not seg.globals_:
                    continue
                bins = {g.rsplit("/", 1)[-1] for g in seg.globals_}
                if "pm2" in bins:
                    bins |= {"pm2-runtime", "pm2-docker"}
                if bins & used:
                    if runtime == "distroless":
                        raise Skip(
                            f"`{seg.text.strip()}` installs the start command, and distroless has no npm", it.ins.line
                        )
                    steps.append(Step("RUN " + seg.text.strip(), ("# The global CLI the start command runs",)))
        return steps

    @staticmethod
    def _package_step(packages: list[str], runtime: str) -> Step:
        comments = () if runtime == "alpine" else ("# Shared libraries and tools the app needs at run time",)
        return package_step(packages, runtime, comments)

    # commands ---------------------------------------------------------------------------------
    def _command_rewrites(self, runtime: str, standalone: bool) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        start = self.start
        ins = self.cmd_ins if self.cmd_ins is not None else self.entry_ins
        if standalone:
            if self.no_command:
                raise Skip(
                    "no CMD or ENTRYPOINT: a Next.js standalone runtime starts `node server.js`, which would replace "
                    "the command the original leaves to compose or docker run",
                    self.stage.from_.line,
                )
            if self.entry_ins is not None and not _is_wrapper(self.entry_ins):
                raise Skip(
                    "an ENTRYPOINT in front of a Next.js standalone server is not supported", self.entry_ins.line
                )
            argv = ["node", "server.js"]
            self.warnings.append(
                f"Next.js standalone: `{' '.join(start.argv)}` becomes `node server.js` (line {ins.line}), the "
                "server `next build` writes to .next/standalone"
            )
            out["CMD"] = "CMD " + json.dumps(self._for_runtime(argv, runtime))
            return out
        if start.compiled:
            if runtime == "distroless" and start.wrapper:
                raise Skip(f"`{start.wrapper[0]}` is not in the distroless image", ins.line)
            wrapped = self.entry_ins is not None and _is_wrapper(self.entry_ins)
            argv = self._for_runtime(start.compiled, runtime)
            out["CMD"] = "CMD " + json.dumps(argv if wrapped else start.wrapper + argv)
            return out
        if start.kind == "script":
            wrapped = self.entry_ins is not None and _is_wrapper(self.entry_ins)
            if start.resolved and self.cmd_ins is not None and (self.entry_ins is None or wrapped):
                if runtime == "distroless" and (start.wrapper or wrapped):
                    raise Skip(
                        f"`{(start.wrapper or ['the init wrapper'])[0]}` is not in the distroless image", ins.line
                    )
                argv = self._for_runtime(start.resolved, runtime)
                out["CMD"] = "CMD " + json.dumps(argv if wrapped else start.wrapper + argv)
                self.warnings.append(
                    f"`{' '.join(start.argv)}` (line {ins.line}) runs `{' '.join(start.resolved)}` from package.json "
                    f"directly: no {start.argv[0]} process in front of node, which then gets the stop signals"
                )
                return out
            tool = start.argv[0]
            if runtime == "distroless":
                raise Skip(
                    f"`{' '.join(start.argv)}` needs {tool} to run a script that is not a plain `node` command; "
                    "distroless has none; use --runtime slim",
                    ins.line,
                )
            if tool == "pnpm":
                direct = self._without_pnpm(start)
                if direct is not None:
                    out["CMD"] = "CMD " + json.dumps(direct)
                    self.warnings.append(
                        f"`{' '.join(start.argv)}` (line {ins.line}) runs the script's own command, "
                        f"`{' '.join(direct)}`: the runtime needs no pnpm, which the node images do not ship"
                    )
                    return out
                if self._pnpm_installs():
                    self.runs_pnpm = True
                    self.warnings.append(
                        f"`{' '.join(start.argv)}` (line {ins.line}) still runs through pnpm (the script runs "
                        f"more than pnpm can be left out of); the runtime installs pnpm as the original did: "
                        f"`{self._pnpm_installs()}`"
                    )
                    return out
            if tool == "pnpm" or (tool == "yarn" and self.manager.berry):
                raise Skip(
                    f"`{' '.join(start.argv)}` needs {tool} at run time, which the node images do not ship "
                    "ready to use; start the app with node",
                    ins.line,
                )
            script = self.pkg.scripts.get(start.script or "", "")
            self.warnings.append(
                f"`{' '.join(start.argv)}` (line {ins.line}) still runs through {tool}: the script "
                f"`{script}` is not a plain node command; the {runtime} image has {tool}"
            )
            return out
        if runtime != "distroless":
            return out
        for keyword, item in (("ENTRYPOINT", self.entry_ins), ("CMD", self.cmd_ins)):
            if item is None or not item.args:
                continue
            command = Command.of(item)
            argv = command.as_simple_argv()
            if argv is None:
                raise Skip(f"{keyword} needs a shell, and distroless has none", item.line)
            argv = list(argv)
            if keyword == "ENTRYPOINT":
                if not cmds.is_node(argv[0]) or len(argv) > 1 and self.cmd_ins is not None:
                    raise Skip(f"ENTRYPOINT {argv[0]} cannot run on distroless, whose entrypoint is node", item.line)
                out[keyword] = "ENTRYPOINT " + json.dumps([DISTROLESS_NODE, *argv[1:]])
                continue
            if self.entry_ins is not None:
                continue  # arguments to the node entrypoint stay as they are
            if not cmds.is_node(argv[0]):
                raise Skip(f"`{argv[0]}` cannot run on distroless, whose entrypoint is node", item.line)
            out[keyword] = "CMD " + json.dumps(argv[1:])
            self.warnings.append(f"CMD (line {item.line}) drops `node`: the distroless image's entrypoint is node")
        return out

    def _without_pnpm(self, start: cmds.Start) -> list[str] | None:
        """`pnpm start` with a script that needs no pnpm: the script's own command, as the CMD. pnpm runs a script
        with `sh -c` and node_modules/.bin on PATH: one dependency bin (`next start`) becomes
        `node_modules/.bin/next start` in exec form; a shell script of system programs and node
        (`rm -rf *.mp3 && node build/index.js`) runs in `sh -c` as before. Scripts that run a package
        manager, use the npm_* variables, have pre/post scripts, or need a bin on PATH inside a shell keep pnpm."""
        script = start.script or ""
        text = self.pkg.scripts.get(script)
        wrapped = self.entry_ins is not None and _is_wrapper(self.entry_ins)
        if text is None or self.cmd_ins is None or (self.entry_ins is not None and not wrapped):
            return None
        if "pre" + script in self.pkg.scripts or "post" + script in self.pkg.scripts or "npm_" in text:
            return None
        args = npkg.script_args(start.argv)
        head = start.argv[1 : start.argv.index("--")] if "--" in start.argv else start.argv[1:]
        if head not in ([script], ["run", script], ["run-script", script]):
            return None  # words pnpm passes on to the script
        bins: list[str] = []
        for seg in shell.segments(text):
            env, words = shell.env_prefix(seg.words())
            while words and words[0] in ("exec", "command", "nohup"):
                words = words[1:]
            if not words:
                continue
            name = words[0]
            if name in ("npm", "npx", "pnpm", "pnpx", "yarn", "corepack") or npkg.unwrap(words)[:1] != [name]:
                return None
            system = "/" in name or cmds.is_node(name) or name in tools.SHELL_BUILTINS or name in self._global_bins()
            if not system and (
                not tools.provided("slim", name)[0] or name in self.pkg.deps() or self._bin_of_dependency(name)
            ):
                bins.append(name)
        segments = shell.segments(text)
        simple = Command(False, shell=text).as_simple_argv()
        if simple is not None and len(segments) == 1:
            argv = list(simple)
            if bins:
                argv[0] = "node_modules/.bin/" + argv[0]
                if self.final_workdir != self.app_dir:
                    argv[0] = self._at(argv[0])
            argv = argv + args
            return argv if wrapped else start.wrapper + argv
        if bins or args or wrapped or start.wrapper or "\n" in text:
            return None
        return ["sh", "-c", text.strip()]

    def _pnpm_installs(self) -> str | None:
        """The original's global install of pnpm (`npm i -g pnpm@8`), which the runtime can repeat; corepack
        would fetch pnpm when the container starts, as the node user."""
        for it in self.items:
            for seg in it.segments:
                if seg.kind == cmds.GLOBAL and seg.words[:1] == ["npm"] and "pnpm" in seg.globals_:
                    return seg.text.strip()
        return None

    def _for_runtime(self, argv: list[str], runtime: str) -> list[str]:
        return argv[1:] if runtime == "distroless" and cmds.is_node(argv[0]) else argv

    def _with_standalone_env(self, contract: list[Step]) -> list[Step]:
        """HOSTNAME=0.0.0.0 (Docker sets HOSTNAME to the container id) and `next start -p` as PORT."""
        env = self._env()
        pairs = [] if "HOSTNAME" in env else ["HOSTNAME=0.0.0.0"]
        port = next((cmds.port_option(w) for w in self._start_programs() if w[:2] == ["next", "start"]), None)
        if port and "PORT" not in env:
            pairs.append(f"PORT={port}")
        if not pairs:
            return contract
        step = Step("ENV " + " ".join(pairs), ("# The standalone server listens on $HOSTNAME:$PORT",))
        at = next((i for i, s in enumerate(contract) if s.text.split(None, 1)[0] == "EXPOSE"), 0)
        return contract[:at] + [step] + contract[at:]

    # -- output -------------------------------------------------------------------------------
    def _assemble(self, runtime, image, builder, extra, setup, artifacts, contract, workdir, note) -> BuildPlan:
        texts = [s.text for s in setup + artifacts + contract]
        return BuildPlan(
            language="node",
            runtime=runtime,
            header=list(self.model.header),
            global_args=[Step(a.text, a.comments) for a in self.model.global_args],
            builder=builder,
            runtime_from=Step(f"FROM {image} AS runtime"),
            extra_stages=extra,
            runtime_args=arg_redeclarations(self.stage, texts),
            runtime_setup=setup,
            workdir=workdir,
            artifacts=artifacts,
            contract=contract,
            footer=list(self.model.footer),
            warnings=self.warnings,
            note=note,
            rewritten=self.rewritten,
            loads=list(self.loads),
        )


# Left out without a mention: nobody expects these in a runtime image.
_QUIET = re.compile(
    r"^(\.dockerignore|node_modules|package\.json|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|"
    r"pnpm-lock\.yaml|\.git.*|Dockerfile.*|.*\.Dockerfile|Containerfile|docker-compose.*|compose\.ya?ml)$"
)


def _drops(seg: cmds.Segment, names: frozenset[str]) -> bool:
    """A global install of only the given CLIs (serve, http-server): the build does not need it."""
    return seg.kind == cmds.GLOBAL and bool(seg.globals_) and set(seg.globals_) <= names


def _is_manifest(source: str) -> bool:
    name = source.rstrip("/")
    name = name[2:] if name.startswith("./") else name
    if name in MANIFEST_NAMES:
        return True
    return bool(re.fullmatch(r"package[^/]*\.json|\*\.json|[^/]*lock[^/]*", name)) and "/" not in name


def _serves_static(words: list[str]) -> bool:
    """serve/http-server, `vite preview`, or a front-end dev server (`vite`, `react-scripts start`, `ng serve`)."""
    if not words:
        return False
    tool, verb = words[0], words[1] if len(words) > 1 else ""
    if tool in npkg.STATIC_SERVERS:
        return True
    if tool == "vite":
        return verb in ("", "preview", "serve", "dev") or verb.startswith("-")
    return tool in npkg.FRONTEND_DEV_SERVERS and verb in ("start", "serve", "dev")


def _honours_port(words: list[str], config: str = "") -> bool:
    """Whether the static server listens on $PORT: a port option given $PORT (`-l tcp://0.0.0.0:$PORT`,
    `--port $PORT` in shell form); with no port option, `serve`, `http-server` and the react-scripts and vue-cli
    dev servers, which read PORT themselves, and vite when its config reads process.env.PORT."""
    if not words:
        return False
    flags = [i for i, w in enumerate(words) if re.fullmatch(r"(-l|--listen|-p|--port)(=.*)?", w)]
    if flags:
        i = flags[0]
        value = words[i].split("=", 1)[1] if "=" in words[i] else (words[i + 1] if i + 1 < len(words) else "")
        return bool(re.search(r"\$\{?PORT\b", value))
    dev = words[:1] in (["react-scripts"], ["react-app-rewired"], ["craco"], ["vue-cli-service"])
    if words[0] in ("serve", "http-server") or dev and words[1:2] in (["start"], ["serve"]):
        return True
    return words[0] == "vite" and "process.env.PORT" in config


def _served_dir(words: list[str]) -> str | None:
    """The folder `serve -s build` or `http-server ./dist -p 8080` serves."""
    if not words or words[0] not in npkg.STATIC_SERVERS:
        return None
    value_flags = {"-l", "--listen", "-p", "--port", "-a", "-c", "-C", "-K", "-P", "--proxy", "--config", "-e", "-t"}
    i = 1
    while i < len(words):
        w = words[i]
        if w in value_flags:
            i += 2
            continue
        if w.startswith("-"):
            i += 1
            continue
        out = posixpath.normpath(w)
        return out[2:] if out.startswith("./") else out
    return None


def _nginx_config(port: str) -> list[str]:
    from dockrewrite.render import _environment

    text = _environment().get_template("node/nginx.conf.j2").render(port=port)
    lines = text.rstrip("\n").split("\n")
    if any("'" in line for line in lines):
        raise ValueError("nginx.conf.j2 must not contain single quotes")
    return lines


def _uses_node(hc: Instruction) -> bool:
    if not hc.args or hc.args[0].upper() != "CMD":
        return False
    return any(cmds.is_node(p) for p in tools.programs(healthcheck_command(hc))[0])


def _is_wrapper(ins: Instruction) -> bool:
    command = Command.of(ins)
    return bool(command.exec_form and command.argv and posixpath.basename(command.argv[0]) in cmds.WRAPPERS)


__all__ = ["NodeProvider", "LAST_WINS"]
