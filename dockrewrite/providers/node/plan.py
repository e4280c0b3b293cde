"""The Node planner: the analysis in order, the server plan, and the BuildPlan it assembles."""

from __future__ import annotations

import dataclasses

from dockrewrite import ops
from dockrewrite.contract import arg_redeclarations, contract_steps
from dockrewrite.plan import BuildPlan
from dockrewrite.providers import writes
from dockrewrite.providers.common import Planner
from dockrewrite.providers.node import outputs as nout
from dockrewrite.providers.node.analyse import analyse
from dockrewrite.providers.node.distroless import DistrolessChoice
from dockrewrite.providers.node.entrypoint import CommandRewrites
from dockrewrite.providers.node.files import RUNTIME_DIRS, CarriedFiles
from dockrewrite.providers.node.install import Dependencies
from dockrewrite.providers.node.runtime import RuntimeBase
from dockrewrite.providers.node.start import StartCommand
from dockrewrite.providers.node.static import StaticSite
from dockrewrite.results import Skip
from dockrewrite.runtimes import distroless, select
from dockrewrite.runtimes.base import Runtime


class NodePlanner(
    StartCommand, Dependencies, CarriedFiles, RuntimeBase, StaticSite, CommandRewrites, DistrolessChoice, Planner
):
    """Plans a Node rewrite: each concern is a mixin; this class orders them."""

    def plan(self) -> BuildPlan:
        self.refuse_unsupported()
        self.facts = analyse(self.model, self.ctx)
        self._node_version_notes()
        self.dev_at_runtime: list[str] = []
        self.dev_programs: list[str] = []  # dev-dependency programs the start command runs
        self.runs_pnpm = False  # the runtime's command still runs pnpm (`pnpm start` of a script that runs pnpm)
        self._choose_manager()
        self.start = self._start()
        self.build_commands = self._build_commands()
        self.outputs = self._outputs()
        if self._compile_at_start():
            self.build_commands = self._build_commands()
            self.outputs = self._outputs()
        mode = self._mode()
        self.static_node: str | None = None  # why the distroless runtime is static with the builder's own node
        if self.facts.no_command:
            self._refuse_outside_command()
            self.note(
                "DR103",
                'no CMD or ENTRYPOINT: the runtime inherits the node image\'s CMD ["node"] as the original did; '
                "a command given from outside (compose, docker run) gets production dependencies only",
            )
        if mode == "static":
            return self._static_plan()
        return self._server_plan(mode)

    def _server_plan(self, mode: str) -> BuildPlan:
        """On `auto`, distroless nodejs when a plan for it can be written and nothing in it would behave otherwise
        (DistrolessChoice); else the base like the builder's, planned from the state before the try."""
        self.auto_distroless = False
        if self.options.runtime in (select.AUTO, "distroless"):
            self.static_node = self._static_reason()
        if self.options.runtime != select.AUTO or mode == "static" or self._distroless_out_of_reach():
            return self._server_plan_on(mode)
        saved = {k: v.copy() if isinstance(v, (list, set, dict)) else v for k, v in vars(self).items()}
        self.auto_distroless = True
        try:
            plan = self._server_plan_on(mode)
        except Skip:
            plan = None  # a command, RUN step, package or CLI distroless cannot have: the usual base, quietly
        why = self._distroless_blocker() if plan is not None else None
        if plan is not None and why is None:
            return plan
        vars(self).clear()
        vars(self).update(saved)
        if why:
            rather = "static with the builder's own node" if self.static_node else f"Node {self.facts.major}"
            self.note("DR601", f"auto keeps the slim image rather than distroless {rather}: {why}")
        return self._server_plan_on(mode)

    def _server_plan_on(self, mode: str) -> BuildPlan:
        if self.facts.workdir == "/" and self.stage.last("USER") is None and not self.options.keep_root:
            self.options = dataclasses.replace(self.options, keep_root=True)
            self.note(
                "DR203",
                "the app lives in / (no WORKDIR), which only root can write, and it may write next to itself: the "
                "runtime keeps root, as the original did (give it a WORKDIR to run it as the node user)",
            )
        rt, image = self._runtime_image()
        standalone = mode == "next" and nout.next_standalone(self.ctx)
        entries = self._entries()
        built = bool(self.outputs) and bool(entries) and all(self._in_outputs(e) for e in entries)
        if mode == "next":
            built = True
        needs_builder = self._has_build() or mode == "next"
        user = self._user(rt)
        chown = self._chown(rt, user)
        workdir = self.facts.workdir
        app = self.facts.app_dir
        artifacts: list[ops.Op] = []
        carried: list[str] = []

        def dest(path: str) -> str:
            if workdir != "/" and path == workdir:
                return "."
            if workdir != "/" and path.startswith(workdir.rstrip("/") + "/"):
                return "./" + path[len(workdir.rstrip("/")) + 1 :]
            return path

        def from_builder(rel: str) -> ops.Op:
            return self._copy(chown, [self._at(rel)], dest(self._at(rel)), "builder")

        if not standalone:
            modules = self._at("node_modules")
            artifacts.append(self._copy(chown, [modules], dest(modules), "deps"))
        if mode == "next" and standalone:
            artifacts.append(self._copy(chown, [self._at(".next/standalone")], dest(app), "builder"))
            artifacts.append(from_builder(".next/static"))
            if "public" in self.facts.copied_entries:
                artifacts.append(from_builder("public"))
        elif mode == "next":
            for rel in [".next", "public", nout.next_config(self.ctx)]:
                if rel and (rel == ".next" or rel in self.facts.copied_entries):
                    artifacts.append(from_builder(rel))
            for rel in self._env_files():
                artifacts.append(from_builder(rel))
                carried.append(rel)
        elif built:
            dirs = [
                rel
                for rel in RUNTIME_DIRS
                if rel in self.facts.copied_entries and not self._in_outputs(rel) and self.ctx.is_dir(rel)
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
        if self.facts.pkg.has("@prisma/client") and not standalone:
            artifacts.append(from_builder("node_modules/.prisma"))
            needs_builder = True
        if carried:
            self.note("DR302", "runtime files carried into the final stage: " + ", ".join(carried))
        runtime_runs = self._runtime_runs(rt)
        artifacts += runtime_runs

        replace: dict[str, str | None] = {}
        if user is not None:
            replace["USER"] = user
        replace.update(self._command_rewrites(rt, standalone))
        if rt is distroless.NODE_STATIC:
            replace = self._static_commands(rt, replace)
        contract = contract_steps(self.stage, frozenset(), replace)
        if standalone:
            contract = self._with_standalone_env(contract)
        self._name_node_user(contract)
        self.rewritten |= {k for k in replace if k in ("CMD", "ENTRYPOINT")}

        setup, found = self._runtime_setup(rt, replace, user, chown, standalone)
        env_files = self._env_files()
        if env_files:
            self.loads += env_files
            why = self._start_files().loader or "dotenv"
            if self._start_files().compiled:
                why += f"; the compiled app reads it from the working directory, {self.facts.workdir}"
            self.note("DR301", writes.baked_note(env_files, why))

        extra: list[list[ops.Op]] = []
        self.dev_at_runtime = self._dev_at_runtime() if not standalone else []
        first = self._deps_stage() if not standalone else None
        if needs_builder:
            builder = self._builder_stage(self.start_build)
            if self.facts.pkg.has("@prisma/client") and not any("prisma generate" in s.text for s in builder):
                builder.append(ops.step("RUN npx prisma generate", ("# The Prisma client the runtime loads",)))
                self.note(
                    "DR105",
                    "@prisma/client: the builder runs `prisma generate` and the runtime copies node_modules/.prisma",
                )
            if first is None:
                first, extra = builder, []
            else:
                extra = [builder]
        first = self._with_folders_made(first, rt, found)
        first, setup = self._linked_steps(rt, image, first, setup, standalone)
        return self._assemble(
            rt.name,
            image,
            builder=first,
            extra=extra,
            setup=setup,
            artifacts=artifacts,
            contract=contract,
            workdir=workdir if workdir != "/" or self.stage.find("WORKDIR") else None,
            note=self._note(rt, mode, standalone),
        )

    def _note(self, rt: Runtime, mode: str, standalone: bool) -> str:
        what = (
            "the standalone Next.js server and its static files"
            if standalone
            else "production node_modules, the app and package.json"
        )
        if self.dev_at_runtime:
            if self.dev_programs:
                what = f"node_modules with the dev dependencies the start command runs ({', '.join(self.dev_programs)})"
                return f"{self._image_note(rt)}; {what}, the app and package.json"
            what = "node_modules with the dev dependencies the app loads, the app and package.json"
            return f"{self._image_note(rt)}; {what}, no compilers"
        return f"{self._image_note(rt)}; {what}, no compilers or dev dependencies"

    def _assemble(self, runtime, image, builder, extra, setup, artifacts, contract, workdir, note) -> BuildPlan:
        texts = [s.text for s in setup + artifacts + contract]
        return BuildPlan(
            language="node",
            runtime=runtime,
            header=list(self.model.header),
            global_args=[ops.step(a.text, a.comments) for a in self.model.global_args],
            builder=builder,
            runtime_from=ops.step(f"FROM {image} AS runtime"),
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
            intents=self.intents,
            loads=list(self.loads),
        )
