"""The container's start in the runtime: which built binaries it carries and where, and its commands rewritten for
the runtime base."""

from __future__ import annotations

import json
import posixpath

from dockrewrite import shell
from dockrewrite.model import Command
from dockrewrite.providers.common import Planner, healthcheck_command
from dockrewrite.providers.go import build as go_build
from dockrewrite.providers.go import runtime as runtimes
from dockrewrite.providers.go.analyse import GoFacts
from dockrewrite.runtimes.base import Runtime


class StartMixin(Planner):
    """The planner's binaries and commands for the runtime stage."""

    def _binaries(self, facts: GoFacts) -> list[tuple[str, str]]:
        """(path in builder, path in runtime) for the binaries the runtime runs."""
        main, built = facts.main, facts.built
        words = facts.command_words | set(facts.script_programs)
        # Other binaries count only when a command names them by a path or name that resolves to them.
        referenced = {m.output for w in words if (m := facts.binary_for(w)) is not None}
        picked: list[go_build.GoBuild] = [main]
        for b in built:
            if b is main or b.output in {p.output for p in picked}:
                continue
            if b.output in referenced:
                picked.append(b)
            elif posixpath.basename(b.output) != posixpath.basename(main.output):
                self.note(
                    "DR104",
                    f"{b.output} (line {b.line}) is built but nothing in the image runs it; it stays in the builder",
                )
        out = []
        for b in picked:
            dest = b.output
            # A binary found through the golang image's PATH (/go/bin) must land on the runtime's PATH.
            if not runtimes.on_path(posixpath.dirname(dest)) and not self._path_referenced(facts, dest):
                dest = posixpath.join("/usr/local/bin", posixpath.basename(dest))
            out.append((b.output, dest))
        return out

    def _path_referenced(self, facts: GoFacts, path: str) -> bool:
        if path in facts.script_programs:
            return True
        workdir = self.last_workdir()
        return any("/" in w and shell.resolve(workdir, w) == path for w in facts.command_words)

    def _command_rewrites(self, facts: GoFacts, rt: Runtime, binaries) -> dict[str, str | None]:
        """Exec form for simple shell-form commands when the runtime has no shell; moved binary paths."""
        out: dict[str, str | None] = {}
        moved = {src: dest for src, dest in binaries if src != dest}
        has_shell = rt.shell
        for ins in (facts.entrypoint, facts.cmd, facts.healthcheck):
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
                self.note("DR101", f"{ins.keyword} (line {ins.line}) is now exec form: {rt.name} has no /bin/sh")
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
