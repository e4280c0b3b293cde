"""What the app's own code loads and reads at start: bare packages, env files, config files, env names."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from dockrewrite.context import BuildContext
from dockrewrite.providers.node.commands import node_preloads
from dockrewrite.providers.node.outputs import norm, without_comments
from dockrewrite.providers.node.package import read_jsonc

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
        text = without_comments(ctx.read_text(rel, limit=1_000_000) or "")
        for m in _LOADS.finditer(text):
            if m.group(2).startswith("."):
                target = _module_file(ctx, posixpath.normpath(posixpath.join(posixpath.dirname(rel), m.group(2))))
                if target and target not in seen:
                    queue.append(target)
        yield rel, text


def _module_file(ctx: BuildContext, rel: str) -> str | None:
    """How Node resolves a relative module: the file, the file plus an extension, or the folder's index."""
    rel = norm(rel)
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
        if any(m == "dotenv/config" or m.startswith("dotenv/") for m in node_preloads(words)):
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
