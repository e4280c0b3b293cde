"""The Go planner: reads the stage, picks the binary and the runtime, and assembles the BuildPlan."""

from __future__ import annotations

from dockrewrite import ops
from dockrewrite.context import BuildContext
from dockrewrite.contract import arg_redeclarations, contract_steps
from dockrewrite.intents import CommandChanged
from dockrewrite.model import DockerfileModel
from dockrewrite.notes import Note
from dockrewrite.plan import BuildPlan, Options
from dockrewrite.providers import linked, writes
from dockrewrite.providers.base import image_name
from dockrewrite.providers.go import go_run
from dockrewrite.providers.go import runtime as runtimes
from dockrewrite.providers.go.analyse import GO_BUILD_ENV, AnalyseMixin, GoFacts
from dockrewrite.providers.go.builder import BuilderMixin
from dockrewrite.providers.go.files import FilesMixin
from dockrewrite.providers.go.runtime import RuntimeMixin
from dockrewrite.providers.go.start import StartMixin
from dockrewrite.providers.go.user import UserMixin
from dockrewrite.runtimes.base import Runtime


class GoPlanner(AnalyseMixin, StartMixin, BuilderMixin, RuntimeMixin, UserMixin, FilesMixin):
    """One Dockerfile's plan; each concern lives in its mixin's module."""

    def __init__(self, model: DockerfileModel, ctx: BuildContext, options: Options):
        super().__init__(model, ctx, options)
        self.golang_image = image_name(self.stage.image) == "golang"
        self.from_go_run = False  # planning the model go_run.apply made

    def plan(self) -> BuildPlan:
        self.refuse_unsupported()
        run = go_run.find(self.model) if not self.from_go_run else None
        if run is not None:
            planner = GoPlanner(go_run.apply(self.model, run), self.ctx, self.options)
            planner.from_go_run = True
            plan = planner.plan()
            # this planner's own notes (why root is kept) are not repeated by the one planning the rewritten model
            plan.warnings[:0] = [
                Note(
                    "DR102",
                    f"{run.keyword} compiled the program with `go run` at every start: the builder builds it once "
                    f"({run.binary}) and the runtime runs the binary with the same arguments",
                ),
                *(w for w in self.warnings if w not in plan.warnings),
            ]
            plan.rewritten = set(plan.rewritten) | {run.keyword}
            plan.intents = [*plan.intents, CommandChanged("go-run", (run.binary,), prefix=True)]
            return plan
        facts = self._analyse()
        rt, runtime_image, setup = self._runtime(facts)
        return self._assemble(facts, rt, runtime_image, setup)

    def _assemble(self, facts: GoFacts, rt: Runtime, runtime_image: str, setup: list[ops.Op]) -> BuildPlan:
        stage = self.stage
        builder = self._builder_steps(facts)

        workdir = facts.workdir
        replace: dict[str, str | None] = {}
        binaries = self._binaries(facts)
        runtime_user = self._user(facts, rt)
        if runtime_user is not None:
            replace["USER"] = runtime_user
        replace.update(self._command_rewrites(facts, rt, binaries))
        contract = contract_steps(stage, GO_BUILD_ENV, replace)

        chown = runtime_user if runtime_user and runtime_user != "USER root" else None
        made_writable: list[str] = []
        if chown:
            owner = chown[5:]
            found = self._writes(facts)
            if found.paths and rt.shell:
                setup = [*setup, ops.step(f"RUN {writes.own_folders(found.paths, owner)}", (writes.COMMENT,))]
            elif found.paths:
                builder = writes.with_build_step(builder, found.paths)
                setup = [*setup, *writes.copy_steps(found.paths, owner, "builder")]
            self.warnings += [Note("DR204", n) for n in writes.notes(found, owner)]
            made_writable = list(found.paths)
        artifacts = self._artifacts(facts, chown, binaries, made_writable)
        if self.gather_libraries is not None:
            builder, artifacts = self._with_linked_libraries(builder, artifacts, binaries)

        texts = [s.text for s in contract + artifacts]
        runtime_from = "FROM " + (f"--platform={stage.platform} " if self._keep_platform() else "") + runtime_image
        plan = BuildPlan(
            language="go",
            runtime=rt.name,
            header=list(self.model.header),
            global_args=[ops.step(a.text, a.comments) for a in self.model.global_args],
            builder=builder,
            runtime_from=ops.step(runtime_from + " AS runtime"),
            runtime_args=arg_redeclarations(stage, texts),
            runtime_setup=setup,
            workdir=workdir,
            artifacts=artifacts,
            contract=contract,
            footer=list(self.model.footer),
            warnings=self.warnings,
            note=runtimes.runtime_note(rt, facts.cgo, self.runtime_reason),
            rewritten={k for k in replace if k in ("CMD", "ENTRYPOINT")},
            intents=self.intents,
            loads=list(self.loads),
        )
        return plan

    def _with_linked_libraries(self, builder: list[ops.Op], artifacts: list[ops.Op], binaries) -> tuple[list, list]:
        """The builder gathers the shared libraries the binaries link that the base lacks; the runtime copies them
        in before the binaries."""
        rt, image, codename = self.gather_libraries
        paths = [built for built, _ in binaries]
        gather = linked.gather(
            paths,
            paths[0],
            codename,
            image,
            rt.libraries,
            (
                f"# The shared libraries the CGO binary links that {image.rsplit('/', 1)[-1]} lacks, copied under",
                f"# {linked.LIBS_TREE} at their own paths. The loader lists what the binary needs as the runtime will",
                "# look for it (no ld.so.cache), and a library it cannot find fails the build, as does a builder",
                "# of another Debian release than the runtime's",
            ),
        )
        self.note(
            "DR602",
            f"the CGO binary links libraries of the -dev packages the original installs: the builder gathers what "
            f"{rt.name} {rt.variant} lacks with the loader ({linked.LIBS_TREE}) and the runtime copies them; a library "
            "the program opens itself (dlopen) is not linked, so it is not found: such a program needs --runtime slim",
        )
        copy = linked.copy("builder", ("# The shared libraries the binary links, at their own paths",))
        return [*builder, gather], [copy, *artifacts]
