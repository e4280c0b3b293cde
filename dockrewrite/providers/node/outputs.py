"""What a build command writes: the output folders of tsc, vite, next, angular and the other build tools."""

from __future__ import annotations

import fnmatch
import posixpath
import re

from dockrewrite.context import BuildContext
from dockrewrite.providers.node.package import Package, read_jsonc


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
        return [norm(out)] if out else []
    if tool == "nest" and args[:1] == ["build"]:
        return ["dist"]
    if tool == "next" and args[:1] == ["build"]:
        return [".next"]
    if tool == "nuxt" and args[:1] == ["build"] or tool == "nuxi" and args[:1] == ["build"]:
        return [".output"]
    if tool == "vite" and args[:1] == ["build"]:
        return [norm(_option(args, "--outDir") or vite_outdir(ctx) or "dist")]
    if tool in ("react-scripts", "react-app-rewired", "craco") and args[:1] == ["build"]:
        return ["build"]
    if tool == "vue-cli-service" and args[:1] == ["build"]:
        return [norm(_option(args, "--dest") or _config_value(ctx, ("vue.config.js",), "outputDir") or "dist")]
    if tool == "ng" and args[:1] == ["build"]:
        project = next((a for a in args[1:] if not a.startswith("-") and not _is_value_of(args, a)), None)
        out = angular_output(ctx, project, _option(args, "--output-path", "--outputPath"))
        return [out] if out else []
    if tool in ("astro", "parcel", "tsup") and "build" in args[:1] + [tool]:
        return [norm(_option(args, "--dist-dir", "--out-dir", "-d") or "dist")]
    if tool == "remix" and args[:1] == ["build"]:
        return remix_outputs(ctx)
    if tool == "remix" and args[:1] == ["vite:build"] or tool == "react-router" and args[:1] == ["build"]:
        return ["build"]  # build/server and build/client
    if tool == "gatsby" and args[:1] == ["build"]:
        return ["public"]
    if tool == "babel":
        out = _option(args, "-d", "--out-dir")
        return [norm(out)] if out else []
    if tool == "esbuild":
        out = _option(args, "--outdir")
        outfile = _option(args, "--outfile")
        if outfile and "/" in outfile:
            out = outfile.rsplit("/", 1)[0]
        return [norm(out)] if out else []
    if tool == "webpack":
        return [norm(_config_value(ctx, ("webpack.config.js",), "path", r"path\.resolve\([^,]+,\s*") or "dist")]
    if tool == "swc":
        out = _option(args, "-d", "--out-dir")
        return [norm(out)] if out else []
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
    project = norm(project)
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
            p = norm(str(pattern))
            if p == ".":
                return True  # a folder includes everything below it
            candidates = {p, p[3:] if p.startswith("**/") else p}
            if any(fnmatch.fnmatch(rel, c) or fnmatch.fnmatch(rel, c + "/*") for c in candidates if c):
                return True
        return False

    if isinstance(files, list) and rel in {norm(str(f)) for f in files}:
        return stem + _TS_TO_JS[ext]
    if include is None and files is not None:
        return None  # only `files` are compiled
    if include is not None and not matches(include):
        return None
    if matches(exclude):
        return None
    return stem + _TS_TO_JS[ext]


def norm(path: str) -> str:
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


def without_comments(text: str) -> str:
    """JS/JSONC source minus comments, strings kept: a commented-out default (`// outDir: "x"`) is no setting."""
    strings = r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|`(?:\\.|[^`\\])*`'
    return re.sub(rf"({strings})|//[^\n]*|/\*.*?\*/", lambda m: m.group(1) or "", text, flags=re.S)


def _config_value(ctx: BuildContext, names: tuple[str, ...], key: str, prefix: str = "") -> str | None:
    for name in names:
        text = without_comments(ctx.read_text(name) or "")
        m = re.search(rf"\b{key}\s*:\s*{prefix}['\"]([^'\"]+)['\"]", text)
        if m:
            return m.group(1)
    return None


def remix_outputs(ctx: BuildContext) -> list[str]:
    """Remix 1 (`remix build`): the server bundle (serverBuildPath, default build/index.js) and the browser
    assets (assetsBuildDirectory, default public/build); `remix-serve build` needs both at run time."""
    names = ("remix.config.js", "remix.config.mjs", "remix.config.cjs")
    server = _config_value(ctx, names, "serverBuildPath") or "build/index.js"
    server_dir = posixpath.dirname(norm(server)) or "."
    assets = norm(_config_value(ctx, names, "assetsBuildDirectory") or "public/build")
    return [d for d in (server_dir if server_dir != "." else norm(server), assets) if d]


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
        return norm(posixpath.join(base, out.get("browser", "browser")))
    if str(build.get("builder", "")).endswith(":application"):
        return norm(posixpath.join(out, "browser"))
    return norm(out)


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


# -- TypeScript compiled once instead of at every start -------------------------------------------
TS_INPUTS = (".ts", ".tsx", ".mts", ".cts")


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
    rel = norm(entry)
    js = compiled_name(data, rel)
    if not out or js is None:
        return None
    out = norm(out)
    root = options.get("rootDir")
    if isinstance(root, str) and root:
        root = norm(posixpath.join(posixpath.dirname(config_path), root))
    else:  # tsc's common source directory: the deepest folder holding every file it compiles
        inputs = [
            f
            for f in ctx.walk(TS_INPUTS)
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
    return norm(posixpath.join(out, inside)), out, config_path


def nest_entry(ctx: BuildContext) -> str:
    """What `nest start` runs after compiling: <outDir>/<entryFile> (nest-cli.json; defaults dist and main)."""
    cli = read_jsonc(ctx, "nest-cli.json")
    entry = cli.get("entryFile") if isinstance(cli.get("entryFile"), str) else "main"
    config = "tsconfig.build.json" if ctx.exists("tsconfig.build.json") else "tsconfig.json"
    out = _tsconfig_outdir(ctx, config) or "dist"
    return norm(posixpath.join(out, entry))
