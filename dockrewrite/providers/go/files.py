"""The files carried into the runtime: assets the program reads, files it loads at start, the start script."""

from __future__ import annotations

import posixpath
import re

from dockrewrite import ops, shell
from dockrewrite.providers import writes
from dockrewrite.providers.common import Planner, copy_text
from dockrewrite.providers.go import sources as go_source
from dockrewrite.providers.go.analyse import GoFacts, is_go_source

# Folders Go services conventionally read at run time.
ASSET_DIRS = frozenset(
    {
        "templates",
        "template",
        "tmpl",
        "static",
        "public",
        "assets",
        "web",
        "views",
        "migrations",
        "config",
        "configs",
        "conf",
        "locales",
        "locale",
        "i18n",
        "translations",
        "www",
        "html",
        "resources",
        "sql",
        "schema",
        "data",
        "database",
        "db",
        "storage",
        "uploads",
        "frontend/dist",
        "ui",
    }
)
# Runtime files and folders the app writes (SQLite files and their folders, uploads): owned by its user.
_WRITABLE = re.compile(r"\.(db|sqlite3?)$|^(data|database|db|storage|uploads)$")
_ASSET_FILE = re.compile(
    r"^(config|settings|app|conf)[\w.-]*\.(ya?ml|json|toml|ini|env|conf|hcl)$|\.(db|sqlite3?)$", re.I
)
_NEVER_CARRY = re.compile(
    r"^(\.git.*|\.github|\.gitlab.*|\.dockerignore|Dockerfile.*|.*\.Dockerfile|Containerfile|docker-compose.*|"
    r"compose\.ya?ml|Makefile|README.*|LICENSE.*|CHANGELOG.*|.*\.md|go\.(mod|sum|work|work\.sum)|vendor|"
    r"\.golangci.*|\.goreleaser.*|\.travis\.yml|\.editorconfig|\.vscode|\.idea|.*\.go|.*_test\.go|Gopkg\.(toml|lock))$"
)


class FilesMixin(Planner):
    """The planner's choice of what the runtime stage copies from the builder besides the binaries."""

    def _artifacts(
        self, facts: GoFacts, chown: str | None, binaries: list[tuple[str, str]], made_writable: list[str] = ()
    ) -> list[ops.Op]:
        """The COPY --from=builder steps: the files the program reads (owned by the user where it writes them,
        and where they hold a folder made writable for it: a root-owned copy over it would undo that), then
        the binaries."""
        workdir = facts.workdir
        artifacts: list[ops.Op] = []
        written = [shell.resolve(workdir, w) for w in facts.sources.written] + list(made_writable)
        for path, label in self._assets(facts):
            # the app writes it, or a file in it (SQLite's journal goes beside its file, in that folder)
            writes_it = any(w == path or w.startswith(path.rstrip("/") + "/") for w in written)
            owner = f"--chown={chown[5:]} " if chown and (_WRITABLE.search(label) or writes_it) else ""
            artifacts.append(ops.step(copy_text(f"--from=builder {owner}", [path], self._dest(path, workdir))))
        for source, dest in binaries:
            artifacts.append(ops.step(copy_text("--from=builder ", [source], self._dest(dest, workdir))))
        return artifacts

    @staticmethod
    def _dest(path: str, workdir: str) -> str:
        if workdir != "/" and path.startswith(workdir.rstrip("/") + "/"):
            return "./" + path[len(workdir.rstrip("/")) + 1 :]
        return path

    def _assets(self, facts: GoFacts) -> list[tuple[str, str]]:
        """(absolute path in builder, context entry) for files the program may read at run time."""
        src = facts.sources
        found: list[tuple[str, str]] = []
        carried: list[str] = []
        for copy in facts.copies:
            for source in copy.sources:
                entry = source.rstrip("/")
                if (
                    entry in (".", "")
                    or any(c in entry for c in "*$\\")
                    or _NEVER_CARRY.match(posixpath.basename(entry))
                ):
                    continue
                if is_go_source(self.ctx, entry):
                    continue
                multi = len(copy.sources) > 1 or copy.ins.args[-1].endswith("/")
                dest = (
                    posixpath.join(copy.dest, posixpath.basename(entry))
                    if multi or self.ctx.is_dir(entry) and copy.ins.args[-1].endswith("/")
                    else copy.dest
                )
                if dest not in [f[0] for f in found]:
                    found.append((dest, entry))
                    carried.append(f"{entry} (copied on line {copy.ins.line})")
        roots = [(facts.context_root, "", self.ctx.entries)] if facts.context_root is not None else []
        # `COPY app/ .`: a folder of Go sources copied whole, whose files then sit where the context's would
        for copy in facts.copies:
            entry = copy.sources[0].rstrip("/") if len(copy.sources) == 1 else ""
            if entry not in (".", "") and not any(c in entry for c in "*$\\") and is_go_source(self.ctx, entry):
                roots.append((copy.dest, entry + "/", self.ctx.children(entry)))
        for dest_root, prefix, names in roots:
            for name in names:
                entry = prefix + name
                if _NEVER_CARRY.match(name) or entry in src.embedded:
                    continue
                is_dir = self.ctx.is_dir(entry)
                conventional = name in ASSET_DIRS if is_dir else bool(_ASSET_FILE.search(name))
                named = go_source.names_entry(src.literals, name)
                if not (conventional or named) or (is_dir and is_go_source(self.ctx, entry)):
                    continue
                path = posixpath.join(dest_root, name)
                if path not in [f[0] for f in found]:
                    found.append((path, entry))
                    why = (
                        "named in the Go code"
                        if named
                        else "a conventional run-time folder"
                        if is_dir
                        else "a configuration file"
                    )
                    carried.append(f"{entry}{'/' if is_dir else ''} ({why})")
        env_files: list[str] = []
        for path, source, why in facts.loaded_at_start:
            self.loads.append(source)
            if why.startswith("godotenv"):
                env_files.append(source)
            if path not in [f[0] for f in found]:
                found.append((path, source))
                carried.append(f"{source} (loaded at start: {why})")
        if env_files:
            self.note("DR301", writes.baked_note(env_files, f"godotenv, {src.dotenv}"))
        script = facts.script
        if script is not None and script.path not in [f[0] for f in found]:
            found.append((script.path, script.source))
            carried.append(f"{script.source} (the start script)")
        if carried:
            self.note("DR302", "runtime files carried into the final stage: " + ", ".join(carried))
        return found
