"""The runtime's user, and the folders it must own because the program writes there."""

from __future__ import annotations

from dockrewrite.providers import writes
from dockrewrite.providers.common import Planner
from dockrewrite.providers.go import runtime as runtimes
from dockrewrite.providers.go.analyse import GoFacts
from dockrewrite.results import Skip
from dockrewrite.runtimes.base import Runtime


class UserMixin(Planner):
    """The planner's USER line and the writable folders that come with it."""

    def _user(self, facts: GoFacts, rt: Runtime) -> str | None:
        """The USER line for the runtime, or None to keep the original's."""
        original = facts.user
        if original is None:
            if self.options.keep_root:
                return None
            line, note = runtimes.default_user()
            self.note("DR201", note)
            return line
        spec = original.args[0] if original.args else ""
        name, _, group = spec.partition(":")
        if name.isdigit() or name == "root":
            return None
        if name in facts.users:
            uid = facts.users[name]
            gid = facts.users.get(group, uid if not group or group == name else None) if group else None
            text = f"USER {uid}:{gid}" if gid else f"USER {uid}"
            self.note(
                "DR202",
                f"USER {spec} (line {original.line}) becomes {text[5:]}: the runtime image has no user named {name}",
            )
            return text
        if name == "nobody":
            return runtimes.nobody_user(rt)
        raise Skip(
            f"USER {spec}: its uid is not known and the runtime image has no such user; create it with an "
            "explicit -u/--uid or use a numeric USER",
            original.line,
        )

    def _writes(self, facts: GoFacts) -> writes.Writes:
        """The folders the runtime user must own (the shared rule, fed with what the Go code says)."""
        src = facts.sources
        reason = None
        if src.writes_relative:
            reason = f"the code writes relative to the working directory: {src.writes_relative}"
        elif facts.sqlite_module:
            reason = f"SQLite ({facts.sqlite_module}) writes its database and journal in the working directory"
        reads = [(n, f) for n, f in src.env_reads.items() if writes.is_write_name(n)]
        start = {"GOPATH": "/go"} if facts.golang_image else {}
        return writes.find(
            self.stage,
            facts.workdir,
            workdir_reason=reason,
            code_folders=[(folder, where) for folder, where in src.write_folders],
            env_reads=reads,
            start_env=start,
            ctx=self.ctx,
            start_workdir=self.start_dir(),
        )
