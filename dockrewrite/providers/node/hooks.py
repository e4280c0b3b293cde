"""What Node tells the features: the caches of npm, yarn and pnpm, package.json and its lockfiles, the
.dockerignore entries and build outputs, the node image's user, and the develop and test stages.

Where each tool keeps its cache (root unless the stage's USER says otherwise):
  npm           $npm_config_cache, else ~/.npm
  yarn classic  $YARN_CACHE_FOLDER, else /usr/local/share/.cache/yarn for root, ~/.cache/yarn otherwise
                (yarn 2+ keeps it in the project or ~/.yarn/berry: no mount)
  pnpm          $PNPM_HOME/store when set, else /pnpm/store, passed as --store-dir to every pnpm command
                that touches the store (so later pnpm commands agree on it)
"""

from __future__ import annotations

import json
import posixpath
import re

from dockrewrite.context import BuildContext
from dockrewrite.ops import Env, Op, Run, Verbatim, keyword
from dockrewrite.plan import BuildPlan
from dockrewrite.providers.base import CacheSite, CacheUse, Hooks, uses
from dockrewrite.providers.node.package import read_package

PNPM_STORE = "/pnpm/store"
_PNPM_STORE_COMMANDS = frozenset(
    {"install", "i", "add", "fetch", "update", "up", "upgrade", "rebuild", "rb", "remove", "rm", "prune", "dedupe"}
)
_NPM_INSTALLS = frozenset(
    {"ci", "install", "i", "in", "isntall", "add", "update", "up", "install-clean", "clean-install"}
)
_NPM_WRITES = frozenset({"install", "i", "add", "update", "up", "uninstall", "rm", "dedupe", "audit", "pkg", "version"})
_IGNORED = ("**/node_modules", "coverage", ".nyc_output", ".npm", ".pnpm-store", ".turbo", ".parcel-cache")
# Build output folders: left out of the context when a build step of the rewrite makes them anew.
OUTPUTS = ("dist", "build", ".next", "out")
_BUILD = re.compile(
    r"(?<![\w-])((npm|pnpm|yarn)\s+(run\s+)?build|tsc|vite\s+build|next\s+build|ng\s+build|nest\s+build|webpack)\b"
)
_INSTALLS = re.compile(r"(?<![\w-])(npm\s+(ci|install|i)|yarn(\s+install)?|pnpm\s+(install|i))(?![\w-])")
_TEST_PLACEHOLDER = re.compile(r"no test specified", re.IGNORECASE)  # what `npm init` writes as the test script


class NodeHooks(Hooks):
    language = "node"
    # --pin: the official image's versions, newest first (a snapshot; see features/pins.py)
    pin_versions = {"node": ("24.11.1", "22.20.0", "20.19.6", "18.20.8", "16.20.2")}
    image_users = {"node": {"node": ("1000", "1000", "/home/node"), "1000": ("1000", "1000", "/home/node")}}
    managers = frozenset({"npm", "npx", "yarn", "pnpm", "corepack"})
    manifests = re.compile(
        r"^(package\.json|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|pnpm-workspace\.yaml|"
        r"\.npmrc|\.yarnrc|\.pnpmfile\.cjs|patches)$"
    )

    def caches(self, words: list[str], text: str, site: CacheSite) -> CacheUse | None:
        program = posixpath.basename(words[0])
        sub = words[1] if len(words) > 1 else ""
        env = site.env
        if program == "npm" and sub in _NPM_INSTALLS:
            configured = env.get("npm_config_cache") or env.get("NPM_CONFIG_CACHE") or _option(words, "--cache")
            return uses("npm", site.cache(configured or f"{site.home}/.npm"))
        if program == "yarn" and (not sub or sub in ("install", "add", "global", "upgrade") or sub.startswith("-")):
            if _yarn_berry(site.ctx):
                site.note("no cache mount for yarn 2+: its cache lives in the project (.yarn/cache) or ~/.yarn/berry")
                return None
            default = "/usr/local/share/.cache/yarn" if site.root else f"{site.cache_home}/yarn"
            folder = _option(words, "--cache-folder") or env.get("YARN_CACHE_FOLDER") or default
            # yarn 1 does not guard its cache against two installs at once (deps and builder stages run in parallel).
            return uses("yarn", site.cache(folder, sharing="locked"))
        if program == "pnpm" and sub in _PNPM_STORE_COMMANDS:
            store = _option(words, "--store-dir") or env.get("npm_config_store_dir") or env.get("NPM_CONFIG_STORE_DIR")
            edited = None
            if store is None and env.get("PNPM_HOME"):
                store = env["PNPM_HOME"].rstrip("/") + "/store"
            if store is None:
                store = PNPM_STORE
                edited = _insert_after(text, rf"pnpm(?:\s|\\\n)+{re.escape(sub)}", f"--store-dir {PNPM_STORE}")
                if edited is None:
                    return None
            return uses("pnpm", site.cache(store), text=edited)
        return None

    def reads_manifests(self, words: list[str], names: set[str]) -> bool:
        program, sub = posixpath.basename(words[0]), words[1] if len(words) > 1 else ""
        if program == "npm":
            return sub in ("ci", "clean-install", "install-clean") and "package.json" in names
        if program == "yarn":
            return (not sub or sub == "install" or sub.startswith("-")) and _frozen(words) and "yarn.lock" in names
        if program == "pnpm":
            return sub in ("install", "i") and "--frozen-lockfile" in words and "pnpm-lock.yaml" in names
        return False

    def writes_manifests(self, words: list[str]) -> bool:
        program, sub = posixpath.basename(words[0]), words[1] if len(words) > 1 else ""
        if program == "npm":
            return sub in _NPM_WRITES
        if program == "yarn":
            return sub in ("add", "upgrade", "remove", "up") or ((not sub or sub == "install") and not _frozen(words))
        if program == "pnpm":
            return sub in ("add", "update", "up", "remove", "rm") or (
                sub in ("install", "i") and "--frozen-lockfile" not in words
            )
        return False

    def ignored(self, ctx: BuildContext, built: str) -> tuple[list[str], set[str]]:
        candidates = list(_IGNORED)
        if not _INSTALLS.search(built):
            candidates.remove("**/node_modules")  # the context's node_modules is what the image runs
        if _BUILD.search(built):
            return candidates + list(OUTPUTS), set(OUTPUTS)
        return candidates, set()

    def develop(self, plan: BuildPlan, ctx: BuildContext, source: str, contract: list[Op]) -> tuple[list[Op], list[Op]]:
        if "dev" in read_package(ctx).scripts:
            contract = [s for s in contract if keyword(s) not in ("CMD", "ENTRYPOINT")]
            contract.append(Verbatim(line=f"CMD {json.dumps([_manager(ctx), 'run', 'dev'])}"))
        return [Env(body="NODE_ENV=development")], contract

    def test(self, plan: BuildPlan, ctx: BuildContext, base: str) -> list[Op] | str | None:
        test = read_package(ctx).scripts.get("test")
        if not test or _TEST_PLACEHOLDER.search(test):
            return "package.json has no test script"
        return [Run(body=f"{_manager(ctx)} test")]


def _manager(ctx: BuildContext) -> str:
    """The manager whose lockfile the context has (npm without one)."""
    if ctx.exists("pnpm-lock.yaml"):
        return "pnpm"
    if ctx.exists("yarn.lock"):
        return "yarn"
    return "npm"


def _frozen(words: list[str]) -> bool:
    return "--frozen-lockfile" in words or "--immutable" in words


def _option(words: list[str], name: str) -> str | None:
    for i, w in enumerate(words):
        if w == name and i + 1 < len(words):
            return words[i + 1]
        if w.startswith(name + "="):
            return w.split("=", 1)[1]
    return None


def _insert_after(text: str, pattern: str, extra: str) -> str | None:
    m = re.search(rf"(?<!\S){pattern}(?!\S)", text)
    if m is None:
        return None
    return text[: m.end()] + " " + extra + text[m.end() :]


def _yarn_berry(ctx: BuildContext) -> bool:
    if ctx.exists(".yarnrc.yml"):
        return True
    text = ctx.read_text("yarn.lock", limit=200_000) or ""
    return "__metadata:" in text


HOOKS = NodeHooks()
