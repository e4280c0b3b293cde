"""Node commands inside RUN and CMD: dependency installs, global CLIs, builds, and what a start command runs."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from dockrewrite import shell
from dockrewrite.model import Command, Instruction
from dockrewrite.providers.common import copy_text as copy_line  # noqa: F401  (the planner's name for it)
from dockrewrite.providers.node.package import PM_BUILTINS, Package, script_args, script_commands, script_target, unwrap

# Segment kinds.
SYSTEM = "system"  # apt-get/apk: the toolchain for native addons, or tools the app calls
GLOBAL = "global"  # npm i -g, corepack: package managers and CLIs
INSTALL = "install"  # the project's dependencies
PRUNE = "prune"  # npm prune --production, a second production install: the deps stage replaces it
CLEAN = "clean"  # caches and removals that only slim a single-stage image
BUILD = "build"  # anything that runs project code or tools after the install
FS = "fs"  # mkdir/chown/chmod/ln/useradd: the runtime replays these
NEUTRAL = "neutral"  # cd, echo, version prints
ADD = "add"  # npm install <pkg>: changes package.json at build time

_SYSTEM_TOOLS = frozenset({"apt-get", "apt", "apk", "yum", "dnf", "microdnf", "apt-key", "add-apt-repository"})
_FS_TOOLS = frozenset(
    {"mkdir", "chown", "chmod", "ln", "touch", "useradd", "adduser", "addgroup", "groupadd", "usermod", "chgrp"}
)
_NEUTRAL_TOOLS = frozenset({"cd", "echo", "set", "true", ":", "ls", "pwd", "cat", "export", "printenv"})


@dataclass
class Segment:
    kind: str
    text: str
    words: list[str]
    start: int = 0
    end: int = 0
    manager: str | None = None  # INSTALL/PRUNE: npm | yarn | pnpm
    production: bool = False  # INSTALL: the original already left dev dependencies out
    extra: list[str] = field(default_factory=list)  # INSTALL: flags to keep (--legacy-peer-deps …)
    env: dict[str, str] = field(default_factory=dict)
    globals_: list[str] = field(default_factory=list)  # GLOBAL: packages installed globally


def classify(text: str) -> list[Segment]:
    out = []
    for seg in shell.segments(text):
        env, words = shell.env_prefix(seg.words())
        segment = Segment(NEUTRAL, seg.text, words, seg.start, seg.end, env=env)
        _kind(segment)
        out.append(segment)
    return out


_PROD_FLAGS = re.compile(r"^(--production(=true)?|--only=prod(uction)?|--omit=dev|--prod|-P)$")
# Flags the rewrite sets itself (which dependencies, lockfile strictness). Everything else is the user's and
# is kept in every install: `--force`/`--legacy-peer-deps` get past peer-dependency conflicts, and without
# them the same install fails with ERESOLVE.
_MANAGED = re.compile(
    r"^(--production(=\w+)?|--only=\S+|--omit=\S+|--include=\S+|--prod|-P|--dev|-D|--frozen-lockfile|"
    r"--pure-lockfile|--immutable|--no-frozen-lockfile|--prefer-offline|--offline|--check-files)$"
)


def _kind(seg: Segment) -> None:
    words = seg.words
    if not words:
        return
    first = words[0]
    rest = words[1:]
    positional = _positional(rest)
    if first in _SYSTEM_TOOLS:
        seg.kind = SYSTEM
        return
    if first == "corepack":
        seg.kind = GLOBAL
        seg.globals_ = [w.split("@")[0] for w in positional[1:]] if positional[:1] == ["prepare"] else []
        return
    if first in ("npm", "yarn", "pnpm"):
        verb = positional[0] if positional else ("install" if first == "yarn" else "")
        is_global = any(w in ("-g", "--global", "--location=global") for w in rest) or verb == "global"
        if verb in ("install", "i", "ci", "add", "global") or (first == "pnpm" and verb == "fetch"):
            packages = positional[1:] if verb != "global" else positional[2:]
            if is_global:
                seg.kind = GLOBAL
                seg.globals_ = [_package_name(p) for p in packages]
                return
            if first == "pnpm" and verb == "fetch":
                seg.kind = GLOBAL  # fills the store from the lockfile; harmless in both stages
                return
            if packages or verb == "add":
                seg.kind = ADD
                return
            seg.kind = INSTALL
            seg.manager = first
            flags = [w for w in rest if w not in (verb,)]
            seg.production = (
                any(_PROD_FLAGS.match(w) for w in flags)
                or _pair(flags, "--only", "prod")
                or _pair(flags, "--omit", "dev")
            )
            seg.extra = _extra_flags(flags)
            if first == "yarn" and seg.production and any(w in ("--ignore-scripts",) for w in rest):
                pass
            return
        if verb == "prune":
            seg.kind = PRUNE
            seg.manager = first
            return
        if verb in ("cache", "store") or (first == "npm" and verb in ("config", "set")):
            seg.kind = CLEAN if "clean" in positional or "prune" in positional else NEUTRAL
            return
        if verb in ("audit", "outdated", "ls", "list", "doctor", "version", "-v") or not positional:
            seg.kind = NEUTRAL
            return
        seg.kind = BUILD
        return
    if first == "rm" or (first == "find" and "-delete" in rest):
        seg.kind = CLEAN
        return
    if first in _FS_TOOLS:
        seg.kind = FS
        return
    if first in _NEUTRAL_TOOLS or (first in ("node", "npm", "yarn", "pnpm") and rest[:1] in (["-v"], ["--version"])):
        seg.kind = NEUTRAL
        return
    seg.kind = BUILD


# Package manager options that take a value as the next word.
_VALUE_FLAGS = frozenset(
    {
        "--network-timeout",
        "--registry",
        "--cache",
        "--cache-folder",
        "--modules-folder",
        "--mutex",
        "--loglevel",
        "--prefix",
        "-C",
        "--dir",
        "--filter",
        "-F",
        "--only",
        "--omit",
        "--include",
        "--workspace",
        "-w",
        "--userconfig",
        "--global-folder",
        "--store-dir",
        "--network-concurrency",
        "--child-concurrency",
        "--cwd",
    }
)


def _positional(words: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for w in words:
        if skip:
            skip = False
        elif w in _VALUE_FLAGS:
            skip = True
        elif not w.startswith("-"):
            out.append(w)
    return out


def _pair(flags: list[str], name: str, value_prefix: str) -> bool:
    return any(f == name and i + 1 < len(flags) and flags[i + 1].startswith(value_prefix) for i, f in enumerate(flags))


def _extra_flags(flags: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for i, f in enumerate(flags):
        if skip:
            skip = False
            continue
        if f in ("--only", "--omit", "--include") and i + 1 < len(flags):
            skip = True
            continue
        if _MANAGED.match(f):
            continue
        out.append(f)
    return out


def _package_name(spec: str) -> str:
    """`pnpm@8.15.0` -> pnpm; `@angular/cli@17` -> @angular/cli."""
    if spec.startswith("@"):
        scope, _, rest = spec[1:].partition("/")
        return "@" + scope + "/" + rest.split("@", 1)[0]
    return spec.split("@", 1)[0]


# -- start command --------------------------------------------------------------------------------
_NODE_VALUE_OPTIONS = frozenset(
    {
        "-r",
        "--require",
        "--import",
        "--loader",
        "--experimental-loader",
        "-C",
        "--conditions",
        "--env-file",
        "--title",
        "--input-type",
        "--stack-size",
    }
)
WRAPPERS = frozenset({"tini", "tini-static", "dumb-init"})


@dataclass
class Start:
    """What the image's command runs."""

    kind: str  # node | script | bin | shell | other
    argv: list[str] = field(default_factory=list)  # the command itself (wrapper stripped)
    entry: str | None = None  # node: the script file (relative or absolute)
    script: str | None = None  # script: the package.json script run through the package manager
    resolved: list[str] | None = None  # script: the simple command it stands for
    bin: str | None = None  # bin: the node_modules/global bin that runs
    wrapper: list[str] = field(default_factory=list)  # tini -- …
    build: list[list[str]] = field(default_factory=list)  # script: compile steps moved from the start to the builder
    compiled: list[str] | None = None  # `nest start`, `ts-node x.ts`: the node command on the builder's output


def node_entry(argv: list[str]) -> str | None:
    """`node --enable-source-maps -r dotenv/config dist/main` -> `dist/main`."""
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("-e", "--eval", "-p", "--print", "-i", "--interactive"):
            return None
        if a in _NODE_VALUE_OPTIONS:
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        return a
    return None


# Process managers and servers that take the app's file or build folder as an argument.
_RUNS_A_FILE = frozenset({"forever", "pm2", "pm2-runtime", "pm2-docker", "nodemon", "supervisor"})
_JS_FILE = re.compile(r"^[^-].*\.[cm]?js$")


def run_target(words: list[str]) -> str | None:
    """The file or folder a start command runs: `node dist/main.js`, `remix-serve build`,
    `forever start app.js`, `pm2-runtime server.js`; `.` is the package's main."""
    if not words:
        return None
    tool = posixpath.basename(words[0])
    if is_node(tool):
        return node_entry(words)
    if tool == "remix-serve":
        return next((w for w in words[1:] if not w.startswith("-")), None)
    if tool in _RUNS_A_FILE:
        # Docker passes `"start app.js"` as one argument in exec form; forever and pm2 still see the file
        return next((w for a in words[1:] for w in a.split() if _JS_FILE.match(w)), None)
    return None


def supervised(words: list[str]) -> list[str] | None:
    """The package-manager command a process manager runs: `pm2-runtime npm -- start` -> `npm start`."""
    if not words or posixpath.basename(words[0]) not in ("pm2-runtime", "pm2-docker", "pm2"):
        return None
    rest = words[1:]
    if rest[:1] == ["start"]:
        rest = rest[1:]
    if rest[:1] not in (["npm"], ["yarn"], ["pnpm"]):
        return None
    after = rest[1:]
    if "--" in after:
        after = after[after.index("--") + 1 :]  # pm2 passes the words after `--` to the program
    return [rest[0], *after]


def node_preloads(words: list[str]) -> list[str]:
    """Modules `node -r x` / `--require=x` / `--import x` / `--loader x` loads before the entry."""
    out: list[str] = []
    if not words or not is_node(words[0]):
        return out
    flags = ("-r", "--require", "--import", "--loader", "--experimental-loader")
    for i, w in enumerate(words[1:], 1):
        if w in flags and i + 1 < len(words):
            out.append(words[i + 1])
        elif "=" in w and w.split("=", 1)[0] in flags:
            out.append(w.split("=", 1)[1])
        elif not w.startswith("-") and words[i - 1] not in flags:
            break  # the entry: what follows are the app's arguments
    return out


_BABEL_CONFIG = re.compile(r"^(\.babelrc(\.\w+)?|babel\.config\.\w+)$")
_TSCONFIG = re.compile(r"^tsconfig.*\.json$")


def start_configs(programs: list[list[str]], loaded: dict[str, str], entries: list[str]) -> list[str]:
    """Of the app folder's top-level entries, the config files its start command reads at run time: Babel's
    for babel-node or @babel/register (without it, `import` syntax fails at start), tsconfig for
    tsconfig-paths/ts-node registration (path aliases)."""
    babel = "@babel/register" in loaded or "babel-register" in loaded
    tsconfig = nodemon = False
    for words in programs:
        loads = node_preloads(words)
        babel |= words[:1] == ["babel-node"] or any(m in ("@babel/register", "babel-register") for m in loads)
        tsconfig |= any(m.startswith(("tsconfig-paths/register", "ts-node/register")) for m in loads)
        tsconfig |= words[:1] in (["ts-node"], ["tsx"])  # they compile with it when the app starts
        nodemon |= words[:1] == ["nodemon"]
    return [
        e
        for e in entries
        if babel and _BABEL_CONFIG.match(e) or tsconfig and _TSCONFIG.match(e) or nodemon and e == "nodemon.json"
    ]


def split_build_prefix(
    pkg: Package, script: str, args: list[str] | None = None, seen: tuple[str, ...] = ()
) -> tuple[list[list[str]], list[str]] | None:
    """`tsc && node .` -> ([["tsc"]], ["node", "."]): steps a start script runs with `&&` before a plain node
    command. `npm run build && npm run serve` (serve: `node dist/index.js`) ends in that node command too, and a
    start that is only `npm run prod` is the script prod (a few levels, no cycles). Anything else in the script
    (`;`, `||`, pipes, variables, redirections) returns None."""
    text = pkg.scripts.get(script) or ""
    if len(seen) > _SCRIPT_DEPTH or re.search(r"[$`<>(){}*?~\\;]|\|\||(?<!&)&(?!&)|(?<!\|)\|(?!\|)", text):
        return None
    segments = [shell.env_prefix(s.words()) for s in shell.segments(text)]
    if not segments or any(env or not words for env, words in segments):
        return None
    last = segments[-1][1]
    target = _plain_run(last, pkg)
    if len(segments) == 1:
        if target is None or target == script or target in seen:
            return None
        return split_build_prefix(pkg, target, script_args(last) + (args or []), (*seen, script))
    if target is not None:
        resolved = resolve_script(pkg, target, script_args(last), (*seen, script))
        if resolved is None:
            return None
        last = resolved
    if not is_node(last[0]):
        return None
    return [words for _, words in segments[:-1]], ["node", *last[1:], *(args or [])]


def package_bin(argv: list[str], pkg: Package) -> bool:
    """`yarn nest start`, `pnpm ts-node x.ts`: yarn and pnpm run a node_modules bin named in place of a script."""
    return (
        len(argv) > 1
        and argv[0] in ("yarn", "pnpm")
        and pkg.found
        and argv[1] not in pkg.scripts
        and not argv[1].startswith("-")
        and argv[1] not in PM_BUILTINS[argv[0]] | {"run", "run-script", "start", "test", "exec", "dlx", "create"}
    )


def is_node(program: str) -> bool:
    return posixpath.basename(program) in ("node", "nodejs")


def start_of(argv: list[str], pkg: Package) -> Start:
    wrapper: list[str] = []
    if argv and posixpath.basename(argv[0]) in WRAPPERS:
        i = 1
        while i < len(argv) and argv[i].startswith("-"):
            i += 1
            if argv[i - 1] == "--":
                break
        wrapper, argv = argv[:i], argv[i:]
    if not argv:
        return Start("other", wrapper=wrapper)
    if is_node(argv[0]):
        return Start("node", argv, entry=node_entry(argv), wrapper=wrapper)
    target = script_target(argv, pkg)
    if target is not None:
        start = Start("script", argv, script=target, wrapper=wrapper)
        start.resolved = resolve_script(pkg, target, script_args(argv))
        return start
    if package_bin(argv, pkg):
        return Start("bin", argv, bin=argv[1], wrapper=wrapper)
    words = unwrap(argv)
    if words and words[0] != argv[0] or argv[0] in _KNOWN_BINS or words[:1] and words[0].startswith("node_modules"):
        return Start("bin", argv, bin=words[0] if words else None, wrapper=wrapper)
    if posixpath.basename(argv[0]) in ("sh", "bash", "ash") and len(argv) > 2 and argv[1] in ("-c", "-ec", "-lc"):
        return Start("shell", argv, wrapper=wrapper)
    return Start("other", argv, wrapper=wrapper)


_KNOWN_BINS = frozenset(
    {
        "serve",
        "http-server",
        "live-server",
        "lite-server",
        "pm2",
        "pm2-runtime",
        "next",
        "nuxt",
        "nuxi",
        "nest",
        "vite",
        "ng",
        "react-scripts",
        "vue-cli-service",
        "ts-node",
        "ts-node-dev",
        "tsx",
        "nodemon",
        "babel-node",
        "forever",
        "astro",
        "remix-serve",
        "strapi",
        "gatsby",
    }
)


_SCRIPT_DEPTH = 4  # `npm run x` indirections followed inside a start script


def resolve_script(pkg: Package, script: str, args: list[str], seen: tuple[str, ...] = ()) -> list[str] | None:
    """`npm start` -> ["node", "dist/index.js"] when the script is one plain `node …` command, directly or through
    `npm run x` / `yarn x` / `pnpm run x` (a few levels, no cycles)."""
    text = pkg.scripts.get(script)
    if text is None:
        if script == "start" and pkg.found:
            return ["node", "server.js", *args]  # npm's default start
        return None
    segments = shell.segments(text)
    if len(segments) != 1 or re.search(r"[$`<>(){}*?~\\]", text):
        return None
    env, words = shell.env_prefix(segments[0].words())
    if env or not words:
        return None
    target = _plain_run(words, pkg)
    if script_target(words, pkg) is not None and target is None:
        return None  # `yarn serve --port 80`: words passed on that are not after `--`
    if target is not None and target != script:
        if target in seen or len(seen) >= _SCRIPT_DEPTH:
            return None
        return resolve_script(pkg, target, script_args(words) + args, (*seen, script))
    if not is_node(words[0]):
        return None
    return ["node", *words[1:], *args]


def _plain_run(words: list[str], pkg: Package) -> str | None:
    """The script `npm run x`, `npm start`, `yarn x`, `pnpm run x` runs (`-- args` after it allowed), when nothing
    else is on the line: yarn and pnpm pass other trailing words on to the script, which a resolution would lose."""
    target = script_target(words, pkg)
    if target is None:
        return None
    head = words[: words.index("--")] if "--" in words else words
    if head[1:] not in ([target], ["run", target], ["run-script", target]):
        return None
    return target


def script_programs(pkg: Package, script: str) -> list[list[str]]:
    return script_commands(pkg, script)


def port_option(words: list[str]) -> str | None:
    """-p 8080, --port=8080, -l 3000, --listen tcp://0.0.0.0:3000."""
    for i, w in enumerate(words):
        value = None
        if w in ("-p", "--port", "-l", "--listen", "--PORT") and i + 1 < len(words):
            value = words[i + 1]
        elif re.match(r"^--(port|listen)=", w):
            value = w.split("=", 1)[1]
        if value:
            m = re.search(r"(\d+)$", value)
            if m:
                return m.group(1)
    return None


# -- COPY lines named after context entries ------------------------------------------------------


def is_wrapper(ins: Instruction) -> bool:
    command = Command.of(ins)
    return bool(command.exec_form and command.argv and posixpath.basename(command.argv[0]) in WRAPPERS)
