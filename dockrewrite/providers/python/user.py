"""The unprivileged user and the files it must own: app copies, folders it writes, env files it loads."""

from __future__ import annotations

import re

from dockrewrite.model import Instruction
from dockrewrite.providers import writes
from dockrewrite.providers.python import deps, source
from dockrewrite.providers.python.layout import Item


class RuntimeUser:
    """Planner methods that decide who runs the app and what it may write."""

    def _runs_unprivileged(self, items: list[Item]) -> bool:
        """Whether the runtime gets the unprivileged user: no USER in the original, root not kept, and the app
        not copied into / (it may write next to itself there, and / cannot be given to the user)."""
        if self.options.keep_root or self.facts.user is not None:
            return False
        if self.facts.workdir == "/" and any(self._copies_into_root(it.ins) for it in items):
            self.note(
                "DR203",
                "the app is copied into / with no WORKDIR, and it may write next to itself: the runtime keeps "
                "root, as the original did (give it a WORKDIR to run it unprivileged)",
            )
            return False
        return True

    def _copies_into_root(self, ins: Instruction) -> bool:
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None or len(ins.args) < 2:
            return False
        return self._copies_manifests_only(ins) is False and ins.args[-1].rstrip("/") in ("", ".")

    def _app_copy(self, ins: Instruction) -> str:
        """The app's files, owned by the user the rewrite runs it as: the original's root could write them."""
        if self.owner is None or ins.flag("chown") is not None:
            return self._numeric_chown(ins)
        return re.sub(r"(?i)^(COPY|ADD)\s+", lambda m: f"{m.group(0)}--chown={self.owner} ", ins.text, count=1)

    def _copies_manifests_only(self, ins: Instruction) -> bool:
        sources = list(ins.args[:-1])
        return bool(sources) and all(deps.is_manifest(s) for s in sources)

    def _start_files(self):
        if not hasattr(self, "_start_cache"):
            # only notes and the .dockerignore proposal use it: --check, which shows neither, skips the scan
            scan = self.ctx.known and self.options.notes
            self._start_cache = source.start_files(self.ctx) if scan else source.StartFiles()
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
            self.note("DR301", writes.baked_note(files, start.loader))
