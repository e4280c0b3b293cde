"""What package.json says: dependencies, scripts, the package manager and its install, the Node it wants."""

from __future__ import annotations

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
        "libpq",
        "pg-native",
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
