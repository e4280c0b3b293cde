"""Python: dependencies installed in a builder on the original image, the app on the matching slim image."""

from __future__ import annotations

from dockrewrite import ops
from dockrewrite.contract import arg_redeclarations, env_step
from dockrewrite.notes import Note
from dockrewrite.plan import BuildPlan
from dockrewrite.providers import writes
from dockrewrite.providers.base import image_name
from dockrewrite.providers.common import Planner, chain, run_prefix
from dockrewrite.providers.python import deps
from dockrewrite.providers.python import distroless as python_distroless
from dockrewrite.providers.python.analyse import PythonFacts, analyse
from dockrewrite.providers.python.install import BuilderStage
from dockrewrite.providers.python.layout import UV_PYTHON, Item
from dockrewrite.providers.python.managers import EnvManagers
from dockrewrite.providers.python.packages import RuntimePackages
from dockrewrite.providers.python.runtime import RuntimeBase
from dockrewrite.providers.python.start import StartCommand
from dockrewrite.providers.python.strategy import InstallStrategy
from dockrewrite.providers.python.user import RuntimeUser
from dockrewrite.results import Skip
from dockrewrite.runtimes.base import Runtime


class PythonPlanner(
    StartCommand, RuntimeBase, InstallStrategy, EnvManagers, BuilderStage, RuntimePackages, RuntimeUser, Planner
):
    """Plans one python Dockerfile: classify its RUNs, then write the builder and runtime stages."""

    # `ENTRYPOINT []` (uv's Docker example) is carried as it is: the runtime's python image has no entrypoint
    # to reset, and the line keeps the contract the same
    command_reset_ok = True
    facts: PythonFacts

    def plan(self) -> BuildPlan:
        stage = self.stage
        self.refuse_unsupported()
        facts = self.facts = analyse(self)
        image = facts.image
        if facts.uv_image:
            # uv's images are the official python image with uv added: the runtime is that python image
            self.note(
                "DR501",
                f"{stage.image} is {facts.uv_image} with uv added: the runtime is built on that python image"
                + (", and gets uv from the builder because the command calls it" if self._calls_uv() else ""),
            )
        elif image_name(image) == "uv":
            raise Skip(
                f"{stage.image} has no Python of its own (uv downloads one at build time); use one of uv's "
                "python3.X images or the official python image with uv copied in",
                stage.from_.line,
            )
        if image_name(image) != "python":
            raise Skip(
                f"the base image {stage.image} is not an official python image, so where its interpreter and "
                "site-packages live is not known",
                stage.from_.line,
            )
        if not facts.has_command:
            if facts.uv_image:
                raise Skip(
                    f"no CMD or ENTRYPOINT: {stage.image} runs uv by default, which a python runtime does not",
                    stage.from_.line,
                )
            self._refuse_outside_command()
            self.note(
                "DR103",
                "no CMD or ENTRYPOINT: the runtime keeps the python image's default command, as the original did; "
                "the real command comes from outside (compose `command:`, `docker run`) and must exist in the runtime",
            )
        # under --runtime distroless: static, with the builder's interpreter and every library it links copied in
        self.distroless = False
        if facts.unsplittable is not None:
            raise Skip(
                "this RUN mixes dependency installs with app steps through pipes or `||`; split it "
                "into separate RUN instructions",
                facts.unsplittable,
            )
        items = list(facts.items)
        last_dep = facts.last_dep
        if last_dep < 0 or not facts.installs:
            raise Skip("no pip, Poetry, Pipenv or uv install was found: nothing to build separately", stage.from_.line)
        self.split = self._split_requirements(items)
        self.non_root = self._runs_unprivileged(items)
        runtime_image, rt = self._runtime_image(image)
        self.uv_python = self._uv_python(items)
        strategy = self._strategy(items)
        self.keep_dev = self._dev_tools_at_run_time()
        builder = self._builder(items, last_dep, strategy)
        self.writes_build: list[str] = []  # folders the builder makes for a shell-less runtime to copy in owned
        self.linked_scan: list[str] = []  # -dev packages the table has no runtime package for
        runtime_steps, setup, artifacts = self._runtime(items, last_dep, strategy, rt)
        if self.writes_build:
            builder = writes.with_build_step(builder, self.writes_build)
        if self.linked_scan:
            known = setup[0] if setup and isinstance(setup[0], ops.Install) else None
            scan, install = self._linked_libraries(strategy, list(known.packages) if known else [])
            builder.append(scan)
            setup[0 : 1 if known else 0] = install
        if self.uv_python:
            artifacts.insert(0, ops.step(f"COPY --from=builder {UV_PYTHON} {UV_PYTHON}"))
        if self.poe_config:
            # poe reads its tasks from pyproject.toml at run time; the runtime leaves manifest-only COPYs out
            artifacts.append(ops.step(f"COPY --from=builder {self.poe_config} {self.poe_config}"))
            self.note("DR302", f"the command runs poe, which reads {self.poe_config} at run time: the runtime has it")
        if self.facts.uv_image and self._calls_uv():
            self._refuse_runtime_uv()
            artifacts.append(ops.step("COPY --from=builder /usr/local/bin/uv /usr/local/bin/uvx /usr/local/bin/"))
        extra_stages: list[list[ops.Op]] = []
        runtime_name = "runtime"
        source = "builder"
        if self.split:
            extra_stages, source = self._split_stages(runtime_steps)
            artifacts = [ops.step(a.text.replace("--from=builder", f"--from={source}")) for a in artifacts]
            runtime_name = "production"
        if self.distroless:
            # gathered last in the stage the runtime copies the virtualenv from, so every package is in it
            gather = python_distroless.gather_steps(runtime_image.split(":")[0])
            (builder if source == "base" or not extra_stages else extra_stages[-1]).extend(gather)
            artifacts[0:0] = python_distroless.copy_steps(source)
        texts = [s.text for s in runtime_steps + setup + artifacts]
        self._import_warnings(items)
        return BuildPlan(
            language="python",
            runtime=rt.name,
            header=list(self.model.header),
            global_args=[ops.step(a.text, a.comments) for a in self.model.global_args],
            builder=builder,
            runtime_from=ops.step(f"FROM {runtime_image} AS {runtime_name}"),
            extra_stages=extra_stages,
            runtime_args=arg_redeclarations(stage, texts),
            runtime_setup=setup,
            artifacts=artifacts,
            contract=runtime_steps,
            footer=list(self.model.footer),
            warnings=self.warnings,
            note=self._note(rt, strategy),
            rewritten=self.rewritten,
            intents=self.intents,
            loads=list(self.loads),
        )

    def _platform(self) -> str:
        return f"--platform={self.stage.platform} " if self.stage.platform else ""

    def _runtime(self, items: list[Item], last_dep: int, strategy: str, rt: Runtime):
        stage = self.stage
        setup: list[ops.Op] = []
        packages = self._runtime_packages(items, rt)
        packages += [p for p in self._runtime_tools(items, last_dep, rt) if p not in packages]
        env = self.facts.env
        non_root = self.non_root
        self.added_user: ops.Op | None = None  # the USER line the rewrite adds (develop stages leave it out)
        workdir = self.facts.workdir
        self.owner = self._run_as() if non_root else None
        setup += self._install_steps(packages, rt)
        missing_env = [f"{k}=1" for k in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED") if k not in env]
        if missing_env:
            setup.append(ops.step("ENV " + " ".join(missing_env)))
            self.note("DR603", f"adds ENV {' '.join(missing_env)}: no .pyc files in the image, logs not buffered")
        found = self._writes(workdir) if non_root else None
        if found is not None:
            setup += self._user_steps(rt, found)
            self.warnings += [Note("DR204", n) for n in writes.notes(found, self._user_label())]
        self._env_files()
        artifacts = self._copy_packages(strategy, non_root)

        steps: list[ops.Op] = []
        for index, it in enumerate(items):
            ins = it.ins
            k = ins.keyword
            if k == "ARG":
                continue  # redeclared at the top where the carried lines use them
            if k in ("COPY", "ADD"):
                if ins.flag("from") is not None:
                    if index > last_dep:
                        steps.append(ops.step(self._numeric_chown(ins), ins.comments))  # earlier ones bring build tools
                elif not self._copies_manifests_only(ins):
                    steps.append(ops.step(self._app_copy(ins), ins.comments))
                continue
            if k == "RUN":
                step = None
                if it.role == "runtime" or (it.role == "neutral" and index > last_dep):
                    step = ops.step(writes.tolerant_mkdir(ins.text), ins.comments)
                elif it.role == "split":
                    app = [s for s in it.segments if s.kind in (deps.APP, deps.NEUTRAL) and s.words[:1] != ["rm"]]
                    if any(s.kind == deps.APP for s in app):
                        step = ops.step(writes.tolerant_mkdir(chain(run_prefix(ins.text), app)), ins.comments)
                if step is not None:
                    self._refuse_runtime_shell(ins)
                    steps.append(step)
                continue
            if k in ("USER", "CMD", "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL") and ins is not stage.last(k):
                continue
            if self.distroless and k in ("USER", "CMD", "ENTRYPOINT", "HEALTHCHECK"):
                steps.extend(self._distroless_step(ins))
                continue
            if k in ("CMD", "ENTRYPOINT"):
                direct = self._direct_text(ins)
                if direct is not None:
                    self.note(
                        "DR101",
                        f"{k} (line {ins.line}) runs the command directly: the runtime has the "
                        f"environment on PATH and no {ins.shell.split()[0]} to run it with",
                    )
                    steps.append(ops.step(direct, ins.comments))
                    self.rewritten.add(k)
                    continue
            if k == "ENV":
                step = env_step(ins, frozenset())
                if step is not None:
                    steps.append(ops.step(step.text, ins.comments))
                continue
            steps.append(ops.step(ins.text, ins.comments))
        if non_root:
            at = next(
                (
                    i
                    for i, s in enumerate(steps)
                    if s.text.split(None, 1)[0].upper() in ("HEALTHCHECK", "ENTRYPOINT", "CMD")
                ),
                len(steps),
            )
            self.added_user = ops.step(f"USER {self._run_as()}")
            steps.insert(at, self.added_user)
            self.note("DR201", self._added_user_note())
        return steps, setup, artifacts
