"""Everything that depends on the runtime base: images per runtime, distroless, adding the user, packages."""

from __future__ import annotations

import json
import posixpath
import re

from dockrewrite import images, ops, tools
from dockrewrite.model import Instruction
from dockrewrite.providers import writes
from dockrewrite.providers.common import healthcheck_command, healthcheck_exec
from dockrewrite.providers.python import distroless as python_distroless
from dockrewrite.providers.python.layout import PREFIX, PYTHON_PROGRAM, UV_PYTHON, VENV
from dockrewrite.providers.python.start import direct_command
from dockrewrite.results import Skip
from dockrewrite.runtimes import distroless, select, slim
from dockrewrite.runtimes.base import Runtime
from dockrewrite.runtimes.distroless import NONROOT

APP_UID = "10001"


class RuntimeBase:
    """Planner methods whose answer depends on which runtime base (slim, alpine, distroless) is used."""

    auto = False  # distroless tried for `--runtime auto`: it refuses more, and the planner falls back to slim

    def _builder_image(self) -> str:
        return self.stage.image

    def _runtime_python(self) -> str | None:
        """The Python version the runtime runs ("3.12"), None when the image does not say: the image's own, on
        every runtime (distroless gets the builder's interpreter copied in)."""
        return images.python_version(self.facts.image_text)

    def _run_as(self) -> str:
        """The uid:gid the runtime's unprivileged user has: distroless ships nonroot, the others get app."""
        return NONROOT if self.distroless else f"{APP_UID}:{APP_UID}"

    def _user_label(self) -> str:
        return NONROOT if self.distroless else f"app (uid {APP_UID})"

    def _added_user_note(self) -> str:
        uid = self._run_as()
        return (
            f"no USER in the original: the runtime runs as uid {uid.split(':')[0]} "
            + ("(distroless nonroot" if self.distroless else "(user app")
            + "; --keep-root keeps root); files the app writes must be writable by it"
        )

    def _user_steps(self, rt: Runtime, found: writes.Writes) -> list[ops.Op]:
        """The runtime steps that add the unprivileged user and give it the folders it writes."""
        if not self.distroless:
            owns = [writes.own_folders(found.paths, "app:app")] if found.paths else []
            comment = "# An unprivileged user to run the app, owning its folder as root did in the original"
            return [rt.add_user("app", APP_UID, owns, (comment,))]
        if not found.paths:
            return []
        # distroless has no shell: the builder makes the folders, the runtime copies them in with their owner
        self.writes_build = found.paths
        return writes.copy_steps(found.paths, NONROOT, "base" if self.split else "builder")

    def _install_steps(self, packages: list[str], rt: Runtime) -> list[ops.Op]:
        """The runtime's package install, or Skip where the base cannot install packages."""
        if packages and self.distroless:
            raise Skip(
                f"the runtime needs {', '.join(packages)} and distroless cannot install packages (it gets only the "
                "shared libraries the build linked); use --runtime slim",
                self._package_lines.get(packages[0], self.stage.from_.line),
            )
        return [self._install_step(packages, rt)] if packages else []

    def _distroless_strategy(self, requested: str) -> str:
        """distroless gets the interpreter without the image's site-packages: the packages go into a virtualenv."""
        if requested in ("prefix", "user"):
            raise Skip(
                f"--runtime distroless needs --python-strategy venv: the runtime gets the image's interpreter "
                f"without its site-packages, so a {requested} install has nowhere to go",
                self.stage.from_.line,
            )
        self.note(
            "DR106",
            f"strategy venv: {VENV} is made with the image's own python, whose links (/usr/local/bin/python*) "
            "the distroless runtime gets with the interpreter",
        )
        return "venv"

    def _refuse_uv_python(self, reason: str, version: str) -> None:
        if self.distroless:
            raise Skip(
                f"uv would install its own Python ({reason}), and the distroless runtime gets the image's Python "
                f"{version}; use --runtime slim",
                self.stage.from_.line,
            )

    def _refuse_outside_command(self) -> None:
        """No CMD or ENTRYPOINT: a command given from outside may be a shell line, which distroless cannot run."""
        requested = select.for_language(self.options.runtime, "python")
        if requested is not None and not requested.shell:
            raise Skip(
                "no CMD or ENTRYPOINT: the command comes from outside the Dockerfile, and distroless cannot run "
                "a shell command line it might be given",
                self.stage.from_.line,
            )

    def _refuse_runtime_uv(self) -> None:
        if self.distroless:
            raise Skip("the command calls uv, which the distroless image does not have", self.stage.from_.line)

    def _refuse_runtime_shell(self, ins: Instruction) -> None:
        """A RUN carried into the runtime stage needs the base's shell."""
        if self.distroless:
            raise Skip(
                "this step would run in the runtime stage, and distroless has no shell to run it; use --runtime slim",
                ins.line,
            )

    def _runtime_image(self, image: str) -> tuple[str, Runtime]:
        requested = self.options.runtime
        line = self.stage.from_.line
        if requested == select.AUTO:
            rt = select.like_builder(self.facts.alpine)
        else:
            found = select.for_language(requested, "python")
            if found is None:
                raise Skip(f"--runtime {requested} cannot run this Python app: {requested} has no interpreter", line)
            rt = found
        if rt is distroless.STATIC:
            return self._distroless_image(image), rt
        if self.facts.alpine and rt.libc != "musl":
            raise Skip("the builder is alpine (musl); packages built there do not run on Debian slim", line)
        if not self.facts.alpine and rt.libc == "musl":
            raise Skip("packages built on a Debian python image (glibc) do not run on alpine (musl)", line)
        return rt.image("python", self.facts.image_text), rt

    def _distroless_image(self, image: str) -> str:
        """distroless static: the runtime gets the builder's own interpreter and every library it links."""
        line = self.stage.from_.line
        if self.facts.alpine:
            raise Skip(
                "distroless is Debian (glibc); the interpreter and packages built on alpine (musl) do not run there",
                line,
            )
        if self.auto:
            reason = python_distroless.auto_refusal(self.ctx, self.facts.workdir)
            if reason:
                raise python_distroless.KeepSlim(reason, line)
        runtime_image = distroless.STATIC.image("python", image)
        if runtime_image is None:
            raise Skip(f"{self.facts.image_text} is not a Debian python image, whose interpreter distroless gets", line)
        version = images.python_version(image)
        if version and not version.startswith("3."):
            raise Skip(f"Python {version}: the distroless rewrite copies a Python 3 interpreter", line)
        for ins in self.stage.instructions:
            if re.search(r"/usr/local/(lib|bin)/(python|pip)", ins.text):
                raise Skip(
                    "this line names the image's Python under /usr/local; on distroless the packages are in the "
                    f"virtualenv {VENV}, which that interpreter does not see",
                    ins.line,
                )
        self.distroless = True
        self.note(
            "DR501",
            "distroless static runs the builder's own Python"
            + (f" {version}" if version else "")
            + f" ({self.facts.image_text}): the interpreter, libpython and the standard library are copied from "
            "/usr/local to the same paths, so the version is the original's exactly, with the builder's glibc, so "
            "the runtime follows whatever Debian release the tag gives",
        )
        self.note(
            "DR602",
            f"the builder lists the shared libraries the interpreter and the packages in {VENV} link (ld.so, as the "
            "runtime's loader finds them) and the runtime gets every one, glibc included; a library the app opens "
            "itself (ctypes, dlopen) is not linked, so it is not found: such an app needs --runtime slim",
        )
        self.note(
            "DR304",
            "the runtime's Python leaves out the image's site-packages (pip, setuptools, build tools), its scripts "
            "(pip, idle, pydoc) and tkinter, idlelib and turtledemo (X11 libraries)",
        )
        return runtime_image + (distroless.STATIC.nonroot_tag if self.non_root else "")

    def _note(self, rt: Runtime, strategy: str) -> str:
        if self.distroless:
            why = "; auto: nothing at run time needs a shell or a package" if self.auto else ""
            return f"distroless static (no shell) with the builder's own Python, the libraries it links and {VENV}{why}"
        # on alpine the runtime is the builder's own image (what is built against musl there runs there)
        same = rt.family == "alpine"
        image = "the same alpine image" if same else "the slim image of the same Python"
        if self.uv_python:
            image = f"the {'same alpine' if same else 'slim'} image with uv's Python in {UV_PYTHON}"
        where = {
            "prefix": f"packages from {PREFIX} land in /usr/local",
            "venv": f"the virtualenv {VENV} is copied whole",
            "user": "the user site (~/.local) is copied",
        }[strategy]
        return f"{image}; {where}"

    def _distroless_step(self, ins: Instruction) -> list[ops.Op]:
        """USER, CMD, ENTRYPOINT or HEALTHCHECK as distroless can run it: exec form, ids for names."""
        k = ins.keyword
        if k == "USER":
            name = ins.args[0].split(":")[0] if ins.args else ""
            if name.isdigit() or name in ("root", "nonroot"):
                return [ops.step(ins.text, ins.comments)]
            self.note("DR202", f"USER {ins.args[0]} becomes {NONROOT}: distroless has no user named {name}")
            return [ops.step(f"USER {NONROOT}", ins.comments)]
        if k == "HEALTHCHECK":
            if not ins.args or ins.args[0].upper() != "CMD" or ins.json:
                return [ops.step(ins.text, ins.comments)]
            argv = healthcheck_command(ins).as_simple_argv()
            if argv is None:
                raise Skip("this HEALTHCHECK needs a shell, and distroless has none", ins.line)
            self.note("DR601", f"HEALTHCHECK (line {ins.line}) runs in exec form: distroless has no shell")
            return [ops.step(healthcheck_exec(ins, argv), ins.comments)]
        direct = self._direct_text(ins)
        command = direct_command(ins, direct)
        argv = command.as_simple_argv()
        if argv is None:
            raise Skip(f"{k} needs a shell, and distroless has none", ins.line)
        text = f"{k} {json.dumps(list(argv))}"
        if direct or not command.exec_form:
            self.rewritten.add(k)
            self.note("DR601", f"{k} (line {ins.line}) runs in exec form, directly: distroless has no shell")
        return [ops.step(text, ins.comments)]

    def _numeric_chown(self, ins: Instruction) -> str:
        """COPY --chown=app:app -> --chown=65532:65532 on distroless, which has no such user."""
        owner = ins.flag("chown")
        if not self.distroless or owner is None or owner.split(":")[0].isdigit() or owner.split(":")[0] == "root":
            return ins.text
        self.note("DR202", f"COPY --chown={owner} (line {ins.line}) becomes {NONROOT}: distroless has no such user")
        return re.sub(r"(?i)--chown=\S+", f"--chown={NONROOT}", ins.text, count=1)

    @staticmethod
    def _install_step(packages: list[str], rt: Runtime) -> ops.Op:
        comments = () if rt.family == "alpine" else ("# Shared libraries and tools the app needs at run time",)
        return rt.install(packages, comments)

    def _check_distroless_program(self, ins: Instruction, program: str, scripts: frozenset[str] = frozenset()) -> None:
        """Python, the virtualenv's scripts and the app's Python files run on distroless; shells and tools do not.
        Under `auto` a program must be known to be one of those: a script of a package the app declares or of
        the project (`scripts`), or a Python file the context holds; anything else keeps the slim image."""
        name = posixpath.basename(program)
        if name.startswith("pip") and PYTHON_PROGRAM.match(name):
            raise Skip(f"`{name}` is not in the distroless runtime, which gets the interpreter without pip", ins.line)
        if PYTHON_PROGRAM.match(name) or program.startswith(f"{VENV}/bin/"):
            return
        if "/" in program and not program.startswith(("/usr/", "/bin/", "/sbin/")):
            copied = self.copied_file(program)
            script = self.ctx.read_text(copied) if copied else None
            if name.endswith((".sh", ".bash")) or (script is not None and not python_shebang(script)):
                raise Skip(f"`{program}` needs an interpreter the distroless image lacks (a shell)", ins.line)
            if self.auto and script is None:
                raise python_distroless.KeepSlim(
                    f"`{program}` is not a file of the build context, so nothing shows it runs without a shell",
                    ins.line,
                )
            return
        if slim.SLIM.provides(name)[0] or name in tools.SHELL_BUILTINS or "/" in program:
            raise Skip(f"`{name}` is not in the distroless runtime, which has no shell or tools", ins.line)
        if self.auto and not python_distroless.declared_script(name, scripts):
            raise python_distroless.KeepSlim(
                f"`{name}` is not a script of a package the app declares, so it may be a program distroless lacks",
                ins.line,
            )


def python_shebang(text: str) -> bool:
    first_line = text.split("\n", 1)[0]
    return first_line.startswith("#!") and "python" in first_line


_UV_PYTHON_TAG = re.compile(r"^(?:[\d.]+-)?python(3\.\d+)-(bookworm|bullseye|trixie|alpine(?:3\.\d+)?)(-slim)?$")


def uv_python_image(image: str) -> str | None:
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
