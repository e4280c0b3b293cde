"""Python: dependencies installed in a builder on the original image, the app on the matching slim image."""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from dataclasses import dataclass
from functools import cached_property

from dockrewrite import images, shell, syslibs, tools
from dockrewrite.context import BuildContext
from dockrewrite.contract import arg_redeclarations, env_step, stage_env
from dockrewrite.model import Command, DockerfileModel, Instruction
from dockrewrite.plan import BuildPlan, Options, Step
from dockrewrite.providers import python_deps as deps
from dockrewrite.providers import writes
from dockrewrite.providers.base import LanguageSignals, Provider, image_name
from dockrewrite.providers.common import (
    Planner,
    chain,
    global_args,
    healthcheck_command,
    package_step,
    resolved_image,
    run_prefix,
)
from dockrewrite.results import Skip

VENV = "/opt/venv"
TOOLS = "/opt/tools"  # build tools (Poetry, Pipenv …) on a Debian builder, kept out of VENV and the runtime
PREFIX = "/install"
_LINKED_LIST = "/tmp/linked-packages.txt"  # Debian packages the built modules link, listed in the builder
UV_PYTHON = "/opt/uv-python"  # where the builder has uv put a Python it downloads (UV_PYTHON_INSTALL_DIR)
APP_UID = "10001"
NONROOT = images.NONROOT
_PIP_ITSELF = frozenset({"pip", "setuptools", "wheel"})
_COMPILERS = frozenset({"gcc", "g++", "clang", "build-essential", "make", "cmake"})
_PYTHON_PROGRAM = re.compile(r"^(/usr/local/bin/)?(python3?(\.\d+)?|pip3?)$")
# Programs a build step may call that a slim runtime does not have: such steps cannot move there.
_BUILD_PROGRAMS = frozenset(
    {"gcc", "g++", "cc", "make", "cmake", "git", "npm", "npx", "node", "yarn", "pnpm", "cargo", "go", "curl", "wget"}
)
_DEV_FILES = (
    "requirements.dev.txt",
    "requirements-dev.txt",
    "dev-requirements.txt",
    "requirements_dev.txt",
    "requirements/dev.txt",
    "requirements/development.txt",
    "requirements/local.txt",
)
_PROD_FILES = (
    "requirements.prod.txt",
    "requirements-prod.txt",
    "prod-requirements.txt",
    "requirements_prod.txt",
    "requirements/prod.txt",
    "requirements/production.txt",
)
_BASE_FILES = ("requirements.txt", "requirements/base.txt", "requirements/common.txt")


@dataclass
class _Item:
    ins: Instruction
    role: str  # builder | runtime | both | split | meta
    segments: list[deps.Segment]


class PythonProvider(Provider):
    language = "python"
    supported = True
    signals = LanguageSignals(
        "python",
        re.compile(r"^(python|pypy)$|^python\d"),
        re.compile(
            r"\b(pip3?\s+install|python3?\s+-m\s+pip|poetry\s+(install|export)|pipenv\s+(install|sync|requirements)"
            r"|uv\s+(sync|pip)|gunicorn|uvicorn|python3?\s+\S+\.py)\b"
        ),
        (
            "requirements.txt",
            "pyproject.toml",
            "setup.py",
            "setup.cfg",
            "Pipfile",
            "Pipfile.lock",
            "poetry.lock",
            "uv.lock",
        ),
        ("requirements*.txt",),
    )

    def plan(self, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
        return _PythonPlanner(model, ctx, options).plan()


class _PythonPlanner(Planner):
    # `ENTRYPOINT []` (uv's Docker example) is carried as it is: the runtime's python image has no entrypoint
    # to reset, and the line keeps the contract the same
    command_reset_ok = True

    # -- analysis ---------------------------------------------------------------------------
    def plan(self) -> BuildPlan:
        stage = self.stage
        self.refuse_unsupported()
        image = resolved_image(self.model)
        self.image_text = stage.image
        self.uv_image = _uv_python_image(image)
        if self.uv_image:
            # uv's images are the official python image with uv added: the runtime is that python image
            self.warnings.append(
                f"{stage.image} is {self.uv_image} with uv added: the runtime is built on that python image"
                + (", and gets uv from the builder because the command calls it" if self._calls_uv() else "")
            )
            image = self.image_text = self.uv_image
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
        if stage.last("CMD") is None and stage.last("ENTRYPOINT") is None:
            if self.uv_image:
                raise Skip(
                    f"no CMD or ENTRYPOINT: {stage.image} runs uv by default, which a python runtime does not",
                    stage.from_.line,
                )
            if self.options.runtime == "distroless":
                raise Skip(
                    "no CMD or ENTRYPOINT: the command comes from outside the Dockerfile, and distroless python "
                    "cannot run a shell command line it might be given",
                    stage.from_.line,
                )
            self.warnings.append(
                "no CMD or ENTRYPOINT: the runtime keeps the python image's default command, as the original did; "
                "the real command comes from outside (compose `command:`, `docker run`) and must exist in the runtime"
            )
        self.alpine = "alpine" in images.tag_of(image)
        # (runtime image, Debian builder image, its Python) under --runtime distroless
        self.distroless: tuple[str, str, str] | None = None
        items = self._classify()
        last_dep = max(
            (i for i, it in enumerate(items) if it.role in ("builder", "split") and not self._runtime_only(it)),
            default=-1,
        )
        if last_dep < 0 or not any(s.kind == deps.PIP for it in items for s in it.segments):
            raise Skip("no pip, Poetry, Pipenv or uv install was found: nothing to build separately", stage.from_.line)
        self.split = self._split_requirements(items)
        self.non_root = self._runs_unprivileged(items)
        runtime_image, runtime = self._runtime_image(image)
        self.uv_python = self._uv_python(items)
        strategy = self._strategy(items)
        self.keep_dev = self._dev_tools_at_run_time()
        builder = self._builder(items, last_dep, strategy)
        self.writes_build: list[str] = []  # folders the builder makes for a shell-less runtime to copy in owned
        self.linked_scan: list[str] = []  # -dev packages the table has no runtime package for
        runtime_steps, setup, artifacts = self._runtime(items, last_dep, strategy, runtime)
        if self.writes_build:
            builder = writes.with_build_step(builder, self.writes_build)
        if self.linked_scan:
            known = re.search(r"--no-install-recommends (.*?) \\\n", setup[0].text) if setup else None
            scan, install = self._linked_libraries(strategy, known.group(1).split() if known else [])
            builder.append(scan)
            setup[0 : 1 if known else 0] = install
        if self.uv_python:
            artifacts.insert(0, Step(f"COPY --from=builder {UV_PYTHON} {UV_PYTHON}"))
        if self.poe_config:
            # poe reads its tasks from pyproject.toml at run time; the runtime leaves manifest-only COPYs out
            artifacts.append(Step(f"COPY --from=builder {self.poe_config} {self.poe_config}"))
            self.warnings.append(f"the command runs poe, which reads {self.poe_config} at run time: the runtime has it")
        if self.uv_image and self._calls_uv():
            if self.distroless:
                raise Skip("the command calls uv, which the distroless image does not have", self.stage.from_.line)
            artifacts.append(Step("COPY --from=builder /usr/local/bin/uv /usr/local/bin/uvx /usr/local/bin/"))
        extra_stages: list[list[Step]] = []
        runtime_name = "runtime"
        if self.split:
            extra_stages, source = self._split_stages(runtime_steps)
            artifacts = [Step(a.text.replace("--from=builder", f"--from={source}")) for a in artifacts]
            runtime_name = "production"
        texts = [s.text for s in runtime_steps + setup + artifacts]
        self._import_warnings(items)
        return BuildPlan(
            language="python",
            runtime=runtime,
            header=list(self.model.header),
            global_args=[Step(a.text, a.comments) for a in self.model.global_args],
            builder=builder,
            runtime_from=Step(f"FROM {runtime_image} AS {runtime_name}"),
            extra_stages=extra_stages,
            runtime_args=arg_redeclarations(stage, texts),
            runtime_setup=setup,
            artifacts=artifacts,
            contract=runtime_steps,
            footer=list(self.model.footer),
            warnings=self.warnings,
            note=self._note(runtime, strategy),
            rewritten=self.rewritten,
            loads=list(self.loads),
        )

    def _classify(self) -> list[_Item]:
        items: list[_Item] = []
        for ins in self.stage.instructions:
            if ins.keyword != "RUN":
                items.append(_Item(ins, "meta", []))
                continue
            if ins.flag("mount") is not None and "type=secret" not in (ins.flag("mount") or ""):
                pass  # cache and bind mounts only speed up the step; it is classified like any other
            segments = deps.classify(ins.shell)
            kinds = {s.kind for s in segments}
            has_dep = bool(kinds & {deps.SYSTEM, deps.PIP, deps.TOOL})
            has_app = deps.APP in kinds
            if has_dep and has_app:
                if re.search(r"\|\||(?<!\|)\|(?!\|)", ins.shell) or ins.heredocs:
                    raise Skip(
                        "this RUN mixes dependency installs with app steps through pipes or `||`; split it "
                        "into separate RUN instructions",
                        ins.line,
                    )
                role = "split"
            elif has_dep:
                role = "builder"
            elif has_app:
                role = "runtime"
            else:
                role = "neutral"
            items.append(_Item(ins, role, segments))
        return items

    def _linked_libraries(self, strategy: str, known: list[str]) -> tuple[Step, list[Step]]:
        """For -dev packages with no known runtime package: a builder step that writes the Debian packages
        owning the shared libraries the installed modules link (ldd over every .so, dpkg -S on each library,
        trying both sides of the /usr merge), and the runtime steps that install them from that list."""
        where = {"prefix": PREFIX, "venv": VENV, "user": "/root/.local"}[strategy]
        self.warnings.append(
            f"no known runtime package for {', '.join(self.linked_scan)}: the builder lists the Debian packages of "
            f"the shared libraries the modules in {where} link (ldd, dpkg -S) in {_LINKED_LIST}, and the runtime "
            "installs them (its release must be the builder's)"
        )
        scan = Step(
            f"RUN find {where} -name '*.so*' -type f -exec ldd {{}} + 2>/dev/null \\\n"
            "    | awk '$2 == \"=>\" && $3 ~ /^\\// {print $3}' | sort -u \\\n"
            "    | while read -r lib; do \\\n"
            '        dpkg -S "$lib" || dpkg -S "/usr$lib" || dpkg -S "${lib#/usr}" \\\n'
            '        || dpkg -S "$(readlink -f "$lib")"; \\\n'
            f"      done 2>/dev/null | grep -v '^diversion' | cut -d: -f1 | sort -u > {_LINKED_LIST}",
            (
                f"# No known runtime package for {', '.join(self.linked_scan)}: list the Debian packages of the",
                "# shared libraries the built modules link, for the runtime to install (a library dpkg does",
                "# not own, such as one a wheel bundles, is not a package: failures in the pipe are expected)",
                "# hadolint ignore=DL4006",
            ),
        )
        install = [
            Step(f"COPY --from=builder {_LINKED_LIST} {_LINKED_LIST}"),
            Step(
                "RUN apt-get update \\\n"
                f" && apt-get install -y --no-install-recommends {''.join(p + ' ' for p in known)}"
                f"$(cat {_LINKED_LIST}) \\\n"
                f" && rm -rf /var/lib/apt/lists/* {_LINKED_LIST}",
                (
                    "# Shared libraries the app needs at run time"
                    + (", and those the built modules link (listed in the builder)" if known else ""),
                    "# hadolint ignore=DL3008,SC2046",
                )
                if known
                else (
                    "# The shared libraries the built modules link, listed in the builder",
                    "# hadolint ignore=DL3008,SC2046",
                ),
            ),
        ]
        return scan, install

    def _direct_text(self, ins: Instruction) -> str | None:
        """CMD/ENTRYPOINT as the runtime runs it, when that differs: a poe task resolved to the command it runs,
        or `uv run`/`poetry run` … taken off. None to keep the line."""
        return self.task_commands.get(ins.keyword) or _without_runner(ins)

    def _dev_groups(self) -> tuple[set[str], set[str]]:
        """(packages only the `dev` group has, that group's name as the installs leave it out) from pyproject:
        Poetry's group.dev / dev-dependencies, or [dependency-groups] dev / tool.uv.dev-dependencies for uv."""
        data = self.pyproject or {}
        poetry = _table(data, "tool", "poetry")
        main = {deps.spec_name(d) for d in _list(_table(data, "project").get("dependencies")) if isinstance(d, str)}
        main |= {deps.normalize(n) for n in _table(poetry, "dependencies") if n != "python"}
        dev = {deps.normalize(n) for n in _table(poetry, "group", "dev", "dependencies")}
        dev |= {deps.normalize(n) for n in _table(poetry, "dev-dependencies")}
        uv_dev = _list(_table(data, "dependency-groups").get("dev")) + _list(
            _table(data, "tool", "uv").get("dev-dependencies")
        )
        dev |= {deps.spec_name(d) for d in uv_dev if isinstance(d, str)}
        return dev - main - {""}, main

    def _dev_tools_at_run_time(self) -> str | None:
        """When the command (or the poe/make task it runs) calls a program only the dev group installs, the
        runtime keeps the dev group: the reason, else None. A poe task that is a plain command is resolved to
        it instead, so poe itself is not needed (self.task_commands)."""
        self.task_commands: dict[str, str] = {}
        self.poe_config: str | None = None  # where the image has the pyproject.toml poe reads at run time
        dev_only, _main = self._dev_groups()
        if not dev_only:
            return None
        for keyword in ("ENTRYPOINT", "CMD"):
            ins = self.stage.last(keyword)
            if ins is None or not ins.args:
                continue
            argv = _direct_command(ins).as_simple_argv()
            if not argv:
                continue
            program = posixpath.basename(argv[0])
            if program == "poe" or list(argv[:3]) == [argv[0], "-m", "poethepoet"] and _PYTHON_PROGRAM.match(program):
                rest = list(argv[1:]) if program == "poe" else list(argv[3:])
                while rest and rest[0] in _POE_OUTPUT_OPTIONS:
                    rest = rest[1:]  # they change what poe itself prints, not what the task runs
                resolved, why = self._poe_task(rest)
                self.poe_config = self._image_path_of("pyproject.toml")  # unless the task is resolved below
                if resolved is not None:
                    needs = _dev_package(resolved, dev_only)
                    if needs:
                        return self._keep_dev_note(ins, f"poe task `{rest[0]}` runs `{needs[0]}`", needs[1])
                    text = (
                        f"{keyword} {json.dumps(list(resolved.argv))}"
                        if resolved.exec_form
                        else f"{keyword} {resolved.shell}"
                    )
                    self.task_commands[keyword] = text
                    self.poe_config = None
                    self.warnings.append(
                        f"{keyword} (line {ins.line}) runs poe task `{rest[0]}` as what it runs "
                        f"(`{text[len(keyword) + 1 :]}`, from [tool.poe.tasks]): poe is a dev-group tool the runtime "
                        "leaves out"
                    )
                    continue
                if "poethepoet" in dev_only:
                    return self._keep_dev_note(ins, f"poe task `{rest[0] if rest else ''}` ({why})", "poethepoet")
            if program == "make" and len(argv) >= 2:
                for command in self._make_recipe(argv[1]):
                    needs = _dev_package(command, dev_only)
                    if needs:
                        return self._keep_dev_note(ins, f"make target `{argv[1]}` runs `{needs[0]}`", needs[1])
            needs = _dev_package(Command(True, tuple(argv)), dev_only)
            if needs:
                return self._keep_dev_note(ins, f"it runs `{needs[0]}`", needs[1])
        return None

    def _image_path_of(self, name: str) -> str | None:
        """Where a COPY without --from puts the context's top-level file `name` in the image."""
        for ins, dest, raw_sources in self.context_copies():
            sources = [a.removeprefix("./") for a in raw_sources]
            if name in sources:
                many = len(sources) > 1 or ins.args[-1].endswith("/")
                return posixpath.join(dest, name) if many else dest
        return None

    def _keep_dev_note(self, ins: Instruction, what: str, package: str) -> str:
        reason = f"{ins.keyword} (line {ins.line}): {what}, which only the dev dependency group installs ({package})"
        self.warnings.append(f"{reason}: the runtime keeps the dev group (no --without dev / --no-dev)")
        return reason

    def _poe_task(self, rest: list[str]) -> tuple[Command | None, str]:
        """The command a `poe TASK [args]` runs, from [tool.poe.tasks], when it is a plain command or shell line
        poe runs as it is (no env, cwd, deps, sequences or scripts); else (None, why)."""
        if not rest or rest[0].startswith("-"):
            return None, "poe options or no task name"
        poe = _table(self.pyproject or {}, "tool", "poe")
        if set(poe) - {"tasks"}:
            return None, f"[tool.poe] sets {', '.join(sorted(set(poe) - {'tasks'}))}"
        task = _table(poe, "tasks").get(rest[0])
        if isinstance(task, str):
            task = {"cmd": task}
        if not isinstance(task, dict):
            return None, "not a task in pyproject.toml's [tool.poe.tasks]" if task is None else "a sequence task"
        kinds = set(task) - {"help"}
        if kinds == {"cmd"} and isinstance(task["cmd"], str):
            line = task["cmd"].strip()
            if "\n" in line or re.search(r"[$*?\[~]", line):
                return None, "its cmd uses poe's variable or glob expansion"
            try:
                return Command(True, tuple(shlex.split(line) + rest[1:])), ""
            except ValueError:
                return None, "its cmd cannot be read"
        if kinds == {"shell"} and isinstance(task["shell"], str) and "\n" not in task["shell"].strip():
            if rest[1:]:
                return None, "a shell task given arguments"
            return Command(False, shell=task["shell"].strip()), ""
        return None, f"a task with {', '.join(sorted(kinds))}"

    def _make_recipe(self, target: str) -> list[Command]:
        """The commands of a Makefile target's recipe (read, never run); empty when not found."""
        text = self.ctx.read_text("Makefile") or self.ctx.read_text("makefile") or ""
        lines = text.splitlines()
        out: list[Command] = []
        for i, line in enumerate(lines):
            if re.match(rf"^{re.escape(target)}\s*:(?!=)", line):
                for body in lines[i + 1 :]:
                    if not body.startswith("\t"):
                        break
                    command = body.strip().lstrip("@-+").strip()
                    if command:
                        out.append(Command(False, shell=command))
                break
        return out

    def _uv_python(self, items: list[_Item]) -> str | None:
        """The Python uv installs for itself when the image's does not fit the project (`requires-python`,
        `.python-version`, uv.lock): uv then downloads one, and the virtualenv's `python` points into it.
        None when uv uses the image's Python."""
        uses_uv = any(
            s.words[:1] == ["uv"] and s.words[1:2] in (["sync"], ["run"], ["venv"], ["python"])
            for it in items
            for s in it.segments
        )
        if not uses_uv:
            return None
        version = self.distroless[2] if self.distroless else images.python_version(self.image_text)
        have = tuple(int(p) for p in version.split(".")) if version else None
        asks: list[str] = []
        pinned = deps.python_version_file(self.ctx.read_text(".python-version") or "")
        if pinned:
            asks.append(f".python-version asks for {pinned[0]}.{pinned[1]}")
        requires = _table(self.pyproject, "project").get("requires-python")
        lock_text = self.ctx.read_text("uv.lock") or ""
        lock_requires = re.search(r'(?m)^requires-python\s*=\s*"([^"]*)"', lock_text)
        specs = [("pyproject.toml's requires-python", requires)] + (
            [("uv.lock's requires-python", lock_requires.group(1))] if lock_requires else []
        )
        for it in items:
            for seg in it.segments:
                if seg.words[:3] == ["uv", "python", "install"]:
                    asks.append(f"`uv python install` (line {it.ins.line})")
        if have is None:
            if asks or any(isinstance(spec, str) and spec for _, spec in specs):
                self.warnings.append(
                    f"{self.image_text} does not say which Python it has: if it does not fit the project's "
                    "requires-python/.python-version, uv downloads one and the virtualenv would not run"
                )
            return None
        mismatch = [a for a in asks if "python install" in a] + ([asks[0]] if pinned and pinned != have else [])
        for where, spec in specs:
            if isinstance(spec, str) and deps.admits_python(spec, have) is False:
                mismatch.append(f"{where} is {spec}")
        if not mismatch:
            return None
        reason = "; ".join(dict.fromkeys(mismatch))
        if self.distroless:
            raise Skip(
                f"uv would install its own Python ({reason}), and the distroless runtime runs Debian's Python "
                f"{version}; use --runtime slim",
                self.stage.from_.line,
            )
        self.warnings.append(
            f"the image has Python {version} but {reason}: uv downloads its own Python, which the builder puts "
            f"in {UV_PYTHON} (UV_PYTHON_INSTALL_DIR) and the runtime copies to the same path, so the "
            f"virtualenv's python exists there; the runtime image's own Python {version} is not the app's"
        )
        return reason

    def _calls_uv(self) -> bool:
        """Whether the runtime's command (or the start script it runs) calls uv after `uv run` is taken off."""
        for keyword in ("CMD", "ENTRYPOINT"):
            ins = self.stage.last(keyword)
            if ins is None or not ins.args:
                continue
            command = _direct_command(ins)
            programs = tools.programs(command)[0] + self._script_programs(command)
            if any(posixpath.basename(p) in ("uv", "uvx") for p in programs):
                return True
        return False

    @staticmethod
    def _runtime_only(it: _Item) -> bool:
        """A RUN that only installs system packages the app uses at run time (nginx, ffmpeg, libpq5): the
        runtime installs them itself, so the builder need not run it, nor copy what comes before it."""
        segments = [s for s in it.segments if s.kind != deps.NEUTRAL]
        return any(s.packages for s in segments) and all(
            s.kind == deps.SYSTEM
            and "--virtual" not in s.words
            and not any(syslibs.is_dev(p) or p in syslibs.BUILD_ONLY for p in s.packages)
            for s in segments
        )

    def _split_requirements(self, items: list[_Item]) -> dict[str, str] | None:
        """Base + dev (+ prod) requirement files installed together: {role: path as the pip command names it}."""
        named: dict[str, str] = {}
        for it in items:
            for seg in it.segments:
                if seg.kind != deps.PIP:
                    continue
                for path in deps.pip_targets(seg.words)[0]:
                    for role, candidates in (("base", _BASE_FILES), ("dev", _DEV_FILES), ("prod", _PROD_FILES)):
                        if any(path == c or path.endswith("/" + c) for c in candidates):
                            named.setdefault(role, path)
        for role, candidates in (("dev", _DEV_FILES), ("prod", _PROD_FILES)):
            if role not in named:
                found = next((c for c in candidates if self.ctx.exists(c)), None)
                if found:
                    named[role] = "./" + found
        if "base" not in named or "dev" not in named:
            return None
        self.warnings.append(
            f"split requirements: stage `base` installs {named['base']}, `develop` adds {named['dev']} "
            "(docker build --target develop), and the default target `production` carries base"
            + (f" + {named['prod']}" if "prod" in named else "")
            + " only"
        )
        return named

    def _split_stages(self, runtime_steps: list[Step]) -> tuple[list[list[Step]], str]:
        split = self.split
        dev = split["dev"]
        develop = [
            Step(
                "FROM base AS develop",
                ("# Development target: docker build --target develop (compose: target: develop)",),
            ),
            Step(f"COPY {_context_path(dev)} {dev}"),
            Step(f"RUN pip install --no-cache-dir -r {dev}"),
        ] + [s for s in runtime_steps if s is not self.added_user]
        stages = [develop]
        source = "base"
        if "prod" in split:
            prod = split["prod"]
            stages.append(
                [
                    Step("FROM base AS builder", ("# Production dependencies on top of the shared base",)),
                    Step(f"COPY {_context_path(prod)} {prod}"),
                    Step(f"RUN pip install --no-cache-dir -r {prod}"),
                ]
            )
            source = "builder"
        return stages, source

    def _strategy(self, items: list[_Item]) -> str:
        managers = {s.words[0] for it in items for s in it.segments if s.kind == deps.PIP and s.words}
        env_managers = managers & {"poetry", "pipenv", "uv", "pdm"}
        requested = self.options.python_strategy
        if self.distroless:
            if requested in ("prefix", "user"):
                raise Skip(
                    f"--runtime distroless needs --python-strategy venv: its interpreter is Debian's "
                    f"/usr/bin/python3, which a {requested} install made for /usr/local does not reach",
                    self.stage.from_.line,
                )
            self.warnings.append(
                f"strategy venv: {VENV} is made with Debian's python3 in the builder, so its interpreter link "
                "points at /usr/bin/python3, which the distroless image has"
            )
            return "venv"
        if env_managers and requested in ("prefix", "user"):
            tool = sorted(env_managers)[0]
            raise Skip(
                f"{tool} installs into an environment; --python-strategy {requested} cannot hold it; use venv",
                next(it.ins.line for it in items if any(s.words[:1] == [tool] for s in it.segments)),
            )
        if requested != "auto":
            if self.split and requested != "venv":
                raise Skip(
                    f"split requirement targets share one environment between stages; --python-strategy "
                    f"{requested} cannot; use venv",
                    self.stage.from_.line,
                )
            return requested
        if self.split:
            return "venv"
        if env_managers:
            self.warnings.append(
                f"strategy venv: {', '.join(sorted(env_managers))} installs into {VENV}, which the runtime copies "
                "whole "
                + (f"with uv's Python from {UV_PYTHON}" if self.uv_python else "(same interpreter path in both images)")
            )
            return "venv"
        self.warnings.append(
            f"strategy prefix: packages installed under {PREFIX} in the builder are copied onto "
            "/usr/local, where the official python images keep site-packages and scripts"
        )
        return "prefix"

    def _runtime_image(self, image: str) -> tuple[str, str]:
        requested = self.options.runtime
        line = self.stage.from_.line
        if requested == "scratch":
            raise Skip("--runtime scratch cannot run this Python app: scratch has no interpreter", line)
        if requested == "distroless":
            return self._distroless_image(image), "distroless"
        if self.alpine:
            if requested == "slim":
                raise Skip("the builder is alpine (musl); packages built there do not run on Debian slim", line)
            return self.image_text, "alpine"
        if requested == "alpine":
            raise Skip("packages built on a Debian python image (glibc) do not run on alpine (musl)", line)
        return _slim_of(self.image_text), "slim"

    def _distroless_image(self, image: str) -> str:
        line = self.stage.from_.line
        if self.alpine:
            raise Skip("distroless python is Debian (glibc); packages built on alpine (musl) do not run there", line)
        found = images.distroless_python(images.family(image))
        if found is None:
            raise Skip(f"there is no distroless python image for the Debian release of {self.image_text}", line)
        for ins in self.stage.instructions:
            if re.search(r"/usr/local/(lib|bin)/python", ins.text):
                raise Skip(
                    "this line uses the official image's Python under /usr/local; distroless runs Debian's "
                    "/usr/bin/python3",
                    ins.line,
                )
        self.distroless = found
        runtime_image, builder, version = found
        original = images.python_version(image)
        self.warnings.append(
            f"distroless python runs Debian's Python {version} (/usr/bin/python3)"
            + (f", not the original's {original}" if original and original != version else "")
            + f": the builder is {builder} with Debian's python3-venv, so packages are installed for that Python"
        )
        return runtime_image + (":nonroot" if self.non_root else "")

    def _note(self, runtime: str, strategy: str) -> str:
        if self.distroless:
            python = self.distroless[2]
            return f"distroless python (Debian's Python {python}, no shell); the virtualenv {VENV} is copied whole"
        image = "the same alpine image" if runtime == "alpine" else "the slim image of the same Python"
        if self.uv_python:
            image = f"the {'same alpine' if runtime == 'alpine' else 'slim'} image with uv's Python in {UV_PYTHON}"
        where = {
            "prefix": f"packages from {PREFIX} land in /usr/local",
            "venv": f"the virtualenv {VENV} is copied whole",
            "user": "the user site (~/.local) is copied",
        }[strategy]
        return f"{image}; {where}"

    # -- builder -----------------------------------------------------------------------------
    def _builder(self, items: list[_Item], last_dep: int, strategy: str) -> list[Step]:
        stage = self.stage
        name = "base" if self.split else "builder"
        image = self.distroless[1] if self.distroless else stage.image
        steps = [Step(f"FROM {self._platform()}{image} AS {name}", stage.from_.comments)]
        venv_made = False
        self.tools_venv = False
        self.venv_on_path = False
        if self.distroless:
            steps += self._debian_python(items)
            venv_made = True
        narrowed = self._manifest_copies(items, last_dep)
        for it in items[: last_dep + 1]:
            ins = it.ins
            k = ins.keyword
            if ins.line in narrowed:
                steps.extend(narrowed[ins.line])
                continue
            if k in (
                "USER",
                "CMD",
                "ENTRYPOINT",
                "EXPOSE",
                "HEALTHCHECK",
                "LABEL",
                "STOPSIGNAL",
                "VOLUME",
                "MAINTAINER",
            ):
                continue
            if k != "RUN":
                steps.append(Step(ins.text, ins.comments))
                continue
            if it.role == "runtime":
                self._check_builder_app_step(it)
                steps.append(Step(ins.text, ins.comments))
                continue
            if it.role == "neutral":
                steps.append(Step(ins.text, ins.comments))
                continue
            needs_env = any(s.kind == deps.PIP and not deps.tool_only_install(s.words) for s in it.segments)
            if strategy == "venv" and needs_env and not venv_made:
                steps += self._make_venv(items, it)
                venv_made = True
            self.venv_on_path = venv_made
            text = self._builder_run(it, strategy)
            if text is not None:
                steps.append(Step(text, ins.comments))
        if strategy == "venv" and not venv_made:
            raise Skip("no dependency install to put into the virtualenv", stage.from_.line)
        return steps

    def _make_venv(self, items: list[_Item], first: _Item) -> list[Step]:
        """The virtualenv, made just before `first`, the first RUN that installs into it."""
        if self.uv_python:
            return [
                Step(
                    f'ENV UV_PYTHON_INSTALL_DIR={UV_PYTHON} VIRTUAL_ENV={VENV} PATH="{VENV}/bin:$PATH"',
                    (
                        f"# uv downloads the Python the project asks for into {UV_PYTHON} (the runtime copies it",
                        f"# to the same path) and makes {VENV} with it",
                    ),
                )
            ]
        if not self._lean_venv(items, first):
            return [
                Step(f"RUN python -m venv {VENV}", ("# Dependencies go into a virtualenv the runtime copies whole",)),
                Step(f'ENV VIRTUAL_ENV={VENV} PATH="{VENV}/bin:$PATH"'),
            ]
        self.warnings.append(
            f"{VENV} is made without pip and setuptools of its own: the image's pip installs into it "
            f"(PIP_PYTHON={VENV}/bin/python), so they do not reach the runtime"
        )
        return [
            Step(
                f"RUN python -m venv --without-pip {VENV}",
                (
                    "# Dependencies go into a virtualenv the runtime copies whole; the image's own pip",
                    "# installs into it, so pip itself stays out of the runtime",
                ),
            ),
            Step(f'ENV VIRTUAL_ENV={VENV} PATH="{VENV}/bin:$PATH" PIP_PYTHON={VENV}/bin/python'),
        ]

    def _lean_venv(self, items: list[_Item], first: _Item) -> bool:
        """Whether every install is a plain `pip install` the image's pip (22.3+, for PIP_PYTHON) can aim at
        the virtualenv. Floating tags only: a pinned old patch release may carry an older pip."""
        tag = images.tag_of(self.image_text)
        if self.distroless or re.match(r"\d+\.\d+\.\d+", tag) or "$" in self.image_text:
            return False
        version = images.python_version(self.image_text)
        if version and tuple(int(p) for p in version.split(".")) < (3, 7):
            return False
        before_venv = True
        for it in items:
            before_venv = before_venv and it is not first
            for seg in it.segments:
                if seg.kind != deps.PIP:
                    continue
                if seg.words[:1] not in (["pip"], ["pip3"]) or seg.words[1:2] != ["install"]:
                    return False
                if deps.tool_only_install(seg.words) and not before_venv:
                    return False  # it would upgrade pip into the virtualenv
        return True

    def _debian_python(self, items: list[_Item]) -> list[Step]:
        """Debian's python3 and the virtualenv, first thing in the builder (Debian has no `pip` without it)."""
        segments = [s for it in items for s in it.segments]
        self.tools_venv = any(
            s.kind == deps.PIP and deps.tool_only_install(s.words) and self._tool_names(s) - _PIP_ITSELF
            for s in segments
        )
        packages = ["python3-venv"]
        slim_original = "slim" in images.tag_of(self.image_text)
        if not slim_original or any(set(s.packages) & _COMPILERS for s in segments if s.kind == deps.SYSTEM):
            # the full python image has a C compiler; packages built from source need it and Python's headers
            packages += ["python3-dev", "gcc", "libc6-dev"]
        make = f"python3 -m venv {VENV}" + (f" && python3 -m venv {TOOLS}" if self.tools_venv else "")
        path = f"{VENV}/bin:{TOOLS}/bin:$PATH" if self.tools_venv else f"{VENV}/bin:$PATH"
        uv = []
        if self.uv_image:
            uv = [
                Step(
                    f"COPY --from={self.stage.image} /usr/local/bin/uv /usr/local/bin/uvx /usr/local/bin/",
                    ("# uv, from the original's image",),
                )
            ]
        return uv + [
            package_step(packages, "slim", ("# Debian's Python, the one the distroless image runs",)),
            Step(
                f"RUN {make}",
                ("# Dependencies go into a virtualenv the runtime copies whole",)
                + ((f"# build tools go into {TOOLS}, which the runtime does not get",) if self.tools_venv else ()),
            ),
            Step(f'ENV VIRTUAL_ENV={VENV} PATH="{path}"'),
        ]

    @staticmethod
    def _tool_names(seg: deps.Segment) -> set[str]:
        return {deps.spec_name(s) for s in deps.pip_targets(seg.words)[1]}

    def _manifest_copies(self, items: list[_Item], last_dep: int) -> dict[int, list[Step]]:
        """`COPY . .` before the installs -> COPY of just the files the installs read, so editing the
        sources does not reinstall the dependencies. Only when the installs need nothing else."""
        if not self.ctx.known:
            return {}
        workdir = "/"
        copy_line, copy_dest, copy_ins = None, None, None
        needed: list[str] = []
        for it in items[: last_dep + 1]:
            ins = it.ins
            if ins.keyword == "WORKDIR" and ins.args:
                workdir = shell.resolve(workdir, ins.args[0])
            elif ins.keyword in ("COPY", "ADD") and ins.flag("from") is None and len(ins.args) >= 2:
                if any(a.rstrip("/") in (".", "") for a in ins.args[:-1]):
                    if copy_line is not None or len(ins.args) != 2 or ins.keyword == "ADD":
                        return {}
                    copy_line, copy_dest, copy_ins = ins.line, shell.resolve(workdir, ins.args[-1]), ins
            elif ins.keyword == "RUN" and copy_line is not None:
                if it.role in ("runtime", "split") or (it.role == "neutral" and it.segments):
                    return {}  # an app step between the copy and the installs may need the sources
                for seg in it.segments:
                    files = self._files_read_by(seg)
                    if files is None:
                        return {}
                    for f in files:
                        rel = posixpath.relpath(shell.resolve(workdir, f), copy_dest)
                        if rel.startswith("..") or not self.ctx.exists(rel):
                            return {}
                        included = deps.requirement_files(self.ctx, rel)
                        if deps.local_requirements(self.ctx, included):
                            return {}  # `-e .` in a requirements file: the installs need the sources
                        for path in included:
                            if path not in needed:
                                needed.append(path)
        if copy_line is None or not needed:
            return {}
        flags = "".join(f"{f} " for f in copy_ins.flags)
        dest = copy_ins.args[-1]
        top = [p for p in needed if "/" not in p]
        steps = []
        comment = ("# Only the files the installs read, so source edits do not reinstall the dependencies",)
        if top:
            slash = dest if dest.endswith("/") else dest + "/"
            steps.append(Step(f"COPY {flags}{' '.join(top)} {slash}", comment))
        for path in needed:
            if "/" in path:
                steps.append(Step(f"COPY {flags}{path} {posixpath.join(dest, path)}", () if steps else comment))
        self.warnings.append(f"the builder copies {', '.join(needed)} instead of the whole context (line {copy_line})")
        return {copy_line: steps}

    @staticmethod
    def _files_read_by(seg: deps.Segment) -> list[str] | None:
        """Files a dependency command reads from the context; None when it needs the sources."""
        if seg.kind in (deps.SYSTEM, deps.NEUTRAL, deps.TOOL) and seg.words[:1] != ["poetry"]:
            return []
        words = seg.words
        if seg.kind == deps.PIP and deps.is_pip(words) >= 0:
            files, _specs, local = deps.pip_targets(words)
            return None if local else files + deps.constraint_files(words)
        if words[:2] == ["pipenv", "install"] or words[:2] == ["pipenv", "sync"]:
            return ["Pipfile", "Pipfile.lock"]
        if words[:2] == ["poetry", "install"] and "--no-root" in words:
            return ["pyproject.toml", "poetry.lock"]
        if words[:2] == ["uv", "sync"] and "--no-install-project" in words:
            return ["pyproject.toml", "uv.lock"]
        if words[:1] == ["poetry"] and seg.kind == deps.TOOL:
            return [] if words[1:2] == ["config"] else None
        return None

    def _check_builder_app_step(self, it: _Item) -> None:
        """An app step before the dependency installs runs in both stages; the runtime must be able to."""
        for seg in it.segments:
            if seg.kind == deps.APP and seg.words and posixpath.basename(seg.words[0]) in _BUILD_PROGRAMS:
                raise Skip(
                    f"`{seg.words[0]}` runs before the dependencies are installed and its result cannot be "
                    "separated from them",
                    it.ins.line,
                )

    def _builder_run(self, it: _Item, strategy: str) -> str | None:
        ins = it.ins
        prefix = run_prefix(ins.text)
        body = ins.text[len(prefix) :]
        if it.role == "split":
            kept = [s for s in it.segments if s.kind != deps.APP]
            body = chain("", kept)
        out = body
        cached = deps.mounts_pip_cache(ins.flags)
        # `python -m pipenv …`: the interpreter that has the tool, once the app's virtualenv is first on PATH
        tools_python = (
            f"{TOOLS}/bin/python" if self.tools_venv else "/usr/local/bin/python" if self.venv_on_path else None
        )
        for seg in reversed(deps.classify(body)):
            if seg.words[:2] == ["poetry", "lock"]:
                new = deps.with_module_python(self._poetry_removed_flags(seg.text, seg.words), tools_python)
                out = out[: seg.start] + new + out[seg.end :]
                continue
            if seg.kind != deps.PIP or not seg.words:
                if seg.words[:1] in (["pipenv"], ["poetry"], ["uv"], ["pdm"]):
                    out = out[: seg.start] + deps.with_module_python(seg.text, tools_python) + out[seg.end :]
                continue
            new = seg.text
            if seg.words[0] == "pipenv":
                new = self._pipenv(seg)
            elif seg.words[0] in ("poetry", "uv", "pdm"):
                new = self._env_manager(seg)
            elif seg.words[0].startswith("python") and "setup.py" in seg.words:
                new = deps.rewrite_pip(
                    re.sub(r"python3?\S*\s+setup\.py\s+install\b.*", "pip install .", seg.text), strategy, cached
                )
            elif deps.tool_only_install(seg.words):
                # Build tools (Poetry …) stay out of the environment the runtime copies: the tools venv on a
                # Debian builder, the image's own pip once the virtualenv is first on PATH.
                pip = f"{TOOLS}/bin/pip" if self.tools_venv else "/usr/local/bin/pip" if self.venv_on_path else None
                if pip and self._tool_names(seg) - _PIP_ITSELF:
                    new = re.sub(
                        r"^(\s*)(?:\S*/)?(?:pip3?(?:\.\d+)?|python3?(?:\.\d+)?\s+-m\s+pip)(?=\s)",
                        rf"\g<1>{pip}",
                        seg.text,
                    )
            else:
                if self.split:
                    new = deps.drop_requirement_files(
                        seg.text, [self.split[r] for r in ("dev", "prod") if r in self.split]
                    )
                    if new is None:
                        new = ""
                if not new:
                    pass
                elif strategy == "venv":
                    new = re.sub(r"(?<!\S)--system(?!\S)\s*", "", new)
                    new = deps.rewrite_pip(new, "venv", cached)
                else:
                    new = deps.rewrite_pip(new, strategy, cached)
            if seg.words[0] in ("pipenv", "poetry", "uv", "pdm"):
                new = deps.with_module_python(new, tools_python)
            out = out[: seg.start] + new + out[seg.end :]
        out = _tidy_connectors(out)
        return prefix + out if out.strip() else None

    @staticmethod
    def _pipenv(seg: deps.Segment) -> str:
        # Pipenv installs into the activated environment (VIRTUAL_ENV), with or without --system.
        return seg.text

    def _env_manager(self, seg: deps.Segment) -> str:
        words = seg.words
        text = seg.text
        if words[0] == "uv" and words[1:2] == ["sync"]:
            lead, body = text[: len(text) - len(text.lstrip())], text.lstrip()
            if self.keep_dev:
                pass  # the command runs a dev-group program; _dev_tools_at_run_time said so
            elif not {"--no-dev", "--only-dev"} & set(words) and not any(w.startswith("--group") for w in words):
                # the runtime gets the project's dependencies, not its dev group
                body = re.sub(r"\bsync\b", "sync --no-dev", body, count=1)
                self.warnings.append("`uv sync` gets --no-dev: the dev dependency group stays out of the runtime")
            body = self._uv_locked(body, words)
            return f"{lead}UV_PROJECT_ENVIRONMENT={VENV} {body}"
        if words[0] == "uv" and words[1:3] == ["pip", "install"]:
            return re.sub(r"(?<!\S)--system(?!\S)\s*", "", text)
        if words[0] == "poetry" and words[1:2] == ["install"]:
            return self._poetry_install(text, words)
        # Poetry and Pipenv install into the active environment (VIRTUAL_ENV) as they are.
        return text

    def _uv_locked(self, body: str, words: list[str]) -> str:
        """`uv sync` installs exactly uv.lock (`--locked`) when the lock records every project dependency; a
        lock that does not is left to re-resolve as in the original, and said."""
        lock = _toml(self.ctx.read_text("uv.lock"))
        if lock is None or not _table(self.pyproject, "project"):
            return body
        missing = deps.uv_lock_disagreement(self.pyproject, lock)
        if "--frozen" in words:
            return body
        if "--locked" in words:
            if missing:
                self.warnings.append(
                    f"uv.lock does not record {', '.join(missing)} of pyproject.toml: `uv sync --locked` fails, in "
                    "the original too (run `uv lock`)"
                )
            return body
        if missing:
            self.warnings.append(
                f"uv.lock does not record {', '.join(missing)} of pyproject.toml: `uv sync` re-resolves at build "
                "time as the original did (run `uv lock` to make the install reproducible)"
            )
            return body
        self.warnings.append("`uv sync` gets --locked: uv.lock records the project's dependencies, so it installs them")
        return re.sub(r"\bsync\b", "sync --locked", body, count=1)

    def _poetry_install(self, text: str, words: list[str]) -> str:
        """`poetry install` as the runtime needs it: the dev group left out, flags the pinned Poetry knows."""
        lock = self.ctx.read_text("poetry.lock") if self.pyproject is not None else None
        if lock and deps.poetry_lock_fresh(self.pyproject, lock) is False:
            self.warnings.append(
                "poetry.lock's content-hash does not match pyproject.toml (the lock is older than the project's "
                "dependencies; Poetry 1.8+ refuses to install from it, older versions warn): the install is kept "
                "as the original wrote it"
            )
            return text
        text = self._poetry_removed_flags(text, words)
        version = self._poetry_version()
        if "--no-dev" in words and (version is None or version >= (2, 0)):
            # Poetry 2 removed --no-dev; --without dev is what it meant since 1.2
            self.warnings.append(
                "`poetry install --no-dev` becomes --without dev: Poetry "
                + (f"{version[0]}.{version[1]}" if version else "unpinned here, so the latest (2.x),")
                + " has no --no-dev option and the original's install fails with it"
            )
            return re.sub(r"(?<!\S)--no-dev(?!\S)", "--without dev", text)
        if any(w.startswith(("--only", "--without", "--no-dev", "--with")) for w in words):
            return text
        return self._poetry_without_dev(text)

    def _poetry_removed_flags(self, text: str, words: list[str]) -> str:
        """Options Poetry 2.0 removed, in their current form when the Dockerfile's Poetry is 2.x (pinned, or
        unpinned = the latest): `install --remove-untracked` -> `--sync`, `lock --no-update` (the default
        since) -> nothing, `lock --check` -> `poetry check --lock`. (`install --no-dev`: _poetry_install.)"""
        version = self._poetry_version()
        if version is not None and version < (2, 0):
            return text
        changes = {
            "--remove-untracked": ("install", "--sync"),
            "--no-update": ("lock", ""),
            "--check": ("lock", None),
        }
        for flag, (command, current) in changes.items():
            if words[1:2] != [command] or flag not in words:
                continue
            pinned = f"Poetry {version[0]}.{version[1]}" if version else "Poetry (unpinned here, so the latest, 2.x)"
            if current is None:
                text = re.sub(r"\block\b", "check", text, count=1)
                text = re.sub(r"(?<!\S)--check(?!\S)", "--lock", text)
                self.warnings.append(
                    f"`poetry lock --check` becomes `poetry check --lock`: {pinned} has no lock --check"
                )
                continue
            text = re.sub(rf"\s*(?<!\S){re.escape(flag)}(?!\S)", f" {current}" if current else "", text)
            self.warnings.append(
                f"`poetry {command} {flag}` "
                + (f"becomes {current}" if current else "loses the flag (what it asked for is the default now)")
                + f": {pinned} has no {flag} and the original fails with it"
            )
        return text

    def _poetry_without_dev(self, text: str) -> str:
        """`poetry install` installs the dev group too; the runtime copies the environment, so leave it out."""
        groups = _poetry_groups(self.pyproject)
        if groups is None:
            self.warnings.append(
                "`poetry install` installs the dev group too, and pyproject.toml could not be read to tell: add "
                "`--without dev` (Poetry 1.2+) or `--no-dev` (older) if it has one"
            )
            return text
        if "dev" not in groups or self.keep_dev:
            return text  # nothing to leave out, or the command needs it (_dev_tools_at_run_time said so)
        version = self._poetry_version()
        flag = "--no-dev" if version is not None and version < (1, 2) else "--without dev"
        self.warnings.append(
            f"`poetry install` gets {flag}: the dev dependencies stay out of the runtime"
            + ("" if version else " (Poetry's version is not pinned here, so 1.2+ is assumed)")
        )
        return re.sub(r"\binstall\b", f"install {flag}", text, count=1)

    def _poetry_version(self) -> tuple[int, ...] | None:
        """The Poetry version the Dockerfile pins (`poetry==1.8.3`, POETRY_VERSION), None when it floats."""
        values = dict(global_args(self.model))
        for ins in self.stage.find("ARG"):
            for item in ins.args:
                key, _, value = item.partition("=")
                values[key] = value.strip("\"'")
        values.update(stage_env(self.stage))
        value = values.get("POETRY_VERSION")  # the official installer reads it too
        for ins in self.stage.instructions:
            found = re.search(r"poetry(?:==|~=|===)\s*([\d.]+)|POETRY_VERSION=[\"']?([\d.]+)", ins.text)
            value = (found.group(1) or found.group(2)) if found else value
            if not found and re.search(r"poetry\s*(?:>=\s*[\d.]+\s*,\s*)?<\s*2(\.0)*(?![\d.])", ins.text):
                value = "1.8"  # `poetry<2`: the last 1.x
        numbers = re.match(r"(\d+)\.(\d+)", value or "")
        return (int(numbers.group(1)), int(numbers.group(2))) if numbers else None

    def _platform(self) -> str:
        return f"--platform={self.stage.platform} " if self.stage.platform else ""

    # -- runtime -----------------------------------------------------------------------------
    def _runtime(self, items: list[_Item], last_dep: int, strategy: str, runtime: str):
        stage = self.stage
        setup: list[Step] = []
        packages = self._runtime_packages(items, runtime)
        packages += [p for p in self._runtime_tools(items, last_dep, runtime) if p not in packages]
        env = stage_env(stage)
        non_root = self.non_root
        self.added_user: Step | None = None  # the USER line the rewrite adds (develop stages leave it out)
        workdir = self.last_workdir()
        self.owner = (NONROOT if self.distroless else f"{APP_UID}:{APP_UID}") if non_root else None
        if packages and self.distroless:
            raise Skip(
                f"the runtime needs {', '.join(packages)} and distroless cannot install packages; use --runtime slim",
                self._package_lines.get(packages[0], stage.from_.line),
            )
        if packages:
            setup.append(self._install_step(packages, runtime))
        missing_env = [f"{k}=1" for k in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED") if k not in env]
        if missing_env:
            setup.append(Step("ENV " + " ".join(missing_env)))
            self.warnings.append(f"adds ENV {' '.join(missing_env)}: no .pyc files in the image, logs not buffered")
        found = self._writes(workdir) if non_root else None
        if found is not None and not self.distroless:
            setup.append(
                Step(
                    self._useradd(runtime, found.paths),
                    ("# An unprivileged user to run the app, owning its folder as root did in the original",),
                )
            )
        elif found is not None and found.paths:
            # distroless has no shell: the builder makes the folders, the runtime copies them in with their owner
            self.writes_build = found.paths
            setup += writes.copy_steps(found.paths, NONROOT, "base" if self.split else "builder")
        if found is not None:
            self.warnings += writes.notes(found, NONROOT if self.distroless else f"app (uid {APP_UID})")
        self._env_files()
        artifacts = self._copy_packages(strategy, non_root)

        steps: list[Step] = []
        for index, it in enumerate(items):
            ins = it.ins
            k = ins.keyword
            if k == "ARG":
                continue  # redeclared at the top where the carried lines use them
            if k in ("COPY", "ADD"):
                if ins.flag("from") is not None:
                    if index > last_dep:
                        steps.append(Step(self._numeric_chown(ins), ins.comments))  # earlier ones bring build tools
                elif not self._copies_manifests_only(ins):
                    steps.append(Step(self._app_copy(ins), ins.comments))
                continue
            if k == "RUN":
                step = None
                if it.role == "runtime" or (it.role == "neutral" and index > last_dep):
                    step = Step(writes.tolerant_mkdir(ins.text), ins.comments)
                elif it.role == "split":
                    app = [s for s in it.segments if s.kind in (deps.APP, deps.NEUTRAL) and s.words[:1] != ["rm"]]
                    if any(s.kind == deps.APP for s in app):
                        step = Step(writes.tolerant_mkdir(chain(run_prefix(ins.text), app)), ins.comments)
                if step is not None and self.distroless:
                    raise Skip(
                        "this step would run in the runtime stage, and distroless has no shell to run it; "
                        "use --runtime slim",
                        ins.line,
                    )
                if step is not None:
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
                    self.warnings.append(
                        f"{k} (line {ins.line}) runs the command directly: the runtime has the "
                        f"environment on PATH and no {ins.shell.split()[0]} to run it with"
                    )
                    steps.append(Step(direct, ins.comments))
                    self.rewritten.add(k)
                    continue
            if k == "ENV":
                step = env_step(ins, frozenset())
                if step is not None:
                    steps.append(Step(step.text, ins.comments))
                continue
            steps.append(Step(ins.text, ins.comments))
        if non_root:
            at = next(
                (
                    i
                    for i, s in enumerate(steps)
                    if s.text.split(None, 1)[0].upper() in ("HEALTHCHECK", "ENTRYPOINT", "CMD")
                ),
                len(steps),
            )
            uid = NONROOT if self.distroless else f"{APP_UID}:{APP_UID}"
            self.added_user = Step(f"USER {uid}")
            steps.insert(at, self.added_user)
            self.warnings.append(
                f"no USER in the original: the runtime runs as uid {uid.split(':')[0]} "
                + ("(distroless nonroot" if self.distroless else "(user app")
                + "; --keep-root keeps root); files the app writes must be writable by it"
            )
        return steps, setup, artifacts

    # -- distroless: no shell, no package manager, no user names but root and nonroot ------------
    def _distroless_step(self, ins: Instruction) -> list[Step]:
        """USER, CMD, ENTRYPOINT or HEALTHCHECK as the distroless python image can run it."""
        k = ins.keyword
        if k == "USER":
            name = ins.args[0].split(":")[0] if ins.args else ""
            if name.isdigit() or name in ("root", "nonroot"):
                return [Step(ins.text, ins.comments)]
            self.warnings.append(f"USER {ins.args[0]} becomes {NONROOT}: distroless has no user named {name}")
            return [Step(f"USER {NONROOT}", ins.comments)]
        if k == "HEALTHCHECK":
            if not ins.args or ins.args[0].upper() != "CMD" or ins.json:
                return [Step(ins.text, ins.comments)]
            argv = healthcheck_command(ins).as_simple_argv()
            if argv is None:
                raise Skip("this HEALTHCHECK needs a shell, and distroless has none", ins.line)
            head = re.match(r"(?is)^(.*?\bCMD)\s", ins.text)
            self.warnings.append(f"HEALTHCHECK (line {ins.line}) runs in exec form: distroless has no shell")
            return [Step(f"{head.group(1)} {json.dumps(list(argv))}", ins.comments)]
        direct = self._direct_text(ins)
        command = _direct_command(ins, direct)
        argv = command.as_simple_argv()
        if argv is None:
            raise Skip(f"{k} needs a shell, and distroless has none", ins.line)
        text = f"{k} {json.dumps(list(argv))}"
        if direct or not command.exec_form:
            self.rewritten.add(k)
            self.warnings.append(f"{k} (line {ins.line}) runs in exec form, directly: distroless has no shell")
        steps = [Step(text, ins.comments)]
        if k == "CMD" and self.stage.last("ENTRYPOINT") is None:
            self.rewritten.add("ENTRYPOINT")
            steps.insert(
                0,
                Step("ENTRYPOINT []", ("# distroless python's entrypoint is python: cleared, so CMD runs as before",)),
            )
        return steps

    def _app_copy(self, ins: Instruction) -> str:
        """The app's files, owned by the user the rewrite runs it as: the original's root could write them."""
        if self.owner is None or ins.flag("chown") is not None:
            return self._numeric_chown(ins)
        return re.sub(r"(?i)^(COPY|ADD)\s+", lambda m: f"{m.group(0)}--chown={self.owner} ", ins.text, count=1)

    def _runs_unprivileged(self, items: list[_Item]) -> bool:
        """Whether the runtime gets the unprivileged user: no USER in the original, root not kept, and the app
        not copied into / (it may write next to itself there, and / cannot be given to the user)."""
        if self.options.keep_root or self.stage.last("USER") is not None:
            return False
        if self.last_workdir() == "/" and any(self._copies_into_root(it.ins) for it in items):
            self.warnings.append(
                "the app is copied into / with no WORKDIR, and it may write next to itself: the runtime keeps "
                "root, as the original did (give it a WORKDIR to run it unprivileged)"
            )
            return False
        return True

    def _copies_into_root(self, ins: Instruction) -> bool:
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None or len(ins.args) < 2:
            return False
        return self._copies_manifests_only(ins) is False and ins.args[-1].rstrip("/") in ("", ".")

    def _numeric_chown(self, ins: Instruction) -> str:
        """COPY --chown=app:app -> --chown=65532:65532 on distroless, which has no such user."""
        owner = ins.flag("chown")
        if not self.distroless or owner is None or owner.split(":")[0].isdigit() or owner.split(":")[0] == "root":
            return ins.text
        self.warnings.append(f"COPY --chown={owner} (line {ins.line}) becomes {NONROOT}: distroless has no such user")
        return re.sub(r"(?i)--chown=\S+", f"--chown={NONROOT}", ins.text, count=1)

    def _copies_manifests_only(self, ins: Instruction) -> bool:
        sources = list(ins.args[:-1])
        return bool(sources) and all(deps.is_manifest(s) for s in sources)

    def _copy_packages(self, strategy: str, non_root: bool) -> list[Step]:
        if strategy == "prefix":
            return [Step(f"COPY --from=builder {PREFIX} /usr/local")]
        if strategy == "venv":
            self.warnings.append(
                f"ENV VIRTUAL_ENV={VENV} and {VENV}/bin first on PATH, so python and the "
                "installed scripts come from the virtualenv"
            )
            return [Step(f"COPY --from=builder {VENV} {VENV}"), Step(f'ENV VIRTUAL_ENV={VENV} PATH="{VENV}/bin:$PATH"')]
        home = "/home/app" if non_root else "/root"
        self.warnings.append(
            f"ENV PYTHONUSERBASE={home}/.local and its bin first on PATH, where the user-site "
            "packages and scripts are copied"
        )
        chown = f"--chown={APP_UID}:{APP_UID} " if non_root else ""
        return [
            Step(f"COPY --from=builder {chown}/root/.local {home}/.local"),
            Step(f'ENV PYTHONUSERBASE={home}/.local PATH="{home}/.local/bin:$PATH"'),
        ]

    def _useradd(self, runtime: str, folders: list[str]) -> str:
        add = f"adduser -D -u {APP_UID} app" if runtime == "alpine" else f"useradd --create-home --uid {APP_UID} app"
        if not folders:
            return f"RUN {add}"
        return f"RUN {add} \\\n && {writes.own_folders(folders, 'app:app')}"

    def _start_files(self):
        if not hasattr(self, "_start_cache"):
            from dockrewrite.providers import python_source

            # only notes and the .dockerignore proposal use it: --check, which shows neither, skips the scan
            scan = self.ctx.known and self.options.notes
            self._start_cache = python_source.start_files(self.ctx) if scan else python_source.StartFiles()
        return self._start_cache

    def _writes(self, workdir: str) -> writes.Writes:
        """The folders the runtime user must own: the app's folder (root owned it in the original, and Python apps
        write beside themselves: SQLite, uploads, logs), and what ENV, VOLUME and the code name."""
        mine = workdir not in ("/", "/root") and "$" not in workdir
        reason = "the app's folder, which root owned in the original" if mine else None
        reads = [(n, f) for n, f in self._start_files().env_reads.items() if writes.is_write_name(n)]
        return writes.find(
            self.stage, workdir, workdir_reason=reason, env_reads=reads, ctx=self.ctx, start_workdir=self.start_dir()
        )

    def _env_files(self) -> None:
        """Env files the app loads at start that the original copied in: the runtime replays those COPYs, so
        they are carried; the note says so, and the .dockerignore proposal keeps them."""
        start = self._start_files()
        if start.loader is None:
            return
        files = writes.env_files(self.ctx, start.env_files, self.copies_entry)
        if files:
            self.loads += [f for f in files if f not in self.loads]
            self.warnings.append(writes.baked_note(files, start.loader))

    @staticmethod
    def _install_step(packages: list[str], runtime: str) -> Step:
        comments = () if runtime == "alpine" else ("# Shared libraries and tools the app needs at run time",)
        return package_step(packages, runtime, comments)

    def _runtime_packages(self, items: list[_Item], runtime: str) -> list[str]:
        family = "alpine" if runtime == "alpine" else "debian"
        packages: list[str] = []
        self._package_lines: dict[str, int] = {}  # where each runtime package comes from, for the skip reason
        for it in items:
            for seg in it.segments:
                if seg.kind != deps.SYSTEM or not seg.packages:
                    continue
                virtual = "--virtual" in seg.words or "-t" in seg.words
                dev = [p for p in seg.packages if syslibs.is_dev(p) or virtual]
                needed, unknown = syslibs.runtime_packages(dev, family)
                if unknown and family == "debian" and not self.distroless and not self.split:
                    # the builder lists the packages of the libraries the built modules link (_linked_libraries)
                    self.linked_scan += [p for p in unknown if p not in self.linked_scan]
                elif unknown:
                    raise Skip(
                        f"no known runtime package for {', '.join(unknown)}; packages built against it "
                        "would miss their shared library",
                        it.ins.line,
                    )
                plain = [p for p in seg.packages if p not in dev and p not in syslibs.BUILD_ONLY]
                for package in needed + plain:
                    self._package_lines.setdefault(package, it.ins.line)
                packages += [p for p in needed + plain if p not in packages]
        for name in self._requirement_names(items):
            libs = deps.PIP_RUNTIME_LIBS.get(name)
            if libs:
                lib = libs[1] if family == "alpine" else libs[0]
                if lib not in packages:
                    packages.append(lib)
                    self.warnings.append(
                        f"{name} is built from source against a system library: the runtime gets {lib}"
                    )
        return packages

    def _requirement_names(self, items: list[_Item]) -> list[str]:
        names: list[str] = []
        workdir = "/"
        for it in items:
            if it.ins.keyword == "WORKDIR" and it.ins.args:
                workdir = shell.resolve(workdir, it.ins.args[0])
            for seg in it.segments:
                if seg.kind != deps.PIP or deps.tool_only_install(seg.words):
                    continue  # build tools (pip install poetry) are not the app's requirements
                files, specs, _ = deps.pip_targets(seg.words)
                names += [n for n in (deps.spec_name(s) for s in specs) if n]
                for f in files:
                    # the context file the image path was copied from (COPY app/requirements.txt .)
                    source = self.copied_file(shell.resolve(workdir, f)) if f != "-" else None
                    names += deps.requirement_names(
                        self.ctx, source or (posixpath.basename(f) if f.startswith("/") else f)
                    )
        if any(
            deps.pip_targets(seg.words)[2]
            or seg.words[:2] in (["python", "setup.py"], ["python3", "setup.py"])
            or seg.words[:1] in (["poetry"], ["uv"], ["pdm"])
            for it in items
            for seg in it.segments
            if seg.kind == deps.PIP
        ):
            names += self._project_dependencies()
        if self.ctx.exists("Pipfile"):
            text = self.ctx.read_text("Pipfile") or ""
            data = _toml(text)
            if data is None:
                names += [deps.normalize(n) for n in re.findall(r"^([A-Za-z0-9][\w.-]*)\s*=", text, re.MULTILINE)]
            else:  # [packages], and [dev-packages] when an install asks for them ([[source]] names no package)
                dev = any(
                    s.words[:1] == ["pipenv"] and {"--dev", "-d"} & set(s.words) for it in items for s in it.segments
                )
                names += [
                    deps.normalize(n)
                    for n in [*_table(data, "packages"), *(_table(data, "dev-packages") if dev else {})]
                ]
        return names

    @cached_property
    def pyproject(self) -> dict | None:
        """The context's pyproject.toml, parsed; None when there is none or it is not valid TOML."""
        return _toml(self.ctx.read_text("pyproject.toml"))

    def _project_dependencies(self) -> list[str]:
        """Dependencies of the project itself (`pip install .`), from pyproject.toml or setup.py."""
        names: list[str] = []
        data = self.pyproject
        if data is not None:
            listed = _table(data, "project").get("dependencies")
            names += [deps.spec_name(d) for d in (listed if isinstance(listed, list) else []) if isinstance(d, str)]
            names += [deps.normalize(n) for n in _table(data, "tool", "poetry", "dependencies") if n != "python"]
        setup = self.ctx.read_text("setup.py")
        if setup:
            from dockrewrite.providers.python_source import read_setup_py

            info = read_setup_py(setup)
            if info is not None:
                names += [deps.spec_name(r) for r in info.install_requires]
        return [n for n in names if n]

    def _import_warnings(self, items: list[_Item]) -> None:
        if not self.ctx.known or not self.options.notes:
            return
        from dockrewrite.providers import python_source

        requirements = self._requirement_names(items)
        for warning in python_source.import_warnings(python_source.imports(self.ctx), requirements):
            self.warnings.append(warning)

    def _runtime_tools(self, items: list[_Item], last_dep: int, runtime: str) -> list[str]:
        """Packages for the tools the runtime's commands call (python and pip-installed scripts need none)."""
        stage = self.stage
        checks: list[tuple[Instruction, list[str]]] = []
        for index, it in enumerate(items):
            if it.ins.keyword == "RUN" and (
                it.role == "runtime" or it.role == "split" or (it.role == "neutral" and index > last_dep)
            ):
                checks.append((it.ins, [s.words[0] for s in it.segments if s.kind == deps.APP and s.words]))
        for keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            ins = stage.last(keyword)
            if ins is None or not ins.args or (keyword == "HEALTHCHECK" and ins.args[0].upper() != "CMD"):
                continue
            command = healthcheck_command(ins) if keyword == "HEALTHCHECK" else Command.of(ins)
            checks.append((ins, tools.programs(command)[0] + self._script_programs(command)))
        family = "alpine" if runtime == "alpine" else "slim"
        extra: list[str] = []
        for ins, programs in checks:
            for program in programs:
                name = posixpath.basename(program)
                if self.distroless:
                    self._check_distroless_program(ins, program)
                    continue
                if _PYTHON_PROGRAM.match(program) or "/" in program and not program.startswith("/usr/bin/"):
                    continue  # the interpreter, or a script/binary the app ships
                if name in _BUILD_PROGRAMS and ins.keyword == "RUN":
                    raise Skip(
                        f"`{name}` runs here after the dependencies; the slim runtime does not have it", ins.line
                    )
                available, package = tools.provided(family, name)
                if available and package and package not in extra:
                    extra.append(package)
        if extra:
            self.warnings.append(
                f"the runtime installs {', '.join(extra)}: the commands (or scripts they start) call them and the "
                f"{family} image lacks them"
            )
        return extra

    def _check_distroless_program(self, ins: Instruction, program: str) -> None:
        """Python, the virtualenv's scripts and the app's Python files run on distroless; shells and tools do not."""
        name = posixpath.basename(program)
        if _PYTHON_PROGRAM.match(name) or program.startswith(f"{VENV}/bin/"):
            return
        if "/" in program and not program.startswith(("/usr/", "/bin/", "/sbin/")):
            copied = self.copied_file(program)
            script = self.ctx.read_text(copied) if copied else None
            if name.endswith((".sh", ".bash")) or (script is not None and not _python_shebang(script)):
                raise Skip(f"`{program}` needs an interpreter the distroless image lacks (a shell)", ins.line)
            return
        if tools.provided("slim", name)[0] or name in tools.SHELL_BUILTINS or "/" in program:
            raise Skip(f"`{name}` is not in the distroless python image", ins.line)

    def _script_programs(self, command: Command) -> list[str]:
        """Programs of the shell script a command starts (`./docker-entrypoint.sh`, `sh start.sh`); the runtime
        needs them as much as the command's own."""
        found = self.entry_script(command)
        return [] if found is None else [found.script.interpreter] + [p for p, _ in found.script.programs]


# `uv run`, `poetry run`, `pipenv run` and `pdm run` options that take a value.
_RUNNER_VALUE_OPTIONS = frozenset(
    {
        "--with",
        "--python",
        "-p",
        "--env-file",
        "--directory",
        "--project",
        "--group",
        "--extra",
        "--package",
        "--index",
        "-C",
    }
)


def _without_runner(ins: Instruction) -> str | None:
    """`CMD ["uv", "run", "python", "app.py"]` -> `CMD ["python", "app.py"]` (the venv is on PATH)."""
    command = Command.of(ins)
    if command.exec_form:
        argv = list(command.argv)
    else:
        argv = shell.split_words(command.shell)
        runner = r"^\s*(\S*python[\d.]*\s+-m\s+)?(uv|poetry|pipenv|pdm)\s+run\s"
        if command.as_simple_argv() is None and not re.match(runner, command.shell):
            return None
    module = argv != deps.module_form(argv)  # `python -m pipenv run …`
    argv = deps.module_form(argv)
    if len(argv) < 3 or argv[0] not in ("uv", "poetry", "pipenv", "pdm") or argv[1] != "run":
        return None
    rest = argv[2:]
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag in _RUNNER_VALUE_OPTIONS and "=" not in flag and rest:
            rest.pop(0)
    if not rest:
        return None
    # `uv run app.py` (and pdm's) runs a script with the environment's python, not as a program on PATH
    interpreter = ["python"] if argv[0] in ("uv", "pdm") and rest[0].endswith(".py") else []
    if command.exec_form:
        return f"{ins.keyword} {json.dumps(interpreter + rest)}"
    prefix = re.match(r"^\s*" + (r"\S+\s+-m\s+" if module else "") + r"\S+\s+run\s+(?:-\S+\s+)*", command.shell)
    return f"{ins.keyword} {''.join(w + ' ' for w in interpreter)}{command.shell[prefix.end() :]}" if prefix else None


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _table(data, *keys: str) -> dict:
    """data[key][key]… when every level is a table, else {}: a pyproject.toml of the wrong shape (`tool = 1`,
    `[tool]` with `poetry = []`) is one that says nothing, not an AttributeError."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


_POE_OUTPUT_OPTIONS = frozenset({"-q", "-qq", "--quiet", "-v", "--verbose", "--ansi", "--no-ansi"})
# console scripts whose distribution has another name
_SCRIPT_PACKAGES = {"poe": "poethepoet", "django-admin": "django", "watchmedo": "watchdog", "pserve": "pyramid"}


def _dev_package(command: Command, dev_only: set[str]) -> tuple[str, str] | None:
    """(program, package) when a command runs a program, or `python -m` a module, that only the dev group has."""
    for program in tools.programs(command)[0]:
        name = posixpath.basename(program)
        package = _SCRIPT_PACKAGES.get(name, deps.normalize(name))
        if package in dev_only:
            return name, package
    argv = command.as_simple_argv() or ()
    if len(argv) >= 3 and _PYTHON_PROGRAM.match(posixpath.basename(argv[0])) and argv[1] == "-m":
        package = deps.normalize(argv[2].split(".")[0])
        if package in dev_only:
            return f"python -m {argv[2]}", package
    return None


def _toml(text: str | None) -> dict | None:
    """A TOML file's content; None when there is none or it is not valid TOML."""
    if not text:
        return None
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _direct_command(ins: Instruction, direct: str | None = None) -> Command:
    """The command of a CMD/ENTRYPOINT once `uv run`/`poetry run` … is taken off (see _without_runner), or of
    `direct`, the instruction text the runtime gets instead."""
    direct = direct or _without_runner(ins)
    if direct is None:
        return Command.of(ins)
    rest = direct[len(ins.keyword) + 1 :]
    return Command(True, tuple(json.loads(rest))) if rest.startswith("[") else Command(False, shell=rest)


def _poetry_groups(pyproject: dict | None) -> set[str] | None:
    """Poetry dependency groups in a pyproject.toml ('dev' for the old dev-dependencies table)."""
    if pyproject is None:
        return None
    poetry = _table(pyproject, "tool", "poetry")
    groups = set(_table(poetry, "group"))
    return groups | {"dev"} if "dev-dependencies" in poetry else groups


def _python_shebang(text: str) -> bool:
    first_line = text.split("\n", 1)[0]
    return first_line.startswith("#!") and "python" in first_line


def _tidy_connectors(text: str) -> str:
    """Remove the `&&` left dangling where a command was taken out of a chain."""
    out = re.sub(r"&&(\s*\\?\s*)&&", "&&", text)
    out = re.sub(r"^\s*(\\\n)?\s*&&\s*(\\\n\s*)?", "", out)
    previous = None
    while out != previous:  # each cut below can expose the next: `… \` / `# note` / `&& \`
        previous = out
        # a chain cut after a continuation line ends in `\` and the comment lines it ran into: nothing follows
        lines = out.rstrip().split("\n")
        while len(lines) > 1 and lines[-1].lstrip().startswith("#"):
            lines.pop()
        out = "\n".join(lines).rstrip()
        # a removed last command leaves `… \` + `&&` (either side of the line break) at the end
        out = re.sub(r"(\s|\\\n)*&&(\s|\\)*$", "", out)
        if out.endswith("\\") and not out.endswith("\\\\"):
            out = out[:-1].rstrip()
    return out


def _context_path(image_path: str) -> str:
    return image_path[2:] if image_path.startswith("./") else image_path.lstrip("/")


_UV_PYTHON_TAG = re.compile(r"^(?:[\d.]+-)?python(3\.\d+)-(bookworm|bullseye|trixie|alpine(?:3\.\d+)?)(-slim)?$")


def _uv_python_image(image: str) -> str | None:
    """ghcr.io/astral-sh/uv:python3.12-bookworm-slim -> python:3.12-slim-bookworm, the image uv's is built on."""
    ref = image.split("@", 1)[0]
    if "$" in ref or not re.match(r"^(ghcr\.io/)?astral-sh/uv:", ref):
        return None
    m = _UV_PYTHON_TAG.match(images.tag_of(ref))
    if m is None:
        return None
    version, distro, slim = m.groups()
    if distro.startswith("alpine"):
        return f"python:{version}-{distro}"
    return f"python:{version}-{'slim-' if slim else ''}{distro}"


def _slim_of(image: str) -> str:
    """python:3.10 -> python:3.10-slim; python:3.11-bookworm -> python:3.11-slim-bookworm."""
    ref, _, digest = image.partition("@")
    repo, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
    if not tag or tag == "latest":
        return f"{repo}:slim"
    if "slim" in tag:
        return f"{repo}:{tag}"
    for codename in images.DEBIAN_CODENAMES:
        if tag.endswith("-" + codename):
            return f"{repo}:{tag[: -len(codename) - 1]}-slim-{codename}"
    return f"{repo}:{tag}-slim"
