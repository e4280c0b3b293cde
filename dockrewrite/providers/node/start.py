"""The start command: what it runs, a compile moved from the start to the builder, and the kind of app."""

from __future__ import annotations

import posixpath
import shlex

from dockrewrite import shell
from dockrewrite.intents import CommandChanged
from dockrewrite.model import Command
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node import outputs as nout
from dockrewrite.providers.node import package as npkg
from dockrewrite.providers.node.analyse import Item
from dockrewrite.providers.node.commands import is_wrapper
from dockrewrite.results import Skip

# Helpers a build script runs beside the compiler (path aliases, copying assets, cleaning the output).
_FILE_HELPERS = frozenset({"tsc-alias", "copyfiles", "cpy", "cpx", "shx", "rimraf", "rm", "mkdir", "cp", "del-cli"})


class StartCommand:
    """What the start command runs, and its compile moved to the builder where that can be told."""

    def _refuse_outside_command(self) -> None:
        """With no CMD the command comes from compose or docker run; a global CLI the original installs
        (`ng`, `nodemon`) is most likely what it runs, and the runtime only carries CLIs its own command uses."""
        for it in self.facts.items:
            for seg in it.segments:
                tools_ = [g for g in seg.globals_ if g not in ("npm", "yarn", "pnpm", "corepack")]
                if seg.kind == cmds.GLOBAL and tools_:
                    raise Skip(
                        f"no CMD or ENTRYPOINT, and `{seg.text.strip()}` installs {', '.join(tools_)}, which the "
                        "command given from outside most likely runs; the runtime would not have it",
                        it.ins.line,
                    )

    def _start(self) -> cmds.Start:
        entry, cmd = self.facts.entry, self.facts.cmd
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
        start = cmds.start_of(argv, self.facts.pkg)
        if start.kind == "script" and start.resolved is None and start.script:
            self._move_start_build(start)
        return start

    def _move_start_build(self, start: cmds.Start) -> None:
        """`"start": "tsc && node ."`: the compile runs once in the builder and the runtime starts node on its
        output, instead of compiling at every start with the compiler, sources and tsconfig in the runtime."""
        wrapped = self.facts.entry is None or is_wrapper(self.facts.entry)
        split = cmds.split_build_prefix(self.facts.pkg, start.script or "")
        if split is None or self.facts.cmd is None or not wrapped:
            return
        builds, node_argv = split
        runs: list[str] = []
        moved: list[list[str]] = []
        for words in builds:
            target = npkg.script_target(words, self.facts.pkg)
            expanded = [npkg.unwrap(w) for w in npkg.script_commands(self.facts.pkg, target)] if target else [words]
            if not expanded or not all(self._compiles(w) or w[:1] and w[0] in _FILE_HELPERS for w in expanded):
                return  # migrations, seeds …: they belong to the start, not to the image build
            if not any(self._compiles(w) for w in expanded):
                return
            runs.append(self.manager.run(target) if target else self._exec(npkg.unwrap(words)))
            moved += expanded
        start.resolved = node_argv + npkg.script_args(start.argv)
        start.build = moved
        self.start_build = " \\\n && ".join(runs)
        self.declare(CommandChanged("compiled-at-start", tuple(start.resolved)))
        self.note(
            "DR102",
            f"the start script `{self.facts.pkg.scripts[start.script or '']}` compiles before it starts node: "
            f"the builder runs `{' && '.join(runs)}` once, and the runtime starts `{' '.join(start.resolved)}` "
            "on the output",
        )

    def _compile_at_start(self) -> bool:
        """`nest start`, `ts-node src/index.ts`, `tsx src/index.ts` compile TypeScript at every start, with the dev
        dependencies and sources in the image. When the project says what the compiled program is (a Nest build,
        a tsconfig with outDir), the builder compiles once and the runtime starts node on the output, like `go run`.
        Watch modes and what cannot be told are left to _mode (a skip, or the dev dependencies kept)."""
        start = self.start
        wrapped = self.facts.entry is None or is_wrapper(self.facts.entry)
        if start.build or self.facts.cmd is None or not wrapped:
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
        self.declare(CommandChanged("compiled-at-start", tuple(argv)))
        self.note(
            "DR102",
            f"`{' '.join(start.argv)}` (line {self._command_line()}) compiled TypeScript at every start: {how}, and "
            f"the runtime runs `{' '.join(argv)}` on the output, without the compiler or the dev dependencies",
        )
        return True

    def _without_nodemon(self, words: list[str]) -> bool:
        """`nodemon server.js`: nodemon restarts node when files change, and an image's files do not; with no
        nodemon config (exec, env, execMap) and only watch options, the runtime runs `node server.js` itself."""
        if self.ctx.exists("nodemon.json") or "nodemonConfig" in self.facts.pkg.data:
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
        self.declare(CommandChanged("compiled-at-start", tuple(argv)))
        self.note(
            "DR102",
            f"`{' '.join(self.start.argv)}` (line {self._command_line()}) restarts node when files change, which "
            f"files in an image do not: the runtime runs `{' '.join(argv)}` directly, and nodemon stays out",
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
            scripted = [npkg.unwrap(w) for w in npkg.script_commands(self.facts.pkg, "build")]
            if "start:prod" not in self.facts.pkg.scripts or not any(w[:2] == build for w in scripted):
                return None
            run = self.manager.run("build")
        prod = cmds.resolve_script(self.facts.pkg, "start:prod", []) if "start:prod" in self.facts.pkg.scripts else None
        argv = prod if prod and cmds.node_entry(prod) else ["node", nout.nest_entry(self.ctx)]
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
        if i >= len(words) or not words[i].endswith(nout.TS_INPUTS) or not self.facts.pkg.has("typescript"):
            return None
        if tool == "tsx" and self.facts.pkg.data.get("type") == "module":
            return None  # tsx resolves extensionless ESM imports; node does not run tsc's output of them
        entry = shell.resolve(self.facts.workdir, words[i])
        if not entry.startswith(self.facts.app_dir.rstrip("/") + "/"):
            return None
        found = nout.tsc_entry(self.ctx, project, entry[len(self.facts.app_dir.rstrip("/")) + 1 :])
        if found is None:
            return None
        js, out, config = found
        build = ["tsc"] + (["-p", config] if config != "tsconfig.json" else [])
        built = any(nout.build_outputs(self.ctx, self.facts.pkg, w)[:1] == [out] for _, w in self.build_commands)
        if not built and (tool == "tsx" or "-T" in words or "--transpile-only" in words or "--swc" in words):
            self.note(
                "DR105",
                f"{tool} ran without type-checking; tsc in the builder type-checks, so a type error now fails "
                "the build",
            )
        return ["node", js, *words[i + 1 :]], build, None if built else self._exec(build)

    def _compiles(self, words: list[str]) -> bool:
        """A compiler whose output the runtime can carry (tsc, babel -d, vite build …)."""
        return (
            bool(nout.build_outputs(self.ctx, self.facts.pkg, words)) or nout.tsc_in_place(self.ctx, words) is not None
        )

    def _exec(self, words: list[str]) -> str:
        """A project bin run in the builder by the project's package manager (node_modules/.bin is not on PATH)."""
        text = " ".join(shlex.quote(w) for w in words)
        script = next((name for name, body in self.facts.pkg.scripts.items() if body.strip() == text), None)
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
            return [npkg.unwrap(w) for w in npkg.script_commands(self.facts.pkg, start.script)] or (
                [start.resolved] if start.resolved else []
            )
        if start.kind == "shell":
            return [npkg.unwrap(shell.env_prefix(s.words())[1]) for s in shell.segments(start.argv[2])]
        if not start.argv:
            return []
        words = npkg.unwrap(start.argv[1:] if cmds.package_bin(start.argv, self.facts.pkg) else start.argv)
        inner = cmds.supervised(words)  # pm2-runtime npm -- start: the script is what runs
        target = npkg.script_target(inner, self.facts.pkg) if inner else None
        if target is not None:
            return [words] + [npkg.unwrap(w) for w in npkg.script_commands(self.facts.pkg, target)]
        return [words]

    def _build_commands(self) -> list[tuple[Item, list[str]]]:
        out: list[tuple[Item, list[str]]] = []
        for index, it in enumerate(self.facts.items):
            for seg in it.segments:
                if seg.kind != cmds.BUILD or index < self.facts.install_index:
                    continue
                if index == self.facts.install_index and it.segments.index(seg) < it.segments.index(self.facts.install):
                    continue
                target = npkg.script_target(seg.words, self.facts.pkg)
                if target is not None:
                    expanded = npkg.script_commands(self.facts.pkg, target)
                    out += [(it, npkg.unwrap(w)) for w in expanded] or [(it, seg.words)]
                else:
                    out.append((it, npkg.unwrap(seg.words)))
        out += [(self.facts.items[-1], words) for words in self.start.build]
        return out

    def _outputs(self) -> list[str]:
        outs: list[str] = []
        for _, words in self.build_commands:
            for out in nout.build_outputs(self.ctx, self.facts.pkg, words):
                if out not in outs and out not in (".", ""):
                    outs.append(out)
        return outs

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
        if self.facts.pkg.has("next") and (
            "next" in first or any(w[:2] == ["next", "build"] for _, w in self.build_commands)
        ):
            self._refuse_compile_at_start(programs)
            return "next"
        if self.serve_words is not None:
            if (
                self.facts.pkg.has("@sveltejs/kit")
                or self.facts.pkg.has("nuxt")
                or self.facts.pkg.has("@remix-run/serve")
            ):
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
        ins = self.facts.cmd or self.facts.entry
        return ins.line if ins is not None else self.stage.from_.line


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
