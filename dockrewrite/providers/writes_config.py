"""Settings in the build context's configuration files whose keys name a place the app writes (`LogSavePath`).

Read as text, bounded in size and count, never run: ini, toml, properties and .env line by line with their
`[section]` headers, YAML by indentation (block style), JSON whole. Files that configure tools and platforms
rather than the running app (tsconfig, pyproject, compose, Kubernetes manifests) are left out.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from dockrewrite.compose import COMPOSE_NAMES

_CONFIG_EXT = (".ini", ".yaml", ".yml", ".toml", ".json", ".properties", ".env")
# Folders configuration files live in, looked into two levels deep (the context's top level is read too).
_CONFIG_DIRS = frozenset({"conf", "config", "configs", "configuration", "settings", "env", "environments", "resources"})
# Files that configure tools, builds and platforms, not the running app: their outDir, rootDir, cache_dir and
# tmp_dir are the tool's (tsconfig's outDir is a build folder, .air.toml's tmp_dir a dev loop's).
_TOOL_FILES = re.compile(
    r"^(?:package(?:-lock)?\.json|npm-shrinkwrap\.json|composer\.json|[tj]sconfig.*\.json|angular\.json|nest-cli\.json"
    r"|nodemon\.json|vercel\.json|now\.json|netlify\.toml|firebase\.json|lerna\.json|turbo\.json"
    r"|renovate\.json|pyproject\.toml|tox\.ini|pytest\.ini|mypy\.ini|fly\.toml|render\.yaml|codecov\.ya?ml|mkdocs\.ya?ml"
    r"|chart\.yaml|values\.yaml|serverless\.ya?ml|cloudbuild\.ya?ml|skaffold\.yaml|babel\.config\.json|jest\.config\.json"
    r"|cargo\.toml|deno\.json|biome\.json|air\.toml|pnpm-workspace\.yaml|buf\.yaml|sqlc\.ya?ml|gqlgen\.ya?ml"
    r"|wrangler\.toml)$"
)
_CONFIG_LIMIT = 64_000  # bytes read of one file: app settings are small, data dumps are not settings
_CONFIG_COUNT = 40  # files read at most
_WHERE_WORDS = frozenset({"path", "dir", "dirs", "directory", "folder", "root"})
_WRITE_WORDS = frozenset({"log", "logs", "logging", "upload", "uploads", "storage", "cache", "tmp", "temp", "runtime"})
_WRITE_WORDS |= {"data"}
# Keys of places the app reads (template_dir, static_root, cert_path) or of URLs (api_path, url_prefix): the
# runtime needs them as they are, and giving them away would only widen what a compromised app can change.
_READ_WORDS = re.compile(
    r"^(?:templates?|static|views?|public|assets?|config|conf|certs?|certificate|key|ssl|tls|ca|pem|secret|credentials"
    r"|fonts?|locales?|i18n|lang|migrations?|schema|docs?|html|web|www|dist|build|bin|src|source|include|themes?"
    r"|scripts?|modules?|lib|vendor|plugins?|url|uri|prefix|api|routes?|endpoint)$"
)
READ_FOLDERS = re.compile(r"^(?:templates?|static|views|public|assets|dist|build|www|html)$")
_KEY_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


@dataclass
class Setting:
    file: str
    section: tuple[str, ...]
    key: str
    value: str
    line: int


def _words(name: str) -> list[str]:
    return [w.lower() for w in _KEY_WORDS.findall(name)]


def _write_key(s: Setting) -> bool:
    """Whether a key names a place the app writes: it ends in path/dir/folder/root/directory or says log, upload,
    storage, cache, tmp, runtime or data (its own words or its section's), and says nothing of a place it reads."""
    words = _words(s.key)
    if not words or any(_READ_WORDS.match(w) for w in words) or words[-2:] == ["base", "path"]:
        return False
    if words[-1] in _WHERE_WORDS:
        return True
    # a writing word alone (`[log] file`, `storage = ./uploads`): only a value with a slash is taken for a path
    section = [w for part in s.section for w in _words(part)]
    return "/" in s.value and any(w in _WRITE_WORDS for w in words + section)


def is_root_key(s: Setting) -> bool:
    words = _words(s.key)
    return "root" in words or ("base" in words and words[-1] in ("dir", "directory", "folder"))


def _clean(raw: str) -> str:
    raw = raw.strip()
    if raw and raw[0] in "\"'":
        end = raw.find(raw[0], 1)
        return raw[1:end] if end > 0 else ""
    return re.split(r"\s[#;]", raw, maxsplit=1)[0].strip()


def _flat_settings(file: str, text: str) -> list[Setting]:
    """ini, toml, properties and .env: `[section]` headers and `key = value` / `key: value` / `KEY=value` lines."""
    out: list[Setting] = []
    section: tuple[str, ...] = ()
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s[0] in "#;!":
            continue
        head = re.match(r"^\[\[?\s*([^\]]+?)\s*\]\]?$", s)
        if head:
            section = tuple(p.strip("\"' ") for p in head.group(1).split("."))
            continue
        m = re.match(r"""^(?:export\s+)?([\w.\-"']+)\s*[=:]\s*(.*)$""", s)
        if m:
            parts = m.group(1).strip("\"'").split(".")
            out.append(Setting(file, section + tuple(parts[:-1]), parts[-1], _clean(m.group(2)), n))
    return out


def _yaml_settings(file: str, text: str) -> list[Setting]:
    """YAML's `key: value` lines, each with the mapping keys it is nested under (block style; flow and multi-line
    values are left out)."""
    out: list[Setting] = []
    stack: list[tuple[int, str]] = []
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"""^(\s*(?:-\s+)?)([\w.\-]+|"[^"]*"|'[^']*')\s*:(?:\s+(.*))?$""", line)
        if not m or line.lstrip().startswith("#"):
            continue
        indent, key, value = len(m.group(1)), m.group(2).strip("\"'"), (m.group(3) or "").strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if not value or value[0] in "|>&#":
            stack.append((indent, key))
        elif value[0] not in "{[*!":
            out.append(Setting(file, tuple(k for _, k in stack), key, _clean(value), n))
    return out


def _json_settings(file: str, text: str) -> list[Setting]:
    try:
        data = json.loads(text)
    except ValueError:
        return []
    out: list[Setting] = []

    def walk(node, section: tuple[str, ...]) -> None:
        for key, value in node.items() if isinstance(node, dict) else ():
            if isinstance(value, dict):
                walk(value, (*section, key))
            elif isinstance(value, str):
                m = re.search(re.escape(json.dumps(key)) + r"\s*:\s*" + re.escape(json.dumps(value)), text)
                out.append(Setting(file, section, key, value, text.count("\n", 0, m.start()) + 1 if m else 0))

    walk(data, ())
    return out


def _config_files(ctx) -> list[str]:
    """Configuration files in the context: its top level and folders named like conf/ or config/, two deep."""
    out: list[str] = []

    def consider(rel: str) -> None:
        name = posixpath.basename(rel).lower()
        if _TOOL_FILES.match(name) or COMPOSE_NAMES.match(name):
            return
        if name == ".env" or name.startswith(".env.") or (name[:1] != "." and name.endswith(_CONFIG_EXT)):
            out.append(rel)

    def listing(rel: str) -> list[str]:
        try:
            return sorted(n for n in os.listdir(ctx.root / rel) if not ctx.ignored(f"{rel}/{n}"))
        except OSError:
            return []

    for entry in ctx.entries:
        if not ctx.is_dir(entry):
            consider(entry)
        elif entry.lower() in _CONFIG_DIRS:
            for name in listing(entry):
                rel = f"{entry}/{name}"
                if not ctx.is_dir(rel):
                    consider(rel)
                elif not name.startswith("."):
                    for sub in listing(rel):
                        consider(f"{rel}/{sub}")
    return out[:_CONFIG_COUNT]


def write_settings(ctx, carried: Callable[[str], bool]) -> list[Setting]:
    """The settings naming a place to write, in the configuration files `carried(path)` says the image holds."""
    out: list[Setting] = []
    for file in _config_files(ctx):
        if not carried(file):
            continue
        text = ctx.read_text(file, limit=_CONFIG_LIMIT)
        if not text or (re.search(r"^apiVersion:", text, re.M) and re.search(r"^kind:", text, re.M)):
            continue  # a Kubernetes manifest: its paths are the cluster's, not the app's
        parse = _json_settings if file.endswith(".json") else _yaml_settings if file.endswith(("yml", "yaml")) else None
        out += [s for s in (parse or _flat_settings)(file, text) if _write_key(s)]
    return out
