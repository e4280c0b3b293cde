"""The files carried into the runtime: assets the program reads, files it loads at start, the start script."""

from __future__ import annotations

import posixpath
import re

from dockrewrite import shell
from dockrewrite.context import BuildContext
from dockrewrite.plan import Step
from dockrewrite.providers import writes
from dockrewrite.providers.common import EntryScript, Planner, copy_text
from dockrewrite.providers.go import sources as go_source
from dockrewrite.providers.go.walk import GO_BUILD_ENV, Walk

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

    script: EntryScript | None

    def _artifacts(self, walk: Walk, src, chown: str | None, binaries: list[tuple[str, str]]) -> list[Step]:
        """The COPY --from=builder steps: the files the program reads (owned by the user where it writes them),
        then the binaries."""
        workdir = walk.workdir
        artifacts: list[Step] = []
        written = [shell.resolve(walk.workdir, w) for w in src.written]
        for path, label in self._assets(walk, src):
            # the app writes it, or a file in it (SQLite's journal goes beside its file, in that folder)
            writes_it = any(w == path or w.startswith(path.rstrip("/") + "/") for w in written)
            owner = f"--chown={chown[5:]} " if chown and (_WRITABLE.search(label) or writes_it) else ""
            artifacts.append(Step(copy_text(f"--from=builder {owner}", [path], self._dest(path, workdir))))
        for source, dest in binaries:
            artifacts.append(Step(copy_text("--from=builder ", [source], self._dest(dest, workdir))))
        return artifacts

    @staticmethod
    def _dest(path: str, workdir: str) -> str:
        if workdir != "/" and path.startswith(workdir.rstrip("/") + "/"):
            return "./" + path[len(workdir.rstrip("/")) + 1 :]
        return path

    def _assets(self, walk: Walk, src) -> list[tuple[str, str]]:
        """(absolute path in builder, context entry) for files the program may read at run time."""
        found: list[tuple[str, str]] = []
        carried: list[str] = []
        for copy in walk.copies:
            for source in copy.sources:
                entry = source.rstrip("/")
                if (
                    entry in (".", "")
                    or any(c in entry for c in "*$\\")
                    or _NEVER_CARRY.match(posixpath.basename(entry))
                ):
                    continue
                if self._is_go_source(entry):
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
        if walk.context_root is not None:
            for entry in self.ctx.entries:
                if _NEVER_CARRY.match(entry) or entry in src.embedded:
                    continue
                is_dir = self.ctx.is_dir(entry)
                conventional = entry in ASSET_DIRS if is_dir else bool(_ASSET_FILE.search(entry))
                named = go_source.names_entry(src.literals, entry)
                if not (conventional or named) or (is_dir and self._is_go_source(entry)):
                    continue
                path = posixpath.join(walk.context_root, entry)
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
        for path, source, why in self._loaded_at_start(walk, src):
            self.loads.append(source)
            if why.startswith("godotenv"):
                env_files.append(source)
            if path not in [f[0] for f in found]:
                found.append((path, source))
                carried.append(f"{source} (loaded at start: {why})")
        if env_files:
            self.warnings.append(writes.baked_note(env_files, f"godotenv, {src.dotenv}"))
        script = self.script
        if script is not None and script.path not in [f[0] for f in found]:
            found.append((script.path, script.source))
            carried.append(f"{script.source} (the start script)")
        if carried:
            self.warnings.append("runtime files carried into the final stage: " + ", ".join(carried))
        return found

    def _loaded_at_start(self, walk: Walk, src: go_source.GoSources) -> list[tuple[str, str, str]]:
        """(path in the image, context file it was copied from, why) for the files the program loads at start that
        the original copied in: env files godotenv reads, files ENV names (`CONFIG_PATH=/app/config.yml`)."""
        out: list[tuple[str, str, str]] = []
        wanted = [(shell.resolve(walk.workdir, n), "godotenv") for n in src.dotenv_files]
        for name, value, line in writes.stage_env(self.stage):
            if value and name not in GO_BUILD_ENV and re.fullmatch(r"[\w./-]*\.\w+|[\w./-]*/[\w.-]+", value):
                wanted.append((shell.resolve(walk.workdir, value), f"ENV {name} on line {line}"))
        for path, why in wanted:
            source = self.copied_file(path)
            if source and not self._is_go_source(source) and path not in [p for p, _, _ in out]:
                out.append((path, source, why))
        return out

    def _is_go_source(self, entry: str) -> bool:
        if entry.endswith((".go", "go.mod", "go.sum")) or entry in ("vendor", "cmd", "internal", "pkg"):
            return True
        return self.ctx.is_dir(entry) and any(True for _ in _walk_go(self.ctx, entry))


def _walk_go(ctx: BuildContext, entry: str):
    if not ctx.known:
        return
    for path in (ctx.root / entry).rglob("*.go"):
        yield path
        return
