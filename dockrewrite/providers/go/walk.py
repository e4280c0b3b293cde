"""Walk the single stage once: its ARGs, ENV, WORKDIR, what it copies, installs and builds, and the users it adds."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from dockrewrite import shell, syslibs
from dockrewrite.model import Instruction
from dockrewrite.providers.base import image_name
from dockrewrite.providers.common import DEFAULT_PATH, Planner
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


@dataclass
class Copy:
    sources: list[str]
    dest: str  # absolute in the image
    ins: Instruction


@dataclass
class Walk:
    """What walking the single stage taught us."""

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


class WalkMixin(Planner):
    """The planner's reading of the stage's instructions (and of the context where a COPY points into it)."""

    golang_image: bool

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
