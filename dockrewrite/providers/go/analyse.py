"""Read the original once: what its single stage builds, runs, copies, installs, its user, workdir and env, and
what the Go sources in the context read and write, as frozen facts the planner decides from."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dockrewrite import images, shell, syslibs, tools
from dockrewrite.context import BuildContext
from dockrewrite.model import Command, Instruction
from dockrewrite.providers import writes
from dockrewrite.providers.base import image_name
from dockrewrite.providers.common import DEFAULT_PATH, EntryScript, Planner, healthcheck_command, resolved_image
from dockrewrite.providers.go import build as go_build
from dockrewrite.providers.go import sources as go_source
from dockrewrite.results import Skip

# Toolchain settings that only matter while compiling.
GO_BUILD_ENV = frozenset(
    {
        "CGO_ENABLED",
        "GOOS",
        "GOARCH",
        "GOARM",
        "GOAMD64",
        "GO386",
        "GOFLAGS",
        "GO111MODULE",
        "GOPROXY",
        "GOPRIVATE",
        "GONOPROXY",
        "GONOSUMDB",
        "GONOSUMCHECK",
        "GOSUMDB",
        "GOINSECURE",
        "GOCACHE",
        "GOMODCACHE",
        "GOBIN",
        "GOROOT",
        "GOTOOLCHAIN",
        "GOPATH",
        "CC",
        "CXX",
        "CGO_CFLAGS",
        "CGO_CPPFLAGS",
        "CGO_CXXFLAGS",
        "CGO_LDFLAGS",
        "GOEXPERIMENT",
        "GOWORK",
        "GOTMPDIR",
    }
)
_GOLANG_PATH = ("/go/bin", "/usr/local/go/bin") + DEFAULT_PATH


@dataclass(frozen=True)
class Copy:
    sources: list[str]
    dest: str  # absolute in the image
    ins: Instruction


@dataclass
class Walk:
    """What walking the single stage taught us, gathered instruction by instruction."""

    workdir: str
    env: dict[str, str]
    args: dict[str, str]
    builds: list[go_build.GoBuild] = field(default_factory=list)
    build_lines: set[int] = field(default_factory=set)
    copies: list[Copy] = field(default_factory=list)
    context_root: str | None = None  # where `COPY . <dest>` put the context
    context_copy: Instruction | None = None
    manifests_copied: bool = False
    downloads: bool = False
    packages: list[tuple[Instruction, str, list[str]]] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)  # user name -> uid, from useradd/adduser


@dataclass(frozen=True)
class GoFacts:
    """What the original and its context say, before any choice of runtime."""

    golang_image: bool  # the builder is an official golang image (GOPATH /go, the toolchain's zoneinfo)
    family: str | None  # the builder's C library family: alpine, a Debian codename, ubuntu
    tag: str  # the builder image's tag, ARG defaults filled in
    go_minor: int | None  # the Go minor version the tag names
    workdir: str  # the final working directory
    env: Mapping[str, str]  # ENV values, with the golang image's GOPATH and PATH
    args: Mapping[str, str]  # the stage's ARG defaults
    builds: tuple[go_build.GoBuild, ...]  # every go build/install, and each copy of its binary
    build_lines: frozenset[int]  # lines of the RUNs that build
    copies: tuple[Copy, ...]  # COPY/ADD from the context
    context_root: str | None  # where `COPY . <dest>` put the context
    context_copy: Instruction | None  # that COPY
    manifests_copied: bool  # go.mod is copied on its own
    downloads: bool  # a RUN does `go mod download`
    packages: tuple[tuple[Instruction, str, list[str]], ...]  # (RUN, package manager, names) installs
    users: Mapping[str, str]  # user name -> uid, from useradd/adduser
    user: Instruction | None  # the last USER
    entrypoint: Instruction | None  # the last ENTRYPOINT, None when `ENTRYPOINT []` cleared it
    cmd: Instruction | None  # the last CMD
    healthcheck: Instruction | None  # the last HEALTHCHECK
    command_words: frozenset[str]  # every word of every CMD, ENTRYPOINT and HEALTHCHECK
    script: EntryScript | None  # the start script from the context the command runs
    script_programs: tuple[str, ...]  # the programs that script runs
    main: go_build.GoBuild  # the build whose binary the command runs
    cgo: bool  # that binary links C code
    cgo_reason: str
    needed: Mapping[str, int]  # programs other than the built binaries the commands run -> line
    sources: go_source.GoSources  # what the Go files say
    loaded_at_start: tuple[tuple[str, str, str], ...]  # (image path, context file, why) of files read at start
    sqlite_module: str | None  # the SQLite driver go.mod requires
    has_go_mod: bool
    has_go_sum: bool
    vendored: bool  # a vendor folder or -mod=vendor in GOFLAGS

    @property
    def entry(self) -> tuple[Instruction | None, Instruction | None]:
        return self.entrypoint, self.cmd

    @property
    def built(self) -> list[go_build.GoBuild]:
        """The builds that write a binary."""
        return [b for b in self.builds if b.output]

    def binary_for(self, program: str) -> go_build.GoBuild | None:
        """The build whose binary a command's program word runs."""
        return match_program(self.workdir, self.env, program, self.built)


def match_program(
    workdir: str, env: Mapping[str, str], program: str, built: list[go_build.GoBuild]
) -> go_build.GoBuild | None:
    """The build whose binary a command's program word runs: by path, or found on PATH."""
    if "/" in program:
        path = shell.resolve(workdir, program)
        return next((b for b in reversed(built) if b.output == path), None)
    path_dirs = env.get("PATH", ":".join(DEFAULT_PATH)).split(":")
    for directory in path_dirs:
        for b in reversed(built):
            if b.output == posixpath.join(directory, program):
                return b
    return None


def script_programs(script: EntryScript | None) -> list[str]:
    if script is None:
        return []
    return [p for p, _ in script.script.programs if p not in tools.SHELL_BUILTINS]


def is_go_source(ctx: BuildContext, entry: str) -> bool:
    """Whether a context entry is Go source (or a folder holding some), which the runtime never needs."""
    if entry.endswith((".go", "go.mod", "go.sum")) or entry in ("vendor", "cmd", "internal", "pkg"):
        return True
    return ctx.is_dir(entry) and any(True for _ in _walk_go(ctx, entry))


class AnalyseMixin(Planner):
    """The planner's reading of the original (and of the context where a COPY points into it)."""

    golang_image: bool

    def _analyse(self) -> GoFacts:
        """Every fact the plan needs, in the order the checks that refuse a Dockerfile have always run."""
        walk = self._walk()
        if not walk.builds:
            self._no_build_reason(walk)
        src = go_source.scan(self.ctx)
        entry = self._entry()
        script = self.entry_script(self._program_command(entry)[1])
        if script is not None and script.path in {b.output for b in walk.builds}:
            script = None  # the build writes over it: the command runs the binary
        main = self._main_binary(walk, entry, script)
        cgo, cgo_reason = self._cgo(walk, src, main)
        needed = self._tools_needed(walk, entry, script)
        commands = [
            healthcheck_command(i) if i.keyword == "HEALTHCHECK" else Command.of(i)
            for i in self.stage.find("CMD", "ENTRYPOINT", "HEALTHCHECK")
            if i.args
        ]
        image = resolved_image(self.model)
        return GoFacts(
            golang_image=self.golang_image,
            family=images.family(image),
            tag=images.tag_of(image),
            go_minor=images.go_minor(image),
            workdir=walk.workdir,
            env=MappingProxyType(walk.env),
            args=MappingProxyType(walk.args),
            builds=tuple(walk.builds),
            build_lines=frozenset(walk.build_lines),
            copies=tuple(walk.copies),
            context_root=walk.context_root,
            context_copy=walk.context_copy,
            manifests_copied=walk.manifests_copied,
            downloads=walk.downloads,
            packages=tuple(walk.packages),
            users=MappingProxyType(walk.users),
            user=self.stage.last("USER"),
            entrypoint=entry[0],
            cmd=entry[1],
            healthcheck=self.stage.last("HEALTHCHECK"),
            command_words=frozenset(w for c in commands for w in tools.command_words(c)),
            script=script,
            script_programs=tuple(script_programs(script)),
            main=main,
            cgo=cgo,
            cgo_reason=cgo_reason,
            needed=MappingProxyType(needed),
            sources=src,
            loaded_at_start=tuple(self._loaded_at_start(walk, src)),
            sqlite_module=self._sqlite_module(),
            has_go_mod=self.ctx.exists("go.mod"),
            has_go_sum=self.ctx.exists("go.sum"),
            vendored=self.ctx.is_dir("vendor") or "-mod=vendor" in walk.env.get("GOFLAGS", ""),
        )

    def _walk(self) -> Walk:
        stage = self.stage
        args: dict[str, str] = {}
        for ins in self.model.global_args:
            for item in ins.args:
                key, _, value = item.partition("=")
                args[key] = value
        walk = Walk(workdir=self.start_dir(), env={}, args={})
        if self.golang_image:
            walk.env.update({"GOPATH": "/go", "PATH": ":".join(_GOLANG_PATH)})
        for ins in stage.instructions:
            values = {**args, **walk.env}
            if ins.keyword == "ARG":
                for item in ins.args:
                    key, _, value = item.partition("=")
                    args[key] = value.strip("\"'") if value else args.get(key, "")
                    walk.args[key] = args[key]
            elif ins.keyword == "ENV":
                for i in range(0, len(ins.args) - 1, 2):
                    value = ins.args[i + 1].strip("\"'")
                    walk.env[ins.args[i]] = shell.substitute(value, values) or value
            elif ins.keyword == "WORKDIR":
                target = shell.substitute(ins.args[0] if ins.args else "/", values)
                if target is None:
                    raise Skip(f"WORKDIR {ins.args[0]} depends on a build argument without a default", ins.line)
                walk.workdir = shell.resolve(walk.workdir, target.strip("\"'"))
            elif ins.keyword in ("COPY", "ADD"):
                self._record_copy(walk, ins, values)
            elif ins.keyword == "RUN":
                self._record_run(walk, ins, values)
        return walk

    def _record_copy(self, walk: Walk, ins: Instruction, values: dict[str, str]) -> None:
        if ins.flag("from") is not None or len(ins.args) < 2:
            return
        *sources, dest = [shell.substitute(a, values) or a for a in ins.args]
        dest_abs = shell.resolve(walk.workdir, dest)
        walk.copies.append(Copy(sources, dest_abs, ins))
        if any(s.rstrip("/") in (".", "") for s in sources) and walk.context_root is None:
            walk.context_root = dest_abs
            walk.context_copy = ins
        if any(posixpath.basename(s) == "go.mod" for s in sources):
            walk.manifests_copied = True

    def _record_run(self, walk: Walk, ins: Instruction, values: dict[str, str]) -> None:
        text = ins.shell
        manager, names = syslibs.installed_packages(text)
        if manager:
            walk.packages.append((ins, manager, names))
        if re.search(r"\bgo\s+mod\s+download\b", text):
            walk.downloads = True
        for m in re.finditer(r"\b(?:useradd|adduser)\b([^;&|]*)", text):
            words = shell.split_words(m.group(1))
            uid = None
            for i, w in enumerate(words):
                if w in ("-u", "--uid") and i + 1 < len(words):
                    uid = words[i + 1]
                elif w.startswith("--uid="):
                    uid = w.split("=", 1)[1]
            names_ = [w for w in words if not w.startswith("-") and w != uid]
            if uid and names_:
                walk.users[names_[-1]] = uid
        cwd = walk.workdir
        env = dict(walk.env)
        for seg in shell.segments(text):
            words = seg.words()
            if words[:1] == ["cd"] and len(words) > 1:
                cwd = shell.resolve(cwd, shell.substitute(words[1], values) or words[1])
                continue
            assigned = shell.exported(words)
            if assigned is not None:
                env.update(assigned)
                continue
            if words[:1] in (["cp"], ["mv"], ["install"]) and len(words) >= 3:
                self._record_move(walk, ins, cwd, words)
                continue
            parsed = go_build.parse_build(words)
            if parsed is None:
                continue
            seg_env, verb, flags, positional = parsed
            build_cwd = shell.resolve(cwd, flags["C"]) if "C" in flags else cwd
            gobin = env.get("GOBIN") or posixpath.join(env.get("GOPATH") or "/root/go", "bin")
            cgo = seg_env.get("CGO_ENABLED", env.get("CGO_ENABLED"))
            if verb == "install" and any(p.endswith("...") for p in positional):
                # `go install ./...` installs every main package below the pattern.
                names = self._main_packages(walk, build_cwd, positional)
                if not names and walk.context_root is None:
                    # Only some files were copied in: the package in the working directory is the program.
                    names = [go_build.binary_name([], build_cwd, None)]
            else:
                names = [go_build.binary_name(positional, build_cwd, self._module_at(walk, build_cwd))]
            for name in names:
                out = go_build.output_path(verb, flags, name, build_cwd, gobin)
                if out is not None:
                    resolved = shell.substitute(out, {**values, **env})
                    if resolved is None:
                        raise Skip(f"the binary path {out} depends on a build argument", ins.line)
                    out = resolved
                walk.builds.append(go_build.GoBuild(verb, ins.line, build_cwd, out, positional, cgo, flags))
            walk.build_lines.add(ins.line)

    def _record_move(self, walk: Walk, ins: Instruction, cwd: str, words: list[str]) -> None:
        """`cp`/`mv`/`install` of a built binary gives it a new path (e.g. `RUN cp /build/app /dist/`)."""
        args = [w for w in words[1:] if not w.startswith("-")]
        if len(args) < 2:
            return
        *sources, dest = args
        dirs = {walk.workdir, *_GOLANG_PATH} | {
            shell.resolve("/", i.args[0]) for i in self.stage.find("WORKDIR") if i.args
        }
        target = shell.resolve(cwd, dest)
        is_dir = dest.endswith("/") or dest in (".", "./") or target in dirs or len(sources) > 1
        for src in sources:
            path = shell.resolve(cwd, src)
            for b in list(walk.builds):
                if b.output == path:
                    moved = posixpath.join(target, posixpath.basename(path)) if is_dir else target
                    walk.builds.append(go_build.GoBuild(b.verb, ins.line, b.cwd, moved, b.packages, b.cgo, b.flags))

    def _context_path(self, walk: Walk, path: str) -> str | None:
        """The build-context path (relative) an image path came from: through `COPY . <dest>`, or a folder
        copied whole (`COPY ./cmd .`); None when no COPY says."""
        if walk.context_root is not None:
            rel = posixpath.relpath(path, walk.context_root)
            if not rel.startswith(".."):
                return rel
        for copy in reversed(walk.copies):
            if len(copy.sources) != 1:
                continue
            source = posixpath.normpath(copy.sources[0].lstrip("/"))
            if source in (".", "") or not self.ctx.is_dir(source):
                continue
            rel = posixpath.relpath(path, copy.dest)
            if not rel.startswith(".."):
                return posixpath.normpath(posixpath.join(source, rel))
        return None

    def _main_packages(self, walk: Walk, cwd: str, patterns: list[str]) -> list[str]:
        if not self.ctx.known:
            return []
        names: list[str] = []
        for pattern in patterns:
            base = shell.resolve(cwd, pattern[: -len("...")].rstrip("/") or ".")
            rel = self._context_path(walk, base)
            if rel is None:
                continue
            for go_file in self.ctx.walk((".go",), limit=500):
                directory = posixpath.dirname(go_file)
                inside = rel == "." or directory == rel or directory.startswith(rel + "/")
                if not inside or go_file.endswith("_test.go"):
                    continue
                text = self.ctx.read_text(go_file, limit=400_000) or ""
                if not re.search(r"^package\s+main\b", text, re.MULTILINE):
                    continue
                image_dir = posixpath.normpath(posixpath.join(base, posixpath.relpath(directory or ".", rel)))
                # a module's root package is named after the module path's last element, any other package
                # (and GOPATH mode) after its folder
                go_mod = "go.mod" if directory in ("", ".") else posixpath.join(directory, "go.mod")
                module = go_source.module_path(self.ctx, directory or ".") if self.ctx.exists(go_mod) else None
                name = go_build.binary_name([], image_dir, module)
                if name and name not in names:
                    names.append(name)
        return names

    def _module_at(self, walk: Walk, cwd: str) -> str | None:
        """Module path when cwd is a module root in the context (module mode names binaries after it)."""
        rel = self._context_path(walk, cwd)
        return None if rel is None else go_source.module_path(self.ctx, rel)

    def _no_build_reason(self, walk: Walk) -> None:
        for ins in self.stage.find("CMD", "ENTRYPOINT", "RUN"):
            if re.search(r"\bgo\s+run\b", ins.shell):
                raise Skip(
                    f"{ins.keyword} compiles and runs the program with `go run`; there is no binary to carry into "
                    "a runtime stage (build one with `go build -o` first)",
                    ins.line,
                )
        if walk.copies and not any(re.search(r"\bgo\s+(get|build|install)\b", i.shell) for i in self.stage.find("RUN")):
            raise Skip(
                "nothing is built here: the image only copies in files made elsewhere, so there is no build "
                "stage to split off",
                walk.copies[-1].ins.line,
            )
        raise Skip("no `go build` or `go install` that writes a binary was found", self.stage.from_.line)

    def start_dir(self) -> str:
        # the golang images start in GOPATH; asked for before __init__ has set golang_image
        return "/go" if image_name(self.stage.image) == "golang" else "/"

    def start_env(self) -> dict[str, str]:
        return {"GOPATH": "/go"} if image_name(self.stage.image) == "golang" else {}

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

    def _entry_programs(self, entry, script: EntryScript | None) -> tuple[Instruction, list[str], bool]:
        """(instruction, programs the container's command runs, whether it needs a shell)."""
        ins, command = self._program_command(entry)
        ep, cmd = entry
        extra = Command.of(cmd).argv if ep is not None and ep.json and cmd is not None and cmd.json else ()
        programs, needs_shell = tools.programs(command, extra)
        if script is None:
            return ins, programs, needs_shell
        # A start script from the context: its shell and what it runs, and the CMD it may `exec "$@"`.
        workdir = self.last_workdir()
        script_path = script.path
        programs = [
            p
            for p in programs
            if (shell.resolve(workdir, p) if "/" in p else p) not in (script_path, posixpath.basename(script_path))
        ]
        programs = [p for p in programs if posixpath.basename(p) not in tools.SHELLS]
        programs += script_programs(script)
        if ep is not None and cmd is not None and cmd.args and script.script.runs_arguments:
            programs += tools.programs(Command.of(cmd))[0]
        return ins, [script.script.interpreter, *programs], True

    def _main_binary(self, walk: Walk, entry, script: EntryScript | None) -> go_build.GoBuild:
        ins, programs, _ = self._entry_programs(entry, script)
        if not programs:
            raise Skip(f"cannot tell which program {ins.keyword} runs", ins.line)
        built = [b for b in walk.builds if b.output]
        for program in programs:
            match = match_program(walk.workdir, walk.env, program, built)
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
        if script is not None:
            raise Skip(
                f"{ins.keyword} runs the start script {script.path}, whose commands run {shown}: "
                f"none is a binary this Dockerfile builds (built: {names})",
                ins.line,
            )
        raise Skip(
            f"{ins.keyword} runs {shown}, which is not a binary this Dockerfile builds (built: {names})", ins.line
        )

    def _tools_needed(self, walk: Walk, entry, script: EntryScript | None) -> dict[str, int]:
        """Programs other than our binaries that the runtime must provide (sh, wget, tini…) -> line."""
        needed: dict[str, int] = {}
        built = [b for b in walk.builds if b.output]
        checks: list[tuple[Instruction, list[str], bool]] = [self._entry_programs(entry, script)]
        hc = self.stage.last("HEALTHCHECK")
        if hc is not None and hc.args and hc.args[0].upper() == "CMD":
            checks.append((hc, *tools.programs(healthcheck_command(hc))))
        for ins, programs, needs_shell in checks:
            if needs_shell:
                needed.setdefault("sh", ins.line)
            for program in programs:
                if match_program(walk.workdir, walk.env, program, built) is None:
                    needed.setdefault(posixpath.basename(program), ins.line)
        return needed

    def _cgo(self, walk: Walk, src: go_source.GoSources, main: go_build.GoBuild) -> tuple[bool, str]:
        if main.cgo == "1":
            return True, f"CGO_ENABLED=1 (line {main.line})"
        if main.cgo == "0":
            return False, ""
        if main.flags.get("tags") and "netgo" not in main.flags["tags"] and "sqlite" in main.flags["tags"]:
            return True, f"build tags {main.flags['tags']} (line {main.line})"
        if src.uses_cgo:
            return True, src.cgo_reason
        for ins, _manager, names in walk.packages:
            libs = [n for n in names if n.endswith(("-dev", "-devel")) and n not in syslibs.BUILD_ONLY]
            if libs:
                return True, f"C libraries installed for the build: {', '.join(libs)} (line {ins.line})"
        return False, ""

    def _sqlite_module(self) -> str | None:
        gomod = self.ctx.read_text("go.mod") or ""
        m = re.search(r"mattn/go-sqlite3|modernc\.org/sqlite|gorm\.io/driver/sqlite|glebarez/\S+", gomod)
        return m.group(0) if m else None

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
            if source and not is_go_source(self.ctx, source) and path not in [p for p, _, _ in out]:
                out.append((path, source, why))
        return out


def _walk_go(ctx: BuildContext, entry: str):
    if not ctx.known:
        return
    for path in (ctx.root / entry).rglob("*.go"):
        yield path
        return
