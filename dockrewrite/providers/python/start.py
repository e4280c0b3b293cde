"""The start command: `uv run`/`poetry run` taken off, poe and make tasks resolved, dev tools it needs."""

from __future__ import annotations

import json
import posixpath
import re
import shlex

from dockrewrite import shell, tools
from dockrewrite.intents import CommandChanged
from dockrewrite.model import Command, Instruction
from dockrewrite.providers.python import deps
from dockrewrite.providers.python.layout import PYTHON_PROGRAM
from dockrewrite.providers.python.pyproject import toml_table


class StartCommand:
    """Planner methods that read and rewrite the CMD/ENTRYPOINT the runtime runs."""

    def _direct_text(self, ins: Instruction) -> str | None:
        """CMD/ENTRYPOINT as the runtime runs it, when that differs: a poe task resolved to the command it runs,
        or `uv run`/`poetry run` … taken off. None to keep the line."""
        return self.task_commands.get(ins.keyword) or without_runner(ins)

    def _dev_tools_at_run_time(self) -> str | None:
        """When the command (or the poe/make task it runs) calls a program only the dev group installs, the
        runtime keeps the dev group: the reason, else None. A poe task that is a plain command is resolved to
        it instead, so poe itself is not needed (self.task_commands)."""
        self.task_commands: dict[str, str] = {}
        self.poe_config: str | None = None  # where the image has the pyproject.toml poe reads at run time
        dev_only = self.facts.dev_only
        if not dev_only:
            return None
        for keyword in ("ENTRYPOINT", "CMD"):
            ins = self.stage.last(keyword)
            if ins is None or not ins.args:
                continue
            argv = direct_command(ins).as_simple_argv()
            if not argv:
                continue
            program = posixpath.basename(argv[0])
            if program == "poe" or list(argv[:3]) == [argv[0], "-m", "poethepoet"] and PYTHON_PROGRAM.match(program):
                rest = list(argv[1:]) if program == "poe" else list(argv[3:])
                while rest and rest[0] in _POE_OUTPUT_OPTIONS:
                    rest = rest[1:]  # they change what poe itself prints, not what the task runs
                resolved, why = self._poe_task(rest)
                self.poe_config = self._image_path_of("pyproject.toml")  # unless the task is resolved below
                if resolved is not None:
                    needs = dev_package(resolved, dev_only)
                    if needs:
                        return self._keep_dev_note(ins, f"poe task `{rest[0]}` runs `{needs[0]}`", needs[1])
                    text = (
                        f"{keyword} {json.dumps(list(resolved.argv))}"
                        if resolved.exec_form
                        else f"{keyword} {resolved.shell}"
                    )
                    self.task_commands[keyword] = text
                    self.poe_config = None
                    run = tuple(resolved.argv) if resolved.exec_form else ("/bin/sh", "-c", resolved.shell)
                    self.declare(CommandChanged("poe-task", run))
                    self.note(
                        "DR101",
                        f"{keyword} (line {ins.line}) runs poe task `{rest[0]}` as what it runs "
                        f"(`{text[len(keyword) + 1 :]}`, from [tool.poe.tasks]): poe is a dev-group tool the runtime "
                        "leaves out",
                    )
                    continue
                if "poethepoet" in dev_only:
                    return self._keep_dev_note(ins, f"poe task `{rest[0] if rest else ''}` ({why})", "poethepoet")
            if program == "make" and len(argv) >= 2:
                for command in self._make_recipe(argv[1]):
                    needs = dev_package(command, dev_only)
                    if needs:
                        return self._keep_dev_note(ins, f"make target `{argv[1]}` runs `{needs[0]}`", needs[1])
            needs = dev_package(Command(True, tuple(argv)), dev_only)
            if needs:
                return self._keep_dev_note(ins, f"it runs `{needs[0]}`", needs[1])
        return None

    def _image_path_of(self, name: str) -> str | None:
        """Where a COPY without --from puts the context's top-level file `name` in the image."""
        for ins, dest, raw_sources in self.facts.copies:
            sources = [a.removeprefix("./") for a in raw_sources]
            if name in sources:
                many = len(sources) > 1 or ins.args[-1].endswith("/")
                return posixpath.join(dest, name) if many else dest
        return None

    def _keep_dev_note(self, ins: Instruction, what: str, package: str) -> str:
        reason = f"{ins.keyword} (line {ins.line}): {what}, which only the dev dependency group installs ({package})"
        self.note("DR404", f"{reason}: the runtime keeps the dev group (no --without dev / --no-dev)")
        return reason

    def _poe_task(self, rest: list[str]) -> tuple[Command | None, str]:
        """The command a `poe TASK [args]` runs, from [tool.poe.tasks], when it is a plain command or shell line
        poe runs as it is (no env, cwd, deps, sequences or scripts); else (None, why)."""
        if not rest or rest[0].startswith("-"):
            return None, "poe options or no task name"
        poe = toml_table(self.facts.pyproject or {}, "tool", "poe")
        if set(poe) - {"tasks"}:
            return None, f"[tool.poe] sets {', '.join(sorted(set(poe) - {'tasks'}))}"
        task = toml_table(poe, "tasks").get(rest[0])
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

    def _calls_uv(self) -> bool:
        """Whether the runtime's command (or the start script it runs) calls uv after `uv run` is taken off."""
        for keyword in ("CMD", "ENTRYPOINT"):
            ins = self.stage.last(keyword)
            if ins is None or not ins.args:
                continue
            command = direct_command(ins)
            programs = tools.programs(command)[0] + self._script_programs(command)
            if any(posixpath.basename(p) in ("uv", "uvx") for p in programs):
                return True
        return False

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


def without_runner(ins: Instruction) -> str | None:
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


_POE_OUTPUT_OPTIONS = frozenset({"-q", "-qq", "--quiet", "-v", "--verbose", "--ansi", "--no-ansi"})


# console scripts whose distribution has another name
SCRIPT_PACKAGES = {
    "poe": "poethepoet",
    "django-admin": "django",
    "watchmedo": "watchdog",
    "pserve": "pyramid",
    "jupyter-lab": "jupyterlab",
    "jupyter-notebook": "notebook",
    "fastapi": "fastapi-cli",
    "py.test": "pytest",
}


def dev_package(command: Command, dev_only: set[str]) -> tuple[str, str] | None:
    """(program, package) when a command runs a program, or `python -m` a module, that only the dev group has."""
    for program in tools.programs(command)[0]:
        name = posixpath.basename(program)
        package = SCRIPT_PACKAGES.get(name, deps.normalize(name))
        if package in dev_only:
            return name, package
    argv = command.as_simple_argv() or ()
    if len(argv) >= 3 and PYTHON_PROGRAM.match(posixpath.basename(argv[0])) and argv[1] == "-m":
        package = deps.normalize(argv[2].split(".")[0])
        if package in dev_only:
            return f"python -m {argv[2]}", package
    return None


def direct_command(ins: Instruction, direct: str | None = None) -> Command:
    """The command of a CMD/ENTRYPOINT once `uv run`/`poetry run` … is taken off (see without_runner), or of
    `direct`, the instruction text the runtime gets instead."""
    direct = direct or without_runner(ins)
    if direct is None:
        return Command.of(ins)
    rest = direct[len(ins.keyword) + 1 :]
    return Command(True, tuple(json.loads(rest))) if rest.startswith("[") else Command(False, shell=rest)
