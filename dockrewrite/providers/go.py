"""Go: builder on the original image, a static (or CGO-linked) binary, and a minimal runtime."""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field

from dockrewrite import images, shell, syslibs, tools
from dockrewrite.context import BuildContext
from dockrewrite.contract import arg_redeclarations, builder_instructions, contract_steps
from dockrewrite.model import Command, DockerfileModel, Instruction
from dockrewrite.plan import BuildPlan, Options, Step
from dockrewrite.providers import go_build, go_run, go_source, writes
from dockrewrite.providers.base import LanguageSignals, Provider, image_name
from dockrewrite.providers.common import (
    DEFAULT_PATH,
    Planner,
    copy_text,
    healthcheck_command,
    package_step,
    resolved_image,
)
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


@dataclass
class _Copy:
    sources: list[str]
    dest: str  # absolute in the image
    ins: Instruction


@dataclass
class _Walk:
    """What walking the single stage taught us."""

    workdir: str
    env: dict[str, str]
    args: dict[str, str]
    builds: list[go_build.GoBuild] = field(default_factory=list)
    build_lines: set[int] = field(default_factory=set)
    copies: list[_Copy] = field(default_factory=list)
    context_root: str | None = None  # where `COPY . <dest>` put the context
    context_copy: Instruction | None = None
    manifests_copied: bool = False
    downloads: bool = False
    packages: list[tuple[Instruction, str, list[str]]] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)  # user name -> uid, from useradd/adduser


class GoProvider(Provider):
    language = "go"
    supported = True
    signals = LanguageSignals(
        "go",
        re.compile(r"^(golang|go|tinygo)$"),
        re.compile(r"(?<![\w/.-])go\s+(build|install|mod\s+download|get|run|generate)\b"),
        ("go.mod", "go.sum", "Gopkg.toml", "glide.yaml"),
    )

    def plan(self, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
        return _GoPlanner(model, ctx, options).plan()


class _GoPlanner(Planner):
    def __init__(self, model: DockerfileModel, ctx: BuildContext, options: Options):
        super().__init__(model, ctx, options)
        self.golang_image = image_name(self.stage.image) == "golang"
        self.from_go_run = False  # planning the model go_run.apply made

    # -- analysis ---------------------------------------------------------------------------
    def plan(self) -> BuildPlan:
        self.refuse_unsupported()
        run = go_run.find(self.model) if not self.from_go_run else None
        if run is not None:
            planner = _GoPlanner(go_run.apply(self.model, run), self.ctx, self.options)
            planner.from_go_run = True
            plan = planner.plan()
            # this planner's own notes (why root is kept) are not repeated by the one planning the rewritten model
            plan.warnings[:0] = [
                f"{run.keyword} compiled the program with `go run` at every start: the builder builds it once "
                f"({run.binary}) and the runtime runs the binary with the same arguments",
                *(w for w in self.warnings if w not in plan.warnings),
            ]
            plan.rewritten = set(plan.rewritten) | {run.keyword}
            return plan
        walk = self._walk()
        if not walk.builds:
            self._no_build_reason(walk)
        src = go_source.scan(self.ctx)
        entry = self._entry()
        self.script = self.entry_script(self._program_command(entry)[1])
        if self.script is not None and self.script.path in {b.output for b in walk.builds}:
            self.script = None  # the build writes over it: the command runs the binary
        main = self._main_binary(walk, entry)
        cgo, cgo_reason = self._cgo(walk, src, main)
        family = images.family(resolved_image(self.model))
        tag = images.tag_of(resolved_image(self.model))
        if cgo and self.golang_image and family not in (None, "alpine") and family not in tag:
            self.warnings.append(
                f"the builder's Debian release ({family}) is inferred from the Go version in {self.stage.image}; "
                f"the CGO binary needs a runtime with the same or a newer glibc: pin a tag such as -{family}"
            )
        needed = self._tools_needed(walk, entry)
        runtime, runtime_image, setup = self._runtime(walk, src, cgo, cgo_reason, family, needed)
        return self._assemble(walk, src, entry, main, cgo, runtime, runtime_image, setup)

    def _walk(self) -> _Walk:
        stage = self.stage
        args: dict[str, str] = {}
        for ins in self.model.global_args:
            for item in ins.args:
                key, _, value = item.partition("=")
                args[key] = value
        walk = _Walk(workdir=self.start_dir(), env={}, args={})
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

    def _record_copy(self, walk: _Walk, ins: Instruction, values: dict[str, str]) -> None:
        if ins.flag("from") is not None or len(ins.args) < 2:
            return
        *sources, dest = [shell.substitute(a, values) or a for a in ins.args]
        dest_abs = shell.resolve(walk.workdir, dest)
        walk.copies.append(_Copy(sources, dest_abs, ins))
        if any(s.rstrip("/") in (".", "") for s in sources) and walk.context_root is None:
            walk.context_root = dest_abs
            walk.context_copy = ins
        if any(posixpath.basename(s) == "go.mod" for s in sources):
            walk.manifests_copied = True

    def _record_run(self, walk: _Walk, ins: Instruction, values: dict[str, str]) -> None:
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

    def _record_move(self, walk: _Walk, ins: Instruction, cwd: str, words: list[str]) -> None:
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

    def _context_path(self, walk: _Walk, path: str) -> str | None:
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

    def _main_packages(self, walk: _Walk, cwd: str, patterns: list[str]) -> list[str]:
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

    def _module_at(self, walk: _Walk, cwd: str) -> str | None:
        """Module path when cwd is a module root in the context (module mode names binaries after it)."""
        rel = self._context_path(walk, cwd)
        return None if rel is None else go_source.module_path(self.ctx, rel)

    def _no_build_reason(self, walk: _Walk) -> None:
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

    def start_dir(self) -> str:
        # the golang images start in GOPATH; asked for before __init__ has set golang_image
        return "/go" if image_name(self.stage.image) == "golang" else "/"

    def start_env(self) -> dict[str, str]:
        return {"GOPATH": "/go"} if image_name(self.stage.image) == "golang" else {}

    def _main_binary(self, walk: _Walk, entry) -> go_build.GoBuild:
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

    def _match_program(self, walk: _Walk, program: str, built: list[go_build.GoBuild]) -> go_build.GoBuild | None:
        if "/" in program:
            path = shell.resolve(walk.workdir, program)
            return next((b for b in reversed(built) if b.output == path), None)
        path_dirs = walk.env.get("PATH", ":".join(DEFAULT_PATH)).split(":")
        for directory in path_dirs:
            for b in reversed(built):
                if b.output == posixpath.join(directory, program):
                    return b
        return None

    def _cgo(self, walk: _Walk, src: go_source.GoSources, main: go_build.GoBuild) -> tuple[bool, str]:
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

    def _tools_needed(self, walk: _Walk, entry) -> dict[str, int]:
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

    # -- decisions ---------------------------------------------------------------------------
    def _runtime(self, walk, src, cgo: bool, cgo_reason: str, family: str | None, needed: dict[str, int]):
        requested = self.options.runtime
        line = self.stage.from_.line
        if cgo:
            if family is None:
                raise Skip(
                    f"the program links C code ({cgo_reason}) and the builder image {self.stage.image} does not say "
                    "which C library it has; pin a tag such as -bookworm or -alpine",
                    line,
                )
            libs = self._runtime_libs(walk, family)
            if requested == "scratch" or (requested == "distroless" and (libs or needed)):
                lacks = " and ".join(
                    x for x, on in (("a C library", True), ("shared libraries", libs), ("tools", needed)) if on
                )
                raise Skip(
                    f"the program links C code ({cgo_reason}); {requested} lacks {lacks}; use --runtime slim", line
                )
            if family == "alpine":
                if requested not in ("auto", "alpine"):
                    raise Skip(
                        f"the program is linked against musl (alpine builder); --runtime {requested} would "
                        "not run it; use --runtime alpine",
                        line,
                    )
                return (
                    "alpine",
                    images.alpine_for(self.stage.image),
                    self._apk_setup(libs, self._packages("alpine", needed), src),
                )
            if requested == "alpine":
                raise Skip(
                    f"the program is linked against glibc ({self.stage.image}); alpine has musl; use --runtime slim",
                    line,
                )
            packages = self._packages("slim", needed)
            if family == "ubuntu":
                base = "ubuntu:" + images.tag_of(resolved_image(self.model))
                return "slim", base, self._apt_setup(libs, packages, src)
            distroless = images.distroless_base(family)
            if (requested == "distroless" or (requested == "auto" and not libs and not needed)) and distroless:
                return "distroless", distroless + ("" if self.options.keep_root else ":nonroot"), []
            if requested == "distroless":
                raise Skip(f"no distroless image matches the builder's Debian release ({family})", line)
            return "slim", images.debian_slim(family), self._apt_setup(libs, packages, src)
        # A static binary runs anywhere; the runtime only has to provide the tools the commands call.
        if requested in ("scratch", "distroless") and needed:
            tool, at = next(iter(needed.items()))
            raise Skip(f"`{tool}` is needed here and {requested} does not have it; use --runtime alpine", at)
        if requested == "auto" and needed:
            requested = next((r for r in ("alpine", "slim") if all(tools.provided(r, t)[0] for t in needed)), None)
            if requested is None:
                tool, at = next((t, a) for t, a in needed.items() if not tools.provided("slim", t)[0])
                raise Skip(f"`{tool}` is needed here and no runtime image dockrewrite knows provides it", at)
            self.warnings.append(
                f"runtime {requested}: {', '.join(sorted(needed))} needed by line {min(needed.values())}, and "
                "distroless has no shell or tools"
            )
        if requested == "auto":
            requested = "distroless"
        if requested == "distroless":
            return "distroless", images.DISTROLESS_STATIC + ("" if self.options.keep_root else ":nonroot"), []
        if requested == "scratch":
            return "scratch", images.SCRATCH, self._scratch_setup(src)
        packages = self._packages(requested, needed)
        if requested == "alpine":
            return "alpine", images.alpine_for(self.stage.image), self._apk_setup([], packages, src)
        codename = family if family in images.DEBIAN_CODENAMES else "bookworm"
        return "slim", images.debian_slim(codename), self._apt_setup([], packages, src)

    @staticmethod
    def _packages(runtime: str, needed: dict[str, int]) -> list[str]:
        out: list[str] = []
        for tool, at in needed.items():
            available, package = tools.provided(runtime, tool)
            if not available:
                raise Skip(f"`{tool}` is needed here and {runtime} does not provide it", at)
            if package and package not in out:
                out.append(package)
        return sorted(out)

    def _built_names(self, walk: _Walk) -> set[str]:
        return {posixpath.basename(b.output) for b in walk.builds if b.output}

    def _runtime_libs(self, walk: _Walk, family: str) -> list[str]:
        libs: list[str] = []
        for ins, _manager, names in walk.packages:
            needed, unknown = syslibs.runtime_packages(names, "alpine" if family == "alpine" else "debian")
            if unknown:
                raise Skip(
                    f"no known runtime package for {', '.join(unknown)}; the CGO binary would miss its shared "
                    "libraries",
                    ins.line,
                )
            libs += [n for n in needed if n not in libs]
        return libs

    def _apk_setup(self, libs: list[str], extra: list[str], src) -> list[Step]:
        packages = [p for p in ("ca-certificates", "tzdata") if self._needs(p, src)] + libs + extra
        return [package_step(packages, "alpine")] if packages else []

    def _apt_setup(self, libs: list[str], extra: list[str], src) -> list[Step]:
        packages = [p for p in ("ca-certificates", "tzdata") if self._needs(p, src)] + libs + extra
        return [package_step(packages, "debian")] if packages else []

    def _scratch_setup(self, src) -> list[Step]:
        steps = []
        if src.needs_certs:
            steps.append(Step("COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/"))
        if src.needs_tzdata:
            if not self.golang_image:
                raise Skip(
                    "scratch has no time zone data and this builder is not a golang image to copy it from; use "
                    "--runtime distroless",
                    self.stage.from_.line,
                )
            steps.append(Step("COPY --from=builder /usr/local/go/lib/time/zoneinfo.zip /zoneinfo.zip"))
            steps.append(Step("ENV ZONEINFO=/zoneinfo.zip"))
        return steps

    @staticmethod
    def _needs(package: str, src) -> bool:
        return src.needs_certs if package == "ca-certificates" else src.needs_tzdata

    # -- output ------------------------------------------------------------------------------
    def _assemble(self, walk, src, entry, main, cgo, runtime, runtime_image, setup) -> BuildPlan:
        stage = self.stage
        builder = [Step(self._builder_from(), stage.from_.comments)]
        for ins in builder_instructions(stage):
            if ins is walk.context_copy and self._wants_download_step(walk):
                builder.extend(self._download_steps(ins))
            text = ins.text
            if ins.line in walk.build_lines:
                if ins.json:
                    # Exec-form RUN has no shell to set variables in; the same argv in shell form does.
                    flags = "".join(f"{f} " for f in ins.flags)
                    text = f"RUN {flags}{shlex.join(ins.args)}"
                edited = go_build.edit_run(text, make_static=not cgo, trimpath=self._supports_trimpath())
                if not cgo and "CGO_ENABLED=0" not in edited:
                    raise Skip("could not make this go build static (no CGO_ENABLED=0 could be added)", ins.line)
                text = edited
            builder.append(Step(text, ins.comments))
        if not cgo:
            trim = "-trimpath and " if self._supports_trimpath() else ""
            self.warnings.append(f'static binary: CGO_ENABLED=0, {trim}-ldflags "-s -w" (line {main.line})')

        workdir = walk.workdir
        replace: dict[str, str | None] = {}
        binaries = self._binaries(walk, entry, main)
        runtime_user = self._user(walk, runtime)
        if runtime_user is not None:
            replace["USER"] = runtime_user
        replace.update(self._command_rewrites(entry, runtime, binaries))
        contract = contract_steps(stage, GO_BUILD_ENV, replace)

        artifacts: list[Step] = []
        chown = runtime_user if runtime_user and runtime_user != "USER root" else None
        if chown:
            owner = chown[5:]
            found = self._writes(walk, src)
            if found.paths and runtime in ("alpine", "slim"):
                setup = [*setup, Step(f"RUN {writes.own_folders(found.paths, owner)}", (writes.COMMENT,))]
            elif found.paths:
                builder = writes.with_build_step(builder, found.paths)
                setup = [*setup, *writes.copy_steps(found.paths, owner, "builder")]
            self.warnings += writes.notes(found, owner)
        written = [shell.resolve(walk.workdir, w) for w in src.written]
        for path, label in self._assets(walk, src):
            # the app writes it, or a file in it (SQLite's journal goes beside its file, in that folder)
            writes_it = any(w == path or w.startswith(path.rstrip("/") + "/") for w in written)
            owner = f"--chown={chown[5:]} " if chown and (_WRITABLE.search(label) or writes_it) else ""
            artifacts.append(Step(copy_text(f"--from=builder {owner}", [path], self._dest(path, workdir))))
        for source, dest in binaries:
            artifacts.append(Step(copy_text("--from=builder ", [source], self._dest(dest, workdir))))

        texts = [s.text for s in contract + artifacts]
        runtime_from = "FROM " + (f"--platform={stage.platform} " if self._keep_platform() else "") + runtime_image
        plan = BuildPlan(
            language="go",
            runtime=runtime,
            header=list(self.model.header),
            global_args=[Step(a.text, a.comments) for a in self.model.global_args],
            builder=builder,
            runtime_from=Step(runtime_from + " AS runtime"),
            runtime_args=arg_redeclarations(stage, texts),
            runtime_setup=setup,
            workdir=workdir,
            artifacts=artifacts,
            contract=contract,
            footer=list(self.model.footer),
            warnings=self.warnings,
            note=self._note(runtime, cgo),
            rewritten={k for k in replace if k in ("CMD", "ENTRYPOINT")},
            loads=list(self.loads),
        )
        return plan

    def _sqlite_module(self) -> str | None:
        gomod = self.ctx.read_text("go.mod") or ""
        m = re.search(r"mattn/go-sqlite3|modernc\.org/sqlite|gorm\.io/driver/sqlite|glebarez/\S+", gomod)
        return m.group(0) if m else None

    def _writes(self, walk: _Walk, src: go_source.GoSources) -> writes.Writes:
        """The folders the runtime user must own (the shared rule, fed with what the Go code says)."""
        reason = None
        if src.writes_relative:
            reason = f"the code writes relative to the working directory: {src.writes_relative}"
        elif self._sqlite_module():
            reason = f"SQLite ({self._sqlite_module()}) writes its database and journal in the working directory"
        reads = [(n, f) for n, f in src.env_reads.items() if writes.is_write_name(n)]
        start = {"GOPATH": "/go"} if self.golang_image else {}
        return writes.find(
            self.stage,
            walk.workdir,
            workdir_reason=reason,
            code_folders=[(folder, where) for folder, where in src.write_folders],
            env_reads=reads,
            start_env=start,
            ctx=self.ctx,
            start_workdir=self.start_dir(),
        )

    def _supports_trimpath(self) -> bool:
        minor = images.go_minor(resolved_image(self.model))
        return minor is None or minor >= 13  # -trimpath arrived in Go 1.13

    def _note(self, runtime: str, cgo: bool) -> str:
        if cgo:
            libc = "musl, like the builder" if runtime == "alpine" else "glibc, like the builder"
            return f"{runtime} ({libc}) with the shared libraries the CGO binary links"
        if runtime == "distroless":
            return "distroless static: no shell or package manager, only the binary and its files"
        if runtime == "scratch":
            return "scratch: an empty image holding only the static binary and the files it reads"
        return f"{runtime} with the shell and tools the commands below call"

    def _builder_from(self) -> str:
        platform = f"--platform={self.stage.platform} " if self.stage.platform else ""
        return f"FROM {platform}{self.stage.image} AS builder"

    def _keep_platform(self) -> bool:
        return bool(self.stage.platform) and "BUILDPLATFORM" not in self.stage.platform

    def _wants_download_step(self, walk: _Walk) -> bool:
        if walk.manifests_copied or walk.downloads or walk.context_root is None:
            return False
        if self.ctx.is_dir("vendor") or "-mod=vendor" in walk.env.get("GOFLAGS", ""):
            return False
        return self.ctx.exists("go.mod")

    def _download_steps(self, copy_all: Instruction) -> list[Step]:
        dest = copy_all.args[-1]
        dest = "./" if dest in (".", "./") else dest if dest.endswith("/") else dest + "/"
        flags = " ".join(f for f in copy_all.flags if not f.lower().startswith("--from"))
        manifests = "go.mod go.sum" if self.ctx.exists("go.sum") else "go.mod"
        copy = f"COPY {flags + ' ' if flags else ''}{manifests} {dest}"
        return [
            Step(copy, ("# Dependencies first, so source edits do not download them again",)),
            Step("RUN go mod download"),
        ]

    def _binaries(self, walk: _Walk, entry, main) -> list[tuple[str, str]]:
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
            if posixpath.dirname(dest) not in DEFAULT_PATH and not self._path_referenced(dest):
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

    @staticmethod
    def _dest(path: str, workdir: str) -> str:
        if workdir != "/" and path.startswith(workdir.rstrip("/") + "/"):
            return "./" + path[len(workdir.rstrip("/")) + 1 :]
        return path

    def _assets(self, walk: _Walk, src) -> list[tuple[str, str]]:
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

    def _loaded_at_start(self, walk: _Walk, src: go_source.GoSources) -> list[tuple[str, str, str]]:
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

    def _user(self, walk: _Walk, runtime: str) -> str | None:
        """The USER line for the runtime, or None to keep the original's."""
        original = self.stage.last("USER")
        if original is None:
            if self.options.keep_root:
                if runtime == "distroless":
                    return None
                return None
            self.warnings.append(
                f"no USER in the original: the runtime runs as the non-root uid {images.NONROOT_UID} "
                "(--keep-root keeps root)"
            )
            return f"USER {images.NONROOT}"
        spec = original.args[0] if original.args else ""
        name, _, group = spec.partition(":")
        if name.isdigit() or name == "root":
            return None
        if name in walk.users:
            uid = walk.users[name]
            gid = walk.users.get(group, uid if not group or group == name else None) if group else None
            text = f"USER {uid}:{gid}" if gid else f"USER {uid}"
            self.warnings.append(
                f"USER {spec} (line {original.line}) becomes {text[5:]}: the runtime image has no user named {name}"
            )
            return text
        if name == "nobody" and runtime in ("scratch", "distroless"):
            return "USER 65534:65534"
        if runtime in ("alpine", "slim") and name == "nobody":
            return None
        raise Skip(
            f"USER {spec}: its uid is not known and the runtime image has no such user; create it with an "
            "explicit -u/--uid or use a numeric USER",
            original.line,
        )

    def _command_rewrites(self, entry, runtime: str, binaries) -> dict[str, str | None]:
        """Exec form for simple shell-form commands when the runtime has no shell; moved binary paths."""
        out: dict[str, str | None] = {}
        moved = {src: dest for src, dest in binaries if src != dest}
        has_shell = runtime in ("alpine", "slim")
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
                    continue  # _runtime already refused this combination
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


def _walk_go(ctx: BuildContext, entry: str):
    if not ctx.known:
        return
    for path in (ctx.root / entry).rglob("*.go"):
        yield path
        return
