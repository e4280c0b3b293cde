"""The files carried into the runtime: build outputs, sources, configs and env files the app reads."""

from __future__ import annotations

import posixpath
import re

from dockrewrite import ops, shell
from dockrewrite.model import Instruction
from dockrewrite.providers import writes
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node import outputs as nout
from dockrewrite.providers.node import sources as nsrc
from dockrewrite.providers.node.analyse import Item, line_naming
from dockrewrite.results import Skip
from dockrewrite.runtimes.distroless import NONROOT

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
# Folders an app reads at run time beside its build output.
_TS_SOURCES = (".ts", ".mts", ".cts")
RUNTIME_DIRS = ("public", "views", "templates", "static", "locales", "i18n", "config", "prisma", "migrations")
# Left out without a mention: nobody expects these in a runtime image.
_QUIET = re.compile(
    r"^(\.dockerignore|node_modules|package\.json|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|"
    r"pnpm-lock\.yaml|\.git.*|Dockerfile.*|.*\.Dockerfile|Containerfile|docker-compose.*|compose\.ya?ml)$"
)


class CarriedFiles:
    """The app's files the runtime gets, and what the app reads at start."""

    def _at(self, rel: str) -> str:
        """A path under the app folder (`/app/dist`; `/dist` when the app lives in /)."""
        return posixpath.join(self.facts.app_dir, rel)

    def _copy(self, chown: str, sources: list[str], dest: str, stage: str | None = None) -> ops.Op:
        """A runtime COPY of paths named after context entries: JSON form where a name needs it."""
        for name in [*sources, dest]:
            if "\\" in name or "\n" in name or (self.model.escape != "\\" and self.model.escape in name):
                raise Skip(
                    f"`{name}` has a backslash, a line break or the escape character in its name, which COPY "
                    "cannot name reliably (BuildKit reads the backslash as an escape); rename it",
                    line_naming(self.stage, posixpath.basename(name)) or self._command_line(),
                )
        flags = (f"--from={stage} " if stage else "") + chown
        return ops.step(cmds.copy_line(flags, sources, dest, self.model.escape))

    def _owned(self, ins: Instruction, chown: str) -> ops.Op:
        """The original's own COPY line, owned like the rest of the runtime's files."""
        text, owner = ins.text, ins.flag("chown")
        if chown and owner is None:
            text = re.sub(r"(?i)^(\s*(?:COPY|ADD)\s+)", lambda m: m.group(1) + chown, text, count=1)
        elif owner and chown == f"--chown={NONROOT} " and not owner.split(":")[0].isdigit():
            text = re.sub(r"--chown=\S+ ?", chown, text, count=1)  # distroless has no user by that name
        return ops.step(text, ins.comments)

    def _entries(self) -> list[str]:
        """Files (or a build folder) the start command runs, relative to the app folder."""
        out: list[str] = []
        for words in self._start_programs():
            entry = cmds.run_target(words)
            if entry and entry.rstrip("/") in (".", "") and cmds.is_node(words[0]):
                main = self.facts.pkg.data.get("main")
                entry = main if isinstance(main, str) and main else "index.js"  # `node .` runs package.json main
            if entry:
                path = shell.resolve(self.facts.workdir, entry)
                if path.startswith(self.facts.app_dir.rstrip("/") + "/"):
                    out.append(path[len(self.facts.app_dir.rstrip("/")) + 1 :])
                else:
                    out.append(path)
        return out

    def _in_outputs(self, rel: str) -> bool:
        return any(rel == o or rel.startswith(o.rstrip("/") + "/") for o in self.outputs)

    def _app_files(self, from_builder: bool, chown: str, dest, carried: list[str]) -> list[ops.Op]:
        """The app's own files for a server that runs its sources (no build output to pick)."""
        steps: list[ops.Op] = []
        app = self.facts.app_dir
        if not self.ctx.known:
            if from_builder:
                raise Skip(
                    "the build context is unknown, so what the build writes and which files the app needs cannot "
                    "be told; pass --context",
                    self._command_line(),
                )
            steps = [self._owned(it.ins, chown) for it in self.facts.items if it.source_copy]
            self.note("DR302", "the build context is unknown: the runtime copies the sources as the original did")
            return steps
        if not from_builder and not any(self._copies_context(it) for it in self.facts.items if it.source_copy):
            # Files the original named one by one: copy them the same way (lockfiles and manifests aside).
            return [self._owned(it.ins, chown) for it in self.facts.items if it.source_copy]
        configs = self._start_configs()
        entries = [e for e in self.facts.copied_entries if not _NEVER_CARRY.match(e) or e in configs]
        entries += [o for o in self.outputs if o not in entries]
        left_out = [
            e
            for e in self.facts.copied_entries
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
            self.note("DR304", "left out of the runtime: " + ", ".join(left_out))
        secrets = [e for e in self.facts.copied_entries if e.startswith(".env") and e not in self._env_files()]
        if secrets:
            self.note(
                "DR304",
                f"{', '.join(secrets)} is no longer baked into the image; pass its settings with ENV or `--env-file`",
            )
        return steps

    def _compiled_in_place(self, files: list[str]) -> list[str]:
        """`tsc` without outDir writes index.js beside index.ts: the runtime carries the .js, not the .ts."""
        configs = [c for c in (nout.tsc_in_place(self.ctx, w) for _, w in self.build_commands) if c is not None]
        if not configs:
            return files
        out: list[str] = []
        for f in files:
            js = next((n for n in (nout.compiled_name(c, f) for c in configs) if n), None)
            if js and js not in out:
                out.append(js)
                self.note("DR102", f"{f} is compiled in place by tsc (no outDir): the runtime gets {js}")
            elif not js and f not in out:
                out.append(f)
        return out

    def _start_configs(self) -> list[str]:
        """Config files the start command reads at run time, of those the original copied into the app folder:
        Babel and tsconfig files the start needs, env files the app loads (dotenv, `node --env-file`)."""
        found = cmds.start_configs(self._start_programs(), self._loaded(), self.facts.copied_entries)
        extra = self._env_files() + self._named_files() + self._compose_env_entries()
        return found + [f for f in dict.fromkeys(extra) if f not in found]

    def _compose_env_entries(self) -> list[str]:
        """Top-level entries that a compose service building this image names in its environment with a relative
        path (`DATA_PATH=./db/db.json`) that the app's code reads (`process.env.DATA_PATH`): the app opens that
        path at run time, relative to its folder, so the runtime carries it (owned by the runtime user, who may
        write it, as the original's root could). Worked out once per plan, which asks for it from several places."""
        found = vars(self).get("_compose_entries")
        if found is not None:
            return found
        found = self._compose_entries = []
        # a value that reads as a path (`./db/db.json`, `data/app.sqlite`), not a host name that a folder shares
        pairs = [
            (n, v)
            for n, v in writes.compose_environment(self.ctx)
            if v and not v.startswith(("/", "~", "$")) and ("/" in v or re.search(r"\.\w{1,8}$", v))
        ]
        if not pairs:
            return found
        files, sources = self._start_sources()
        code = "\n".join(text for _rel, text in nsrc.local_modules(self.ctx, files, also=sources))
        for name, value in pairs:
            rel = posixpath.normpath(value)
            entry = rel.split("/", 1)[0]
            read = re.search(rf"process\.env(?:\.{re.escape(name)}\b|\[\s*['\"]{re.escape(name)}['\"]\s*\])", code)
            if read and not rel.startswith("..") and entry in self.facts.copied_entries and entry not in found:
                found.append(entry)
                self.note(
                    "DR302", f"compose sets {name}={value} and the app reads process.env.{name}: {entry} is carried"
                )
        return found

    def _named_files(self) -> list[str]:
        """Top-level files the original copied into the app folder that ENV (`CONFIG_PATH=/app/settings.yml`) or
        a string in the app's code (`readFileSync("config.yml")`) names: the app reads them at start."""
        copied = self.facts.copied_entries
        names = list(self._start_files().named_files)
        for _name, value, _line in writes.stage_env(self.stage):
            if value and value.startswith(self.facts.app_dir.rstrip("/") + "/"):
                names.append(value[len(self.facts.app_dir.rstrip("/")) + 1 :])
        out: list[str] = []
        for name in names:
            if name in copied and not self.ctx.is_dir(name) and not _QUIET.match(name) and name not in out:
                out.append(name)
        return out

    def _start_sources(self) -> tuple[list[str], list[str]]:
        """(the entry files the start command runs, the TypeScript sources of a compiled app), in the context."""
        files = [e for e in self._entries() if self.ctx.known and not e.startswith("/")]
        sources: list[str] = []
        if files and all(self._in_outputs(e) for e in files) and self.ctx.is_dir("src"):
            # the app runs what the build compiled (dist/main.js): what it loads is read from its sources
            sources = [
                r
                for r in self.ctx.walk(_TS_SOURCES, limit=400)
                if r.startswith("src/") and not re.search(r"\.(spec|test|d)\.[cm]?ts$", r)
            ]
        return files, sources

    def _start_files(self) -> nsrc.StartFiles:
        if not hasattr(self, "_start_cache"):
            files, sources = self._start_sources()
            self._start_cache = nsrc.start_files(
                self.ctx, files, self._start_programs(), sources=sources, next_server=not nout.next_standalone(self.ctx)
            )
        return self._start_cache

    def _env_files(self) -> list[str]:
        """Env files the app loads at start that the original copied into the app folder (top-level entries)."""
        start = self._start_files()
        if start.loader is None or self.facts.workdir != self.facts.app_dir:
            return []
        copied = self.facts.copied_entries
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
            self._loaded_cache = nsrc.loaded_packages(self.ctx, files) if files else {}
        return self._loaded_cache

    @staticmethod
    def _copies_context(it: Item) -> bool:
        return any(src.rstrip("/") in (".", "./", "") for src in it.ins.args[:-1])
