"""What a Node project's files say: package.json, the lockfile and its package manager, build outputs."""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from dataclasses import dataclass, field

from dockrewrite import shell
from dockrewrite.context import BuildContext

LOCKFILES = {
    "package-lock.json": "npm",
    "npm-shrinkwrap.json": "npm",
    "yarn.lock": "yarn",
    "pnpm-lock.yaml": "pnpm",
}
OTHER_LOCKFILES = ("bun.lockb", "bun.lock")

# Packages that compile C/C++ at install time or ship binaries for one C library (glibc or musl).
NATIVE_PACKAGES = frozenset(
    {
        "bcrypt",
        "argon2",
        "sqlite3",
        "better-sqlite3",
        "sharp",
        "canvas",
        "node-sass",
        "sodium-native",
        "bufferutil",
        "utf-8-validate",
        "kerberos",
        "libxmljs",
        "libxmljs2",
        "re2",
        "node-pty",
        "cpu-features",
        "@tensorflow/tfjs-node",
        "grpc",
        "leveldown",
        "usb",
        "serialport",
        "@serialport/bindings-cpp",
        "zeromq",
        "isolated-vm",
        "deasync",
        "farmhash",
        "lmdb",
        "msgpackr-extract",
        "@prisma/client",
        "prisma",
        "esbuild",
        "@swc/core",
        "oracledb",
        "odbc",
        "ibm_db",
        "node-rdkafka",
        "hiredis",
    }
)

# Bins whose package has another name: `npx tsc` in a postinstall needs typescript installed.
BIN_PACKAGES = {
    "tsc": "typescript",
    "babel": "@babel/cli",
    "nest": "@nestjs/cli",
    "ng": "@angular/cli",
    "vue-cli-service": "@vue/cli-service",
    "remix": "@remix-run/dev",
    "babel-node": "@babel/node",
}
# Programs that serve a folder of static files.
STATIC_SERVERS = {"serve": 3000, "http-server": 8080, "live-server": 8080, "lite-server": 3000}
# Dev servers of front-end tools: the static build replaces them.
FRONTEND_DEV_SERVERS = {
    "vite": 5173,
    "react-scripts": 3000,
    "react-app-rewired": 3000,  # react-scripts with config overrides: same dev server, same build/
    "craco": 3000,
    "vue-cli-service": 8080,
    "ng": 4200,
}


@dataclass
class Package:
    """package.json, or an empty stand-in when the context does not have one."""

    data: dict = field(default_factory=dict)
    found: bool = False
    error: str | None = None  # why a package.json that is there could not be read (invalid JSON, not an object)

    @property
    def scripts(self) -> dict[str, str]:
        value = self.data.get("scripts")
        return {k: v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {}

    def deps(self, dev: bool = False) -> dict[str, str]:
        value = self.data.get("devDependencies" if dev else "dependencies")
        return {k: str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    def has(self, name: str) -> bool:
        return name in self.deps() or name in self.deps(dev=True)

    @property
    def name(self) -> str:
        value = self.data.get("name")
        return value if isinstance(value, str) else ""


def read_package(ctx: BuildContext, rel: str = "package.json") -> Package:
    text = ctx.read_text(rel)
    if text is None:
        return Package()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Package(error=f"{rel} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    if not isinstance(data, dict):
        return Package(error=f"{rel} holds a JSON {type(data).__name__}, not an object")
    return Package(data, True)


def read_jsonc(ctx: BuildContext, rel: str) -> dict:
    """tsconfig.json / angular.json allow comments and trailing commas."""
    text = ctx.read_text(rel)
    if text is None:
        return {}
    out = re.sub(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', lambda m: m.group(1) or "", text, flags=re.S)
    out = re.sub(r",(\s*[}\]])", r"\1", out)
    try:
        data = json.loads(out)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# -- package manager ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Manager:
    name: str  # npm | yarn | pnpm
    lockfile: str | None
    berry: bool = False  # yarn 2+ (.yarnrc.yml)
    legacy_npm: bool = False  # npm 6 (node < 15) knows --only=production, not --omit=dev
    frozen: bool = True  # installs exactly the lockfile (npm ci, --frozen-lockfile); False when it disagrees

    @property
    def strict(self) -> bool:
        return bool(self.lockfile) and self.frozen

    def install(self, production: bool, extra: list[str]) -> str:
        flags = [f for f in extra]
        if self.name == "npm":
            words = ["npm", "ci" if self.strict else "install"]
            if production:
                words.append("--only=production" if self.legacy_npm else "--omit=dev")
        elif self.name == "pnpm":
            words = ["pnpm", "install"]
            if self.strict:
                words.append("--frozen-lockfile")
            if production:
                words.append("--prod")
        elif self.berry:
            if production:
                words = ["yarn", "workspaces", "focus", "--all", "--production"]
                flags = []
            else:
                words = ["yarn", "install"] + (["--immutable"] if self.strict else [])
        else:
            words = ["yarn", "install"]
            if self.strict:
                words.append("--frozen-lockfile")
            if production:
                words.append("--production")
        return " ".join(words + flags)

    def run(self, script: str) -> str:
        return f"{self.name} run {script}"


def lockfiles(ctx: BuildContext) -> list[str]:
    return [name for name in LOCKFILES if ctx.exists(name)]


def manager_for(ctx: BuildContext, used: str, node_major: int | None, frozen: bool = False) -> Manager:
    """The manager the original's install runs, with the lockfile of that manager when the context has one."""
    lock = next((name for name, tool in LOCKFILES.items() if tool == used and ctx.exists(name)), None)
    if not ctx.known and frozen:
        lock = next(name for name, tool in LOCKFILES.items() if tool == used)  # the original relies on one
    berry = False
    if used == "yarn":
        text = ctx.read_text("yarn.lock", limit=200_000) or "" if lock else ""
        berry = ctx.exists(".yarnrc.yml") or "__metadata:" in text
    legacy = used == "npm" and node_major is not None and node_major < 15
    return Manager(used, lock, berry, legacy)


# -- scripts ------------------------------------------------------------------------------------
def script_commands(pkg: Package, script: str, depth: int = 0) -> list[list[str]]:
    """The simple commands a package.json script runs, following `npm run x` into other scripts."""
    text = pkg.scripts.get(script)
    if text is None or depth > 4:
        return []
    out: list[list[str]] = []
    for pre in ("pre" + script,):
        if pre in pkg.scripts and not script.startswith("pre"):
            out += script_commands(pkg, pre, depth + 1)
    for seg in shell.segments(text):
        _, words = shell.env_prefix(seg.words())
        words = unwrap(words)
        target = script_target(words, pkg)
        if target is not None:
            out += script_commands(pkg, target, depth + 1)
        elif words:
            out.append(words)
    return out


def unwrap(words: list[str]) -> list[str]:
    """`cross-env A=1 tsc`, `npx tsc`, `./node_modules/.bin/tsc` -> `tsc …`."""
    words = list(words)
    while words:
        head = posixpath.basename(words[0]) if words[0].startswith(("./node_modules/", "node_modules/")) else words[0]
        if head in ("cross-env", "env-cmd", "dotenv"):
            words = words[1:]
            while words and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]) or words[0].startswith("-")):
                words = words[1:]
            if words and words[0] == "--":
                words = words[1:]
            continue
        if head in ("npx", "pnpx") or words[:2] in (["pnpm", "exec"], ["yarn", "exec"], ["npm", "exec"]):
            words = words[2:] if head not in ("npx", "pnpx") else words[1:]
            while words and words[0].startswith("-"):
                words = words[1:]
            continue
        words[0] = head
        break
    return words


PM_BUILTINS = {
    "npm": {"install", "i", "ci", "add", "uninstall", "prune", "cache", "config", "exec", "audit", "dedupe"},
    "yarn": {"install", "add", "remove", "global", "cache", "config", "workspaces", "workspace", "dlx", "set"},
    "pnpm": {"install", "i", "add", "remove", "fetch", "store", "config", "deploy", "dlx", "prune"},
}


def script_target(words: list[str], pkg: Package | None = None) -> str | None:
    """`npm run build`, `npm start`, `yarn build`, `pnpm run build` -> the script name, else None."""
    if not words or words[0] not in ("npm", "yarn", "pnpm"):
        return None
    tool = words[0]
    rest = [w for w in words[1:] if not w.startswith("-")]
    if "--" in words:
        rest = [w for w in words[1 : words.index("--")] if not w.startswith("-")]
    if not rest:
        return None
    verb = rest[0]
    if verb in ("run", "run-script") and len(rest) > 1:
        return rest[1]
    if verb in ("start", "test", "t", "stop", "restart"):
        return "test" if verb == "t" else verb
    # `yarn build` / `pnpm build` run scripts without `run`
    known = pkg is None or verb in pkg.scripts or not pkg.found
    if tool in ("yarn", "pnpm") and verb not in PM_BUILTINS[tool] and known:
        return verb
    return None


def script_args(words: list[str]) -> list[str]:
    """Arguments after `--` in `npm start -- --port 3000` (yarn and pnpm pass trailing words through)."""
    if "--" in words:
        return words[words.index("--") + 1 :]
    return []


# -- what a build writes -------------------------------------------------------------------------
def build_outputs(ctx: BuildContext, pkg: Package, words: list[str]) -> list[str]:
    """Folders (relative to the project) one build command writes, as far as its tool and config tell."""
    if not words:
        return []
    tool = words[0]
    args = words[1:]
    if tool == "tsc":
        if "--noEmit" in args:
            return []
        config = _tsconfig(ctx, _option(args, "-p", "--project"))
        out = _option(args, "--outDir") or _tsconfig_outdir(ctx, config)
        return [_norm(out)] if out else []
    if tool == "nest" and args[:1] == ["build"]:
        return ["dist"]
    if tool == "next" and args[:1] == ["build"]:
        return [".next"]
    if tool == "nuxt" and args[:1] == ["build"] or tool == "nuxi" and args[:1] == ["build"]:
        return [".output"]
    if tool == "vite" and args[:1] == ["build"]:
        return [_norm(_option(args, "--outDir") or vite_outdir(ctx) or "dist")]
    if tool in ("react-scripts", "react-app-rewired", "craco") and args[:1] == ["build"]:
        return ["build"]
    if tool == "vue-cli-service" and args[:1] == ["build"]:
        return [_norm(_option(args, "--dest") or _config_value(ctx, ("vue.config.js",), "outputDir") or "dist")]
    if tool == "ng" and args[:1] == ["build"]:
        project = next((a for a in args[1:] if not a.startswith("-") and not _is_value_of(args, a)), None)
        out = angular_output(ctx, project, _option(args, "--output-path", "--outputPath"))
        return [out] if out else []
    if tool in ("astro", "parcel", "tsup") and "build" in args[:1] + [tool]:
        return [_norm(_option(args, "--dist-dir", "--out-dir", "-d") or "dist")]
    if tool == "remix" and args[:1] == ["build"]:
        return remix_outputs(ctx)
    if tool == "remix" and args[:1] == ["vite:build"] or tool == "react-router" and args[:1] == ["build"]:
        return ["build"]  # build/server and build/client
    if tool == "gatsby" and args[:1] == ["build"]:
        return ["public"]
    if tool == "babel":
        out = _option(args, "-d", "--out-dir")
        return [_norm(out)] if out else []
    if tool == "esbuild":
        out = _option(args, "--outdir")
        outfile = _option(args, "--outfile")
        if outfile and "/" in outfile:
            out = outfile.rsplit("/", 1)[0]
        return [_norm(out)] if out else []
    if tool == "webpack":
        return [_norm(_config_value(ctx, ("webpack.config.js",), "path", r"path\.resolve\([^,]+,\s*") or "dist")]
    if tool == "swc":
        out = _option(args, "-d", "--out-dir")
        return [_norm(out)] if out else []
    return []


def tsc_in_place(ctx: BuildContext, words: list[str]) -> dict | None:
    """The tsconfig of a `tsc` run that writes each .js next to its .ts (no outDir, outFile or noEmit), else None."""
    if (
        not words
        or words[0] != "tsc"
        or any(a in ("--noEmit", "--outDir", "--outFile", "-b", "--build") for a in words)
    ):
        return None
    if any(a.startswith(("--outDir=", "--outFile=")) for a in words):
        return None
    config = _tsconfig(ctx, _option(words[1:], "-p", "--project"))
    if _tsconfig_outdir(ctx, config):
        return None
    data = read_jsonc(ctx, config)
    options = data.get("compilerOptions") or {}
    if options.get("noEmit") or options.get("outFile") or options.get("out"):
        return None
    return data


def _tsconfig(ctx: BuildContext, project: str | None) -> str:
    """The config `tsc -p X` reads: X itself, or X/tsconfig.json for a folder (`-p .`)."""
    if not project:
        return "tsconfig.json"
    project = _norm(project)
    if project == "." or ctx.is_dir(project):
        return posixpath.normpath(posixpath.join(project, "tsconfig.json"))
    return project


_TS_TO_JS = {".ts": ".js", ".tsx": ".js", ".mts": ".mjs", ".cts": ".cjs"}


def compiled_name(config: dict, rel: str) -> str | None:
    """`index.ts` -> `index.js` when the tsconfig compiles that file in place; None for .d.ts and excluded files."""
    stem, ext = posixpath.splitext(rel)
    if ext not in _TS_TO_JS or stem.endswith(".d"):
        return None
    files = config.get("files")
    include = config.get("include")
    exclude = config.get("exclude") or []

    def matches(patterns) -> bool:
        for pattern in patterns if isinstance(patterns, list) else []:
            p = _norm(str(pattern))
            if p == ".":
                return True  # a folder includes everything below it
            candidates = {p, p[3:] if p.startswith("**/") else p}
            if any(fnmatch.fnmatch(rel, c) or fnmatch.fnmatch(rel, c + "/*") for c in candidates if c):
                return True
        return False

    if isinstance(files, list) and rel in {_norm(str(f)) for f in files}:
        return stem + _TS_TO_JS[ext]
    if include is None and files is not None:
        return None  # only `files` are compiled
    if include is not None and not matches(include):
        return None
    if matches(exclude):
        return None
    return stem + _TS_TO_JS[ext]


def _norm(path: str) -> str:
    out = posixpath.normpath(path.strip("\"'"))
    return out[2:] if out.startswith("./") else out


def _is_value_of(args: list[str], word: str) -> bool:
    """`production` in `ng build --configuration production`: the value of the option before it."""
    i = args.index(word)
    return i > 0 and args[i - 1].startswith("--") and "=" not in args[i - 1] and args[i - 1] not in ("--prod", "--aot")


def _option(args: list[str], *names: str) -> str | None:
    for i, a in enumerate(args):
        for name in names:
            if a == name and i + 1 < len(args):
                return args[i + 1]
            if a.startswith(name + "="):
                return a.split("=", 1)[1]
    return None


def _tsconfig_outdir(ctx: BuildContext, config: str, depth: int = 0) -> str | None:
    data = read_jsonc(ctx, config)
    out = (data.get("compilerOptions") or {}).get("outDir")
    if out:
        return posixpath.join(posixpath.dirname(config), out) if posixpath.dirname(config) else out
    parent = data.get("extends")
    if isinstance(parent, str) and parent.startswith(".") and depth < 3:
        rel = posixpath.normpath(posixpath.join(posixpath.dirname(config), parent))
        return _tsconfig_outdir(ctx, rel if rel.endswith(".json") else rel + ".json", depth + 1)
    return None


def _without_comments(text: str) -> str:
    """JS/JSONC source minus comments, strings kept: a commented-out default (`// outDir: "x"`) is no setting."""
    strings = r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|`(?:\\.|[^`\\])*`'
    return re.sub(rf"({strings})|//[^\n]*|/\*.*?\*/", lambda m: m.group(1) or "", text, flags=re.S)


def _config_value(ctx: BuildContext, names: tuple[str, ...], key: str, prefix: str = "") -> str | None:
    for name in names:
        text = _without_comments(ctx.read_text(name) or "")
        m = re.search(rf"\b{key}\s*:\s*{prefix}['\"]([^'\"]+)['\"]", text)
        if m:
            return m.group(1)
    return None


def remix_outputs(ctx: BuildContext) -> list[str]:
    """Remix 1 (`remix build`): the server bundle (serverBuildPath, default build/index.js) and the browser
    assets (assetsBuildDirectory, default public/build); `remix-serve build` needs both at run time."""
    names = ("remix.config.js", "remix.config.mjs", "remix.config.cjs")
    server = _config_value(ctx, names, "serverBuildPath") or "build/index.js"
    server_dir = posixpath.dirname(_norm(server)) or "."
    assets = _norm(_config_value(ctx, names, "assetsBuildDirectory") or "public/build")
    return [d for d in (server_dir if server_dir != "." else _norm(server), assets) if d]


VITE_CONFIGS = ("vite.config.ts", "vite.config.js", "vite.config.mjs", "vite.config.mts", "vite.config.cjs")


def vite_outdir(ctx: BuildContext) -> str | None:
    return _config_value(ctx, VITE_CONFIGS, "outDir")


def angular_output(ctx: BuildContext, project: str | None = None, output_path: str | None = None) -> str | None:
    """The folder of the browser files `ng build [project] [--output-path X]` writes: outputPath from angular.json
    (default dist/<project>), with /browser below it for Angular 17+'s application builder (or the `browser`
    of an outputPath object; "" there means the base folder itself)."""
    data = read_jsonc(ctx, "angular.json")
    projects = data.get("projects") or {}
    if not isinstance(projects, dict) or not projects:
        return None
    if project not in projects:
        project = None
    default = data.get("defaultProject") if data.get("defaultProject") in projects else next(iter(projects))
    name = project or default
    build = ((projects[name] or {}).get("architect") or {}).get("build") or {}
    options = build.get("options") or {}
    out = output_path or options.get("outputPath", f"dist/{name}")
    if isinstance(out, dict):
        base = out.get("base", f"dist/{name}")
        return _norm(posixpath.join(base, out.get("browser", "browser")))
    if str(build.get("builder", "")).endswith(":application"):
        return _norm(posixpath.join(out, "browser"))
    return _norm(out)


def next_standalone(ctx: BuildContext) -> bool:
    for name in ("next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs"):
        text = ctx.read_text(name) or ""
        if re.search(r"\boutput\s*:\s*['\"]standalone['\"]", text):
            return True
    return False


def next_config(ctx: BuildContext) -> str | None:
    return next(
        (n for n in ("next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs") if ctx.exists(n)), None
    )


# -- workspaces ----------------------------------------------------------------------------------
def workspace_reason(ctx: BuildContext, pkg: Package) -> str | None:
    """Why this context is part of a workspace the rewrite cannot split, or None."""
    local = sorted(
        name
        for dev in (False, True)
        for name, spec in pkg.deps(dev).items()
        if spec.startswith(("workspace:", "link:", "file:../", "portal:"))
    )
    above = outside_lockfile(ctx)
    if local:
        where = f"; the workspace lockfile is {above}, outside the build context" if above else ""
        return (
            f"workspace package: {', '.join(local[:3])} come from the workspace ({pkg.deps().get(local[0]) or 'local'})"
            f" and resolve only from the workspace root{where}; build from the root with "
            "`pnpm deploy`/`yarn workspaces focus` or run dockrewrite on the root Dockerfile"
        )
    if pkg.data.get("workspaces") or ctx.exists("pnpm-workspace.yaml") and _pnpm_packages(ctx):
        return (
            "workspace root: production dependencies of one package need `pnpm deploy --prod` or "
            "`yarn workspaces focus --production`, which this rewrite does not plan yet"
        )
    return None


def _pnpm_packages(ctx: BuildContext) -> bool:
    """Whether pnpm-workspace.yaml lists packages besides the root. pnpm 10 keeps settings there
    (onlyBuiltDependencies, minimumReleaseAge), so a file whose list is only '.' is a single package."""
    text = ctx.read_text("pnpm-workspace.yaml") or ""
    m = re.search(r"^packages\s*:[ \t]*(.*)$", text, re.M)
    if m is None:
        return False
    inline = m.group(1).split("#", 1)[0].strip()
    if inline.startswith("["):
        entries = [e.strip().strip("'\"") for e in inline.strip("[]").split(",") if e.strip()]
    else:
        entries = []
        for line in text[m.end() :].splitlines()[1:]:
            item = re.match(r"^\s+-\s*(.*?)\s*(#.*)?$", line)
            if item:
                entries.append(item.group(1).strip("'\""))
            elif line.strip() and not line.lstrip().startswith("#"):
                break  # the next key
    return any(posixpath.normpath(e) != "." for e in entries)


def outside_lockfile(ctx: BuildContext) -> str | None:
    """A lockfile in a folder above the context (the workspace root), as a path relative to the context."""
    if not ctx.known:
        return None
    here = ctx.root.resolve()
    for up in range(1, 4):
        parent = here.parents[up - 1] if up - 1 < len(here.parents) else None
        if parent is None:
            return None
        for name in LOCKFILES:
            if (parent / name).is_file():
                return "../" * up + name
    return None


# -- what the app's own code loads ---------------------------------------------------------------
NODE_BUILTINS = frozenset(
    {
        *("assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto"),
        *("dgram", "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2", "https"),
        *("inspector", "module", "net", "os", "path", "perf_hooks", "process", "punycode", "querystring"),
        *("readline", "repl", "stream", "string_decoder", "sys", "test", "timers", "tls", "trace_events"),
        *("tty", "url", "util", "v8", "vm", "wasi", "worker_threads", "zlib"),
    }
)
_LOADS = re.compile(r"""(?:\brequire\s*\(\s*|\bimport\s*\(\s*|\bfrom\s+|\bimport\s+)(['"])([^'"\n]+)\1""")
_SOURCE_EXTS = (".js", ".cjs", ".mjs", ".jsx", ".ts", ".cts", ".mts", ".tsx")


def package_of(specifier: str) -> str | None:
    """`lodash/fp` -> lodash, `@scope/pkg/x` -> @scope/pkg; None for relative paths and Node's own modules."""
    if specifier.startswith((".", "/", "node:")) or not specifier:
        return None
    parts = specifier.split("/")
    name = "/".join(parts[:2]) if specifier.startswith("@") else parts[0]
    return None if name in NODE_BUILTINS else name


def loaded_packages(ctx: BuildContext, entries: list[str], limit: int = 400) -> dict[str, str]:
    """Bare packages the entry files and the local modules they load `require`/`import`, each with the first
    file that loads it. Read from the build context, never run; comments are ignored."""
    found: dict[str, str] = {}
    for rel, text in local_modules(ctx, entries, limit):
        for m in _LOADS.finditer(text):
            spec = m.group(2)
            name = None if spec.startswith(".") else package_of(spec)
            if name and name not in found:
                found[name] = rel
    return found


def local_modules(ctx: BuildContext, entries: list[str], limit: int = 400, also: list[str] | None = None):
    """(file, its text without comments) for the entry files (and `also`, files already resolved) and every
    local module they load, breadth first, each once, at most `limit` files. Read from the build context,
    never run."""
    queue = [e for e in (_module_file(ctx, e) for e in entries) if e] + list(also or [])
    seen: set[str] = set()
    while queue and len(seen) < limit:
        rel = queue.pop(0)
        if rel in seen:
            continue
        seen.add(rel)
        text = _without_comments(ctx.read_text(rel, limit=1_000_000) or "")
        for m in _LOADS.finditer(text):
            if m.group(2).startswith("."):
                target = _module_file(ctx, posixpath.normpath(posixpath.join(posixpath.dirname(rel), m.group(2))))
                if target and target not in seen:
                    queue.append(target)
        yield rel, text


def _module_file(ctx: BuildContext, rel: str) -> str | None:
    """How Node resolves a relative module: the file, the file plus an extension, or the folder's index."""
    rel = _norm(rel)
    if rel.startswith("../") or rel.startswith("/"):
        return None
    candidates = [rel] + [rel + ext for ext in _SOURCE_EXTS] + [posixpath.join(rel, "index" + e) for e in _SOURCE_EXTS]
    for c in candidates:
        if c.endswith(_SOURCE_EXTS) and ctx.exists(c) and not ctx.is_dir(c):
            return c
    return None


def babel_packages(ctx: BuildContext, names: list[str]) -> list[str]:
    """Presets and plugins a JSON Babel config names, as package names (`@babel/env` -> @babel/preset-env)."""
    out: list[str] = []
    for name in names:
        data = read_jsonc(ctx, name) if name.endswith((".babelrc", ".json")) else {}
        for kind in ("presets", "plugins"):
            for item in data.get(kind) or []:
                spec = item[0] if isinstance(item, list) and item else item
                if isinstance(spec, str):
                    out.append(_babel_name(spec, kind[:-1]))
    return out


def _babel_name(spec: str, kind: str) -> str:
    """Babel's name normalisation: `module-resolver` -> babel-plugin-module-resolver,
    `@babel/proposal-x` -> @babel/plugin-proposal-x, `@scope` -> @scope/babel-preset."""
    if spec.startswith((".", "/")):
        return spec
    prefix = f"babel-{kind}"
    if spec.startswith("@"):
        scope, _, rest = spec.partition("/")
        if not rest:
            return f"{scope}/{prefix}"
        if scope == "@babel":
            return spec if rest.startswith(f"{kind}-") else f"@babel/{kind}-{rest}"
        return spec if rest.startswith(prefix) else f"{scope}/{prefix}-{rest}"
    return spec if spec.startswith(prefix) else f"{prefix}-{spec}"


# Packages that read env files when the app starts (dotenv's config() reads .env from the working directory).
ENV_LOADERS = ("dotenv", "dotenv-flow", "dotenv-expand", "@dotenvx/dotenvx", "dotenv-safe")
_ENV_FILE = re.compile(r"""(['"`])((?:\./)?\.env(?:\.[\w-]+)*)\1""")
_LOAD_ENV_FILE = re.compile(r"\bprocess\.loadEnvFile\(\s*(?:(['\"`])([^'\"`\n]+)\1)?\s*\)")
_ENV_READ = re.compile(r"\bprocess\.env\.([A-Za-z_]\w*)|\bprocess\.env\[\s*['\"`]([A-Za-z_]\w*)['\"`]\s*\]")


@dataclass
class StartFiles:
    """What the app's start reads from the environment: env files a loader reads, variables it uses."""

    loader: str | None = None  # e.g. "dotenv, server.js"
    compiled: bool = False  # the loader is in the sources a built app was compiled from (src/app.module.ts)
    env_files: list[str] = field(default_factory=list)  # relative to the working directory, in order
    env_reads: dict[str, str] = field(default_factory=dict)  # variable -> the first file that reads it
    named_files: list[str] = field(default_factory=list)  # config-like file names in string literals (`config.yml`)


# @nestjs/config: `ConfigModule.forRoot()` reads .env from the working directory; `envFilePath` names others.
_NEST_FOR_ROOT = re.compile(r"\bConfigModule\.forRoot(?:Async)?\s*\(")
_NEST_ENV_PATH = re.compile(r"\benvFilePath\s*:\s*(\[[^\]]*\]|(['\"`])[^'\"`\n]+\2)")
_NEST_NO_FILE = re.compile(r"\bignoreEnvFile\s*:\s*true\b")
_STRING_LIT = re.compile(r"""(['"`])([^'"`\n]+)\1""")
# `next start` loads these from the project folder at run time (highest priority last).
NEXT_ENV_FILES = (".env", ".env.production", ".env.local", ".env.production.local")

_CONFIG_LITERAL = re.compile(r"""(['"`])((?:\./)?[\w.-]+\.(?:ya?ml|toml|ini|json|conf))\1""")


def start_files(
    ctx: BuildContext,
    entries: list[str],
    programs: list[list[str]],
    limit: int = 400,
    sources: list[str] | None = None,
    next_server: bool = True,
) -> StartFiles:
    """Env files the app loads at start (dotenv and its kin, `node --env-file`, `process.loadEnvFile`, @nestjs/config,
    `next start`) and the variables its files read, from the entry files and the local modules they load, and from
    `sources` (the TypeScript a built app was compiled from); read, never run."""
    out = StartFiles()
    compiled = set(sources or [])
    for words in programs:
        if next_server and words[:2] == ["next", "start"]:
            out.loader = out.loader or "next start"
            out.env_files += NEXT_ENV_FILES
        for i, w in enumerate(words):
            name = w.split("=", 1)[1] if w.startswith("--env-file=") else None
            if w == "--env-file" and i + 1 < len(words):
                name = words[i + 1]
            if name:
                out.loader = out.loader or f"node --env-file {name}"
                out.env_files.append(name)
        if any(m == "dotenv/config" or m.startswith("dotenv/") for m in _preloads(words)):
            out.loader = out.loader or "node -r dotenv/config"
            out.env_files.append(".env")
    for rel, text in local_modules(ctx, entries, limit, also=list(sources or [])):
        if "@nestjs/config" in text and _NEST_FOR_ROOT.search(text) and not _NEST_NO_FILE.search(text):
            out.loader = out.loader or f"@nestjs/config ConfigModule.forRoot, {rel}"
            out.compiled = out.compiled or (out.loader.endswith(f", {rel}") and rel in compiled)
            paths = [m.group(1) for m in _NEST_ENV_PATH.finditer(text)]
            names = [n for p in paths for _q, n in _STRING_LIT.findall(p)]
            # without envFilePath (or with one only known at run time) it reads .env
            out.env_files += names if names else [".env"]
        # from the compiled app's sources only the env files it loads are taken, not what else they name
        for a, b in _ENV_READ.findall(text) if rel not in compiled else ():
            out.env_reads.setdefault(a or b, rel)
        for m in _CONFIG_LITERAL.finditer(text) if rel not in compiled else ():
            name = m.group(2)[2:] if m.group(2).startswith("./") else m.group(2)
            if name not in out.named_files:
                out.named_files.append(name)
        loads = False
        for m in _LOADS.finditer(text):
            spec = m.group(2)
            if not spec.startswith(".") and package_of(spec) in ENV_LOADERS:
                loads = True
                out.loader = out.loader or f"{package_of(spec)}, {rel}"
                out.compiled = out.compiled or (out.loader.endswith(f", {rel}") and rel in compiled)
        for m in _LOAD_ENV_FILE.finditer(text):
            loads = True
            out.loader = out.loader or f"process.loadEnvFile, {rel}"
            out.compiled = out.compiled or (out.loader.endswith(f", {rel}") and rel in compiled)
            out.env_files.append(m.group(2) or ".env")
        if loads:
            out.env_files += [m.group(2) for m in _ENV_FILE.finditer(text)] + [".env"]
    out.env_files = [f[2:] if f.startswith("./") else f for f in out.env_files]
    out.env_files = [f for i, f in enumerate(out.env_files) if f not in out.env_files[:i]]
    return out


def _preloads(words: list[str]) -> list[str]:
    from dockrewrite.providers.node_cmds import node_preloads

    return node_preloads(words)


# -- does the lockfile agree with package.json? ---------------------------------------------------
_DEP_FIELDS = ("dependencies", "devDependencies", "optionalDependencies")


def _declared(pkg: Package) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in _DEP_FIELDS:
        value = pkg.data.get(name)
        if isinstance(value, dict):
            out.update((k, str(v)) for k, v in value.items())
    return out


def pnpm_lock_format_problem(lock_text: str, pnpm_major: int | None) -> str | None:
    """Why a frozen pnpm install would refuse this pnpm-lock.yaml's format, or None. pnpm 9 and later write
    lockfileVersion 9.0 and refuse an older format in frozen mode (ERR_PNPM_LOCKFILE_BREAKING_CHANGE), where
    a plain install converts it; pnpm 8 and earlier cannot read 9.0. `pnpm_major` None: not pinned (the
    latest pnpm runs)."""
    m = re.search(r"""^lockfileVersion:\s*['"]?(\d+)""", lock_text, re.MULTILINE)
    if m is None:
        return None
    lock_major = int(m.group(1))
    runs = "the latest pnpm" if pnpm_major is None else f"pnpm {pnpm_major}"
    if (pnpm_major is None or pnpm_major >= 9) and lock_major < 9:
        return f"pnpm-lock.yaml is lockfileVersion {lock_major}, which {runs} refuses to install frozen"
    if pnpm_major is not None and pnpm_major < 9 and lock_major >= 9:
        return f"pnpm-lock.yaml is lockfileVersion {lock_major}, which {runs} cannot read"
    return None


def pnpm_major(pkg: Package, global_install: str | None) -> int | None:
    """The major version of the pnpm the image runs: package.json's packageManager (corepack), else the
    version the original's `npm i -g pnpm@X` pins; None when unpinned."""
    for spec in (pkg.data.get("packageManager"), global_install):
        m = re.search(r"\bpnpm@(\d+)", spec) if isinstance(spec, str) else None
        if m:
            return int(m.group(1))
    return None


def lock_disagreement(ctx: BuildContext, pkg: Package, lockfile: str) -> str | None:
    """Why `npm ci` / `yarn --frozen-lockfile` / `pnpm --frozen-lockfile` would refuse this lockfile, or None when
    every dependency package.json declares has its entry (package-lock v1 `dependencies`, v2/v3 `packages[""]`;
    yarn.lock `name@range` keys; pnpm-lock's importer for the project with the same specifiers)."""
    declared = _declared(pkg)
    if not declared:
        return None
    text = ctx.read_text(lockfile, limit=20_000_000)
    if text is None:
        return f"{lockfile} cannot be read"
    if lockfile in ("package-lock.json", "npm-shrinkwrap.json"):
        missing = _npm_missing(text, declared)
    elif lockfile == "yarn.lock":
        missing = _yarn_missing(text, declared)
    else:
        missing = _pnpm_missing(text, declared)
    if missing is None:
        return f"{lockfile} cannot be parsed"
    if not missing:
        return None
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return f"{lockfile} has no entry for {shown} from package.json"


def _npm_missing(text: str, declared: dict[str, str]) -> list[str] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    packages = data.get("packages")
    if isinstance(packages, dict) and data.get("lockfileVersion", 1) != 1:  # v2/v3: the root package's record
        root = packages.get("") if isinstance(packages.get(""), dict) else {}
        listed: set[str] = set()
        for name in (*_DEP_FIELDS, "peerDependencies"):
            value = root.get(name)
            if isinstance(value, dict):
                listed |= set(value)
        return [
            name
            for name in declared
            if name not in listed or not isinstance(packages.get(f"node_modules/{name}"), dict)
        ]
    deps = data.get("dependencies")
    deps = deps if isinstance(deps, dict) else {}
    return [name for name in declared if name not in deps]


_YARN_KEY = re.compile(r'^(?!\s)(?!#)("?[^\n]+?)"?:\s*$', re.M)


def _yarn_missing(text: str, declared: dict[str, str]) -> list[str]:
    """yarn.lock keys: `express@^4.19.2, express@^4.18.0:` (v1), `"express@npm:^4.19.2":` (berry)."""
    keys: set[str] = set()
    for m in _YARN_KEY.finditer(text):
        for part in m.group(1).split(","):
            keys.add(part.strip().strip('"'))
    missing = []
    for name, spec in declared.items():
        candidates = {f"{name}@{spec}", f"{name}@npm:{spec}"}
        if not candidates & keys:
            missing.append(f"{name}@{spec}")
    return missing


def _pnpm_missing(text: str, declared: dict[str, str]) -> list[str] | None:
    from ruamel.yaml import YAML  # only for pnpm projects

    try:
        data = YAML(typ="safe", pure=True).load(text)
    except Exception:  # noqa: BLE001 - any YAML error means the lockfile cannot be read
        return None
    if not isinstance(data, dict):
        return None
    importers = data.get("importers")
    project = importers.get(".") if isinstance(importers, dict) else data  # v5-v9 single projects keep it on top
    if not isinstance(project, dict):
        return None
    specifiers: dict[str, str] = {}
    if isinstance(project.get("specifiers"), dict):  # lockfile v5
        specifiers = {k: str(v) for k, v in project["specifiers"].items()}
    for name in _DEP_FIELDS:
        value = project.get(name)
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, dict) and "specifier" in v:  # lockfile v6+
                    specifiers[k] = str(v["specifier"])
                else:
                    specifiers.setdefault(k, str(v))
    return [f"{name}@{spec}" for name, spec in declared.items() if specifiers.get(name) not in (spec,)]


# -- TypeScript compiled once instead of at every start -------------------------------------------
_TS_INPUTS = (".ts", ".tsx", ".mts", ".cts")


def tsc_entry(ctx: BuildContext, project: str | None, entry: str) -> tuple[str, str, str] | None:
    """Where `tsc` (`-p project`) writes the JavaScript of a TypeScript entry file: (the .js path, the outDir, the
    tsconfig), or None when it cannot be told or the output would not run the same: no outDir, noEmit/outFile,
    `paths` aliases (tsc leaves them in the output), or an entry the config does not compile."""
    config_path = _tsconfig(ctx, project)
    if not ctx.exists(config_path):
        return None
    data = read_jsonc(ctx, config_path)
    options = data.get("compilerOptions") or {}
    if not isinstance(options, dict) or any(options.get(k) for k in ("noEmit", "outFile", "out", "paths")):
        return None
    out = _tsconfig_outdir(ctx, config_path)
    rel = _norm(entry)
    js = compiled_name(data, rel)
    if not out or js is None:
        return None
    out = _norm(out)
    root = options.get("rootDir")
    if isinstance(root, str) and root:
        root = _norm(posixpath.join(posixpath.dirname(config_path), root))
    else:  # tsc's common source directory: the deepest folder holding every file it compiles
        inputs = [
            f
            for f in ctx.walk(_TS_INPUTS)
            if not f.endswith((".d.ts", ".d.mts", ".d.cts"))
            and not f.startswith(out + "/")
            and compiled_name(data, f) is not None
        ]
        if rel not in inputs:
            return None
        dirs = [posixpath.dirname(f) or "." for f in inputs]
        root = "." if "." in dirs else posixpath.commonpath(dirs)
    inside = posixpath.relpath(js, root) if root != "." else js
    if inside.startswith("../"):
        return None
    return _norm(posixpath.join(out, inside)), out, config_path


def nest_entry(ctx: BuildContext) -> str:
    """What `nest start` runs after compiling: <outDir>/<entryFile> (nest-cli.json; defaults dist and main)."""
    cli = read_jsonc(ctx, "nest-cli.json")
    entry = cli.get("entryFile") if isinstance(cli.get("entryFile"), str) else "main"
    config = "tsconfig.build.json" if ctx.exists("tsconfig.build.json") else "tsconfig.json"
    out = _tsconfig_outdir(ctx, config) or "dist"
    return _norm(posixpath.join(out, entry))


# -- the Node version the project asks for -----------------------------------------------------------
_LTS = {
    "argon": 4,
    "boron": 6,
    "carbon": 8,
    "dubnium": 10,
    "erbium": 12,
    "fermium": 14,
    "gallium": 16,
    "hydrogen": 18,
    "iron": 20,
    "jod": 22,
    "krypton": 24,
}


def wanted_node(ctx: BuildContext, pkg: Package) -> list[tuple[str, str]]:
    """(where, what) for each place that names the Node the project wants: .nvmrc, .node-version, engines.node."""
    out: list[tuple[str, str]] = []
    for name in (".nvmrc", ".node-version"):
        text = ctx.read_text(name, limit=1000) or ""
        line = next((raw.split("#", 1)[0].strip() for raw in text.splitlines() if raw.split("#", 1)[0].strip()), "")
        if line:
            out.append((name, line))
    engines = pkg.data.get("engines")
    if isinstance(engines, dict) and isinstance(engines.get("node"), str) and engines["node"].strip():
        out.append(("package.json engines.node", engines["node"].strip()))
    return out


_VERSION = re.compile(r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[-+][\w.]*)?$")


def node_major_allowed(major: int, spec: str) -> bool | None:
    """Whether Node <major> satisfies a version file's value (`20`, `v20.11.1`, `lts/iron`) or an engines range
    (`>=18 <21`, `^20.9`, `18.x || 20.x`, `16 - 20`), judged by the major only; None when it cannot be told
    (`lts/*`, `node`, an odd range)."""
    spec = spec.strip()
    if spec.lower().startswith("lts/"):
        wanted = _LTS.get(spec[4:].lower())
        return None if wanted is None else major == wanted
    if spec in ("", "*", "x", "X", "latest", "any"):
        return True
    verdicts = []
    for alternative in spec.split("||"):
        verdict = _range_allows(major, alternative.strip())
        if verdict is None:
            return None
        verdicts.append(verdict)
    return any(verdicts)


def _range_allows(major: int, text: str) -> bool | None:
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", text)
    if hyphen:
        low, high = _VERSION.match(hyphen.group(1)), _VERSION.match(hyphen.group(2))
        if not low or not high or not low.group(1).isdigit() or not high.group(1).isdigit():
            return None
        return int(low.group(1)) <= major <= int(high.group(1))
    text = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", text)
    if not text or text in ("*", "x", "X"):
        return True
    for token in text.split():
        m = re.fullmatch(r"(>=|<=|>|<|=|\^|~>?)?(.+)", token)
        op, version = (m.group(1) or ""), m.group(2)
        v = _VERSION.match(version)
        if not v:
            return None
        if not v.group(1).isdigit():
            continue  # `*`, `x`: any
        want = int(v.group(1))
        rest_zero = all(g in (None, "0") for g in (v.group(2), v.group(3)))
        only_major = v.group(2) is None or not v.group(2).isdigit()
        ok = {
            ">=": major >= want,
            ">": major > want if only_major else major >= want,
            "<": major < want if rest_zero else major <= want,
            "<=": major <= want,
        }.get(op, major == want)  # ^, ~, =, a bare version: the same major
        if not ok:
            return False
    return True
