"""The container's start: which programs CMD/ENTRYPOINT/HEALTHCHECK run, which built binaries they are, the tools
the runtime must provide, and the commands rewritten for the runtime."""

from __future__ import annotations

import json
import posixpath

from dockrewrite import shell, tools
from dockrewrite.model import Command, Instruction
from dockrewrite.providers.common import DEFAULT_PATH, EntryScript, Planner, healthcheck_command
from dockrewrite.providers.go import build as go_build
from dockrewrite.providers.go import runtime as runtimes
from dockrewrite.providers.go.walk import Walk
from dockrewrite.results import Skip


class StartMixin(Planner):
    """The planner's reading of what the container runs."""

    script: EntryScript | None

    def _entry(self) -> tuple[Instruction | None, Instruction | None]:
        ep, cmd = self.stage.last("ENTRYPOINT"), self.stage.last("CMD")
        if ep is not None and ep.json and not ep.args:
            ep = None  # `ENTRYPOINT []` clears the entrypoint
        return ep, cmd

    def _program_command(self, entry) -> tuple[Instruction, Command]:
        ep, cmd = entry
        ins = ep or cmd
        if ins is None:
            raise Skip(
                "no CMD or ENTRYPOINT: the command comes from outside the Dockerfile (compose, the base image), "
                "so the binary it runs cannot be known",
                self.stage.from_.line,
            )
        return ins, Command.of(ins)

    def _entry_programs(self, entry) -> tuple[Instruction, list[str], bool]:
        """(instruction, programs the container's command runs, whether it needs a shell)."""
        ins, command = self._program_command(entry)
        ep, cmd = entry
        extra = Command.of(cmd).argv if ep is not None and ep.json and cmd is not None and cmd.json else ()
        programs, needs_shell = tools.programs(command, extra)
        if self.script is None:
            return ins, programs, needs_shell
        # A start script from the context: its shell and what it runs, and the CMD it may `exec "$@"`.
        workdir = self.last_workdir()
        script_path = self.script.path
        programs = [
            p
            for p in programs
            if (shell.resolve(workdir, p) if "/" in p else p) not in (script_path, posixpath.basename(script_path))
        ]
        programs = [p for p in programs if posixpath.basename(p) not in tools.SHELLS]
        programs += self._script_programs()
        if ep is not None and cmd is not None and cmd.args and self.script.script.runs_arguments:
            programs += tools.programs(Command.of(cmd))[0]
        return ins, [self.script.script.interpreter, *programs], True

    def _script_programs(self) -> list[str]:
        if self.script is None:
            return []
        return [p for p, _ in self.script.script.programs if p not in tools.SHELL_BUILTINS]

    def _main_binary(self, walk: Walk, entry) -> go_build.GoBuild:
        ins, programs, _ = self._entry_programs(entry)
        if not programs:
            raise Skip(f"cannot tell which program {ins.keyword} runs", ins.line)
        built = [b for b in walk.builds if b.output]
        for program in programs:
            match = self._match_program(walk, program, built)
            if match is not None:
                return match
        if programs[0] == "go" and "run" in tools.command_words(Command.of(ins))[:3]:
            raise Skip(
                f"{ins.keyword} compiles and runs the program with `go run` at start-up; build it with "
                "`go build -o` and run the binary instead",
                ins.line,
            )
        names = ", ".join(sorted({posixpath.basename(b.output) for b in built})) or "none"
        shown = " / ".join(dict.fromkeys(programs))
        if self.script is not None:
            raise Skip(
                f"{ins.keyword} runs the start script {self.script.path}, whose commands run {shown}: "
                f"none is a binary this Dockerfile builds (built: {names})",
                ins.line,
            )
        raise Skip(
            f"{ins.keyword} runs {shown}, which is not a binary this Dockerfile builds (built: {names})", ins.line
        )

    def _match_program(self, walk: Walk, program: str, built: list[go_build.GoBuild]) -> go_build.GoBuild | None:
        if "/" in program:
            path = shell.resolve(walk.workdir, program)
            return next((b for b in reversed(built) if b.output == path), None)
        path_dirs = walk.env.get("PATH", ":".join(DEFAULT_PATH)).split(":")
        for directory in path_dirs:
            for b in reversed(built):
                if b.output == posixpath.join(directory, program):
                    return b
        return None

    def _tools_needed(self, walk: Walk, entry) -> dict[str, int]:
        """Programs other than our binaries that the runtime must provide (sh, wget, tini…) -> line."""
        needed: dict[str, int] = {}
        built = [b for b in walk.builds if b.output]
        checks: list[tuple[Instruction, list[str], bool]] = [self._entry_programs(entry)]
        hc = self.stage.last("HEALTHCHECK")
        if hc is not None and hc.args and hc.args[0].upper() == "CMD":
            checks.append((hc, *tools.programs(healthcheck_command(hc))))
        for ins, programs, needs_shell in checks:
            if needs_shell:
                needed.setdefault("sh", ins.line)
            for program in programs:
                if self._match_program(walk, program, built) is None:
                    needed.setdefault(posixpath.basename(program), ins.line)
        return needed

    def _binaries(self, walk: Walk, entry, main) -> list[tuple[str, str]]:
        """(path in builder, path in runtime) for the binaries the runtime runs."""
        ins, command = self._program_command(entry)
        built = [b for b in walk.builds if b.output]
        commands = [
            healthcheck_command(i) if i.keyword == "HEALTHCHECK" else Command.of(i)
            for i in self.stage.find("CMD", "ENTRYPOINT", "HEALTHCHECK")
            if i.args
        ]
        words = {w for c in commands for w in tools.command_words(c)} | set(self._script_programs())
        # Other binaries count only when a command names them by a path or name that resolves to them.
        referenced = {m.output for w in words if (m := self._match_program(walk, w, built)) is not None}
        picked: list[go_build.GoBuild] = [main]
        for b in built:
            if b is main or b.output in {p.output for p in picked}:
                continue
            if b.output in referenced:
                picked.append(b)
            elif posixpath.basename(b.output) != posixpath.basename(main.output):
                self.warnings.append(
                    f"{b.output} (line {b.line}) is built but nothing in the image runs it; it stays in the builder"
                )
        out = []
        for b in picked:
            dest = b.output
            # A binary found through the golang image's PATH (/go/bin) must land on the runtime's PATH.
            if not runtimes.on_path(posixpath.dirname(dest)) and not self._path_referenced(dest):
                dest = posixpath.join("/usr/local/bin", posixpath.basename(dest))
            out.append((b.output, dest))
        return out

    def _path_referenced(self, path: str) -> bool:
        if path in self._script_programs():
            return True
        for ins in self.stage.find("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            command = healthcheck_command(ins) if ins.keyword == "HEALTHCHECK" else Command.of(ins)
            for w in tools.command_words(command):
                if "/" in w and shell.resolve(self.last_workdir(), w) == path:
                    return True
        return False

    def _command_rewrites(self, entry, runtime: str, binaries) -> dict[str, str | None]:
        """Exec form for simple shell-form commands when the runtime has no shell; moved binary paths."""
        out: dict[str, str | None] = {}
        moved = {src: dest for src, dest in binaries if src != dest}
        has_shell = runtimes.has_shell(runtime)
        for ins in (entry[0], entry[1], self.stage.last("HEALTHCHECK")):
            if ins is None or not ins.args:
                continue
            if ins.keyword == "HEALTHCHECK":
                if ins.args[0].upper() != "CMD":
                    continue
                command = healthcheck_command(ins)
            else:
                command = Command.of(ins)
            if command.exec_form and ins.json and not moved:
                continue
            argv = command.as_simple_argv()
            if command.exec_form and not ins.json:
                argv = command.argv
            if not has_shell and not command.exec_form:
                if argv is None:
                    continue  # choosing the runtime already refused this combination
                self.warnings.append(f"{ins.keyword} (line {ins.line}) is now exec form: {runtime} has no /bin/sh")
            elif has_shell and not moved:
                continue
            if argv is None:
                continue
            argv = tuple(moved.get(shell.resolve(self.last_workdir(), a), a) if "/" in a else a for a in argv)
            exec_text = json.dumps(list(argv))
            if ins.keyword == "HEALTHCHECK":
                flags = " ".join(ins.flags)
                out["HEALTHCHECK"] = f"HEALTHCHECK {flags + ' ' if flags else ''}CMD {exec_text}"
            else:
                out[ins.keyword] = f"{ins.keyword} {exec_text}"
        return out
