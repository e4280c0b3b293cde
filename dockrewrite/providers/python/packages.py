"""What the runtime installs: system packages the app links or calls, and the requirements they come from."""

from __future__ import annotations

import posixpath
import re

from dockrewrite import images, ops, shell, syslibs, tools
from dockrewrite.model import Command, Instruction
from dockrewrite.providers.common import healthcheck_command
from dockrewrite.providers.python import deps, source
from dockrewrite.providers.python import distroless as python_distroless
from dockrewrite.providers.python.layout import BUILD_PROGRAMS, LINKED_LIST, PREFIX, PYTHON_PROGRAM, VENV, Item
from dockrewrite.providers.python.pyproject import read_toml, toml_table
from dockrewrite.providers.python.start import direct_command
from dockrewrite.results import Skip
from dockrewrite.runtimes.base import Runtime


class RuntimePackages:
    """Planner methods that find the runtime's packages and the app's requirements."""

    def _runtime_packages(self, items: list[Item], rt: Runtime) -> list[str]:
        family = rt.family
        packages: list[str] = []
        self._package_lines: dict[str, int] = {}  # where each runtime package comes from, for the skip reason
        for it in items:
            for seg in it.segments:
                if seg.kind != deps.SYSTEM or not seg.packages:
                    continue
                virtual = "--virtual" in seg.words or "-t" in seg.words
                dev = [p for p in seg.packages if syslibs.is_dev(p) or virtual]
                needed, unknown = syslibs.runtime_packages(dev, family)
                if self.distroless:
                    # the builder finds the libraries the build linked (ldd) and the runtime gets those
                    needed, unknown = [], []
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
        requirements = self._requirement_names(items)
        for name in requirements:
            libs = deps.PIP_RUNTIME_LIBS.get(name)
            if libs and not self.distroless:
                lib = libs[1] if family == "alpine" else libs[0]
                if lib not in packages:
                    packages.append(lib)
                    self.note("DR602", f"{name} is built from source against a system library: the runtime gets {lib}")
        for name in requirements:
            lib = deps.PIP_WHEEL_LIBS.get(name)
            if lib and family == "debian" and not self.distroless and lib not in packages:
                packages.append(lib)
                self.note(
                    "DR602", f"{name}'s wheel links {lib}'s library, which it does not bundle: the runtime gets {lib}"
                )
        if self.distroless:
            for name in requirements:
                why = deps.PIP_PLUGIN_LIBS.get(name)
                if why:
                    why = f"{name} {why}, which the library scan does not see"
                    if self.auto:
                        raise python_distroless.KeepSlim(why, self.stage.from_.line)
                    raise Skip(f"{why}; use --runtime slim", self.stage.from_.line)
        for name, program in self._loaded_libraries(items, set(requirements), family, deps.PIP_RUN_PROGRAMS):
            why = f"{name} runs `{program}` when imported, which the original's image has"
            if self.distroless:
                if self.auto:
                    raise python_distroless.KeepSlim(f"{why} and distroless cannot have", self.stage.from_.line)
                raise Skip(f"{why} and distroless cannot have; use --runtime slim", self.stage.from_.line)
            if program not in packages:
                packages.append(program)
                self.note("DR602", f"{why}: the runtime gets {program}")
        for name, lib in self._loaded_libraries(items, set(requirements), family):
            if self.distroless:
                raise Skip(
                    f"{name} opens {lib} itself when imported (ctypes), which the library scan cannot see and "
                    "distroless cannot install; use --runtime slim",
                    self.stage.from_.line,
                )
            if lib not in packages:
                packages.append(lib)
                self.note(
                    "DR602",
                    f"{name} opens {lib} itself when imported (ctypes; nothing in the requirements bundles it), and "
                    f"the original's image has it: the runtime gets {lib}",
                )
        return packages

    def _loaded_libraries(
        self, items: list[Item], names: set[str], family: str | None, table: dict | None = None
    ) -> list[tuple[str, str]]:
        """(requirement, runtime package) for the requirements (names) that load a system library through ctypes
        (or, with deps.PIP_RUN_PROGRAMS as `table`, run a program), which the original's image provides: the full
        python image (buildpack-deps has the client libraries and git) or one of its own installs."""
        wanted = [(n, row) for n, row in (deps.PIP_LOADED_LIBS if table is None else table).items() if n in names]
        if not wanted:
            return []
        texts = [self.ctx.read_text(f) or "" for f in self.ctx.entries if deps.REQUIREMENT_FILES.match(f)]
        tag = images.tag_of(self.facts.image_text)
        full_image = "slim" not in tag and "alpine" not in tag
        installed = {p for it in items for s in it.segments if s.kind == deps.SYSTEM for p in s.packages}
        out = []
        for name, (debian, alpine, bundled, provided_by) in wanted:
            if any(bundled.search(t) for t in texts):
                continue
            if full_image or any(provided_by.match(p) for p in installed):
                out.append((name, alpine if family == "alpine" else debian))
        return out

    def _requirement_names(self, items: list[Item]) -> list[str]:
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
            data = read_toml(text)
            if data is None:
                names += [deps.normalize(n) for n in re.findall(r"^([A-Za-z0-9][\w.-]*)\s*=", text, re.MULTILINE)]
            else:  # [packages], and [dev-packages] when an install asks for them ([[source]] names no package)
                dev = any(
                    s.words[:1] == ["pipenv"] and {"--dev", "-d"} & set(s.words) for it in items for s in it.segments
                )
                names += [
                    deps.normalize(n)
                    for n in [*toml_table(data, "packages"), *(toml_table(data, "dev-packages") if dev else {})]
                ]
        return names

    def _cmd_is_arguments(self, scripts: frozenset[str]) -> bool:
        """Whether the ENTRYPOINT, in exec form, is the interpreter (`["python3"]`) or, under `auto`, a script of
        a declared package (`["greeter"]`): then CMD only gives it arguments. An entrypoint that runs its
        arguments as a command (a start script, tini) leaves CMD a program."""
        entry = self.stage.last("ENTRYPOINT")
        argv = Command.of(entry).as_simple_argv() if entry is not None and entry.args and entry.json else None
        if not argv:
            return False
        name = posixpath.basename(argv[0])
        return bool(PYTHON_PROGRAM.match(name)) or (
            "/" not in argv[0] and python_distroless.declared_script(name, scripts)
        )

    def _declared_scripts(self, items: list[Item]) -> frozenset[str]:
        """The packages the app declares and the project's own console scripts: what a bare program name in the
        command may be, as the virtualenv will have it."""
        names = {deps.normalize(n) for n in self._requirement_names(items)}
        data = self.facts.pyproject
        if data is not None:
            names |= {*toml_table(data, "project", "scripts"), *toml_table(data, "tool", "poetry", "scripts")}
        setup = self.ctx.read_text("setup.py")
        info = source.read_setup_py(setup) if setup else None
        if info is not None:
            names |= set(info.console_scripts)
        return frozenset(names)

    def _project_dependencies(self) -> list[str]:
        """Dependencies of the project itself (`pip install .`), from pyproject.toml or setup.py."""
        names: list[str] = []
        data = self.facts.pyproject
        if data is not None:
            listed = toml_table(data, "project").get("dependencies")
            names += [deps.spec_name(d) for d in (listed if isinstance(listed, list) else []) if isinstance(d, str)]
            names += [deps.normalize(n) for n in toml_table(data, "tool", "poetry", "dependencies") if n != "python"]
        setup = self.ctx.read_text("setup.py")
        if setup:
            info = source.read_setup_py(setup)
            if info is not None:
                names += [deps.spec_name(r) for r in info.install_requires]
        return [n for n in names if n]

    def _import_warnings(self, items: list[Item]) -> None:
        if not self.ctx.known or not self.options.notes:
            return

        requirements = self._requirement_names(items)
        for warning in source.import_warnings(source.imports(self.ctx), requirements):
            self.note("DR405", warning)

    def _runtime_tools(self, items: list[Item], last_dep: int, rt: Runtime) -> list[str]:
        """Packages for the tools the runtime's commands call (python and pip-installed scripts need none)."""
        stage = self.stage
        checks: list[tuple[Instruction, list[str]]] = []
        scripts = self._declared_scripts(items) if self.distroless and self.auto else frozenset()
        for index, it in enumerate(items):
            if it.ins.keyword == "RUN" and (
                it.role == "runtime" or it.role == "split" or (it.role == "neutral" and index > last_dep)
            ):
                checks.append((it.ins, [s.words[0] for s in it.segments if s.kind == deps.APP and s.words]))
        for keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            ins = stage.last(keyword)
            if ins is None or not ins.args or (keyword == "HEALTHCHECK" and ins.args[0].upper() != "CMD"):
                continue
            if keyword == "CMD" and self._cmd_is_arguments(scripts):
                continue  # the CMD is the entrypoint's arguments (a script, `-m module`, options), not a program
            # what the runtime runs: `poetry run uvicorn …` runs uvicorn there, from the virtualenv
            command = (
                healthcheck_command(ins) if keyword == "HEALTHCHECK" else direct_command(ins, self._direct_text(ins))
            )
            checks.append((ins, tools.programs(command)[0] + self._script_programs(command)))
        extra: list[str] = []
        for ins, programs in checks:
            for program in programs:
                name = posixpath.basename(program)
                if self.distroless:
                    self._check_distroless_program(ins, program, scripts)
                    continue
                if PYTHON_PROGRAM.match(program) or "/" in program and not program.startswith("/usr/bin/"):
                    continue  # the interpreter, or a script/binary the app ships
                if name in BUILD_PROGRAMS and ins.keyword == "RUN":
                    raise Skip(
                        f"`{name}` runs here after the dependencies; the slim runtime does not have it", ins.line
                    )
                available, package = rt.provides(name)
                if available and package and package not in extra:
                    extra.append(package)
        if extra:
            self.note(
                "DR602",
                f"the runtime installs {', '.join(extra)}: the commands (or scripts they start) call them and the "
                f"{rt.name} image lacks them",
            )
        return extra

    def _linked_libraries(self, strategy: str, known: list[str]) -> tuple[ops.Op, list[ops.Op]]:
        """For -dev packages with no known runtime package: a builder step that writes the Debian packages
        owning the shared libraries the installed modules link (ldd over every .so, dpkg -S on each library,
        trying both sides of the /usr merge), and the runtime steps that install them from that list."""
        where = {"prefix": PREFIX, "venv": VENV, "user": "/root/.local"}[strategy]
        self.note(
            "DR602",
            f"no known runtime package for {', '.join(self.linked_scan)}: the builder lists the Debian packages of "
            f"the shared libraries the modules in {where} link (ldd, dpkg -S) in {LINKED_LIST}, and the runtime "
            "installs them (its release must be the builder's)",
        )
        scan = ops.step(
            f"RUN find {where} -name '*.so*' -type f -exec ldd {{}} + 2>/dev/null \\\n"
            "    | awk '$2 == \"=>\" && $3 ~ /^\\// {print $3}' | sort -u \\\n"
            "    | while read -r lib; do \\\n"
            '        dpkg -S "$lib" || dpkg -S "/usr$lib" || dpkg -S "${lib#/usr}" \\\n'
            '        || dpkg -S "$(readlink -f "$lib")"; \\\n'
            f"      done 2>/dev/null | grep -v '^diversion' | cut -d: -f1 | sort -u > {LINKED_LIST}",
            (
                f"# No known runtime package for {', '.join(self.linked_scan)}: list the Debian packages of the",
                "# shared libraries the built modules link, for the runtime to install (a library dpkg does",
                "# not own, such as one a wheel bundles, is not a package: failures in the pipe are expected)",
                "# hadolint ignore=DL4006",
            ),
        )
        install = [
            ops.step(f"COPY --from=builder {LINKED_LIST} {LINKED_LIST}"),
            ops.step(
                "RUN apt-get update \\\n"
                f" && apt-get install -y --no-install-recommends {''.join(p + ' ' for p in known)}"
                f"$(cat {LINKED_LIST}) \\\n"
                f" && rm -rf /var/lib/apt/lists/* {LINKED_LIST}",
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
