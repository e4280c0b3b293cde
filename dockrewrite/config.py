"""Project configuration: `.dockrewrite.toml`, or `[tool.dockrewrite]` in pyproject.toml, found from a
Dockerfile's folder upwards. Command-line flags beat it; unknown keys are errors naming the file and key.

    runtime = "distroless"                 # auto | scratch | distroless | alpine | slim
    python-strategy = "venv"               # auto | user | prefix | venv
    keep-root = false
    cache-mounts = true                    # also bind-mounts, pin, syntax-line, dockerignore
    templates = "ci/dockrewrite-templates" # folder whose templates override the built-in ones by name
    include = ["services/**"]              # which discovered Dockerfiles to take (globs, relative to here)
    exclude = ["services/legacy/**"]

    [images]                               # runtime images the rewrites write -> what to write instead
    "alpine:3.20" = "registry.example.com/mirror/alpine:3.20@sha256:…"

    [[overrides]]                          # per-path settings for monorepo services; later ones win
    paths = ["services/payments/**"]
    runtime = "alpine"
    skip = true                            # leave these files alone
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dockrewrite.paths import repository_root, stays_inside
from dockrewrite.plan import PYTHON_STRATEGIES, Options
from dockrewrite.runtimes import select

# The reference grammar of distribution/reference: [host[:port]/]path[:tag][@algorithm:hex]. Anything
# else (a newline, a space, a second instruction) would be written into the Dockerfile as is.
_IMAGE_REFERENCE = re.compile(
    r"(?:(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])(?:\.(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]))*"
    r"(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)


def is_image_reference(value: str) -> bool:
    return len(value) <= 512 and _IMAGE_REFERENCE.fullmatch(value) is not None


_SETTINGS = {
    "runtime": select.NAMES,
    "python-strategy": PYTHON_STRATEGIES,
    "keep-root": bool,
    "skip": bool,
    "cache-mounts": bool,
    "bind-mounts": bool,
    "pin": bool,
    "syntax-line": bool,
    "dockerignore": bool,
}
_TOP = set(_SETTINGS) - {"skip"} | {"templates", "include", "exclude", "images", "overrides", "ignore"}
_OVERRIDE = set(_SETTINGS) | {"paths", "ignore"}


class ConfigError(Exception):
    def __init__(self, path: Path, message: str):
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class Override:
    paths: tuple[str, ...]
    settings: dict


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    settings: dict = field(default_factory=dict)
    templates: Path | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    images: tuple[tuple[str, str], ...] = ()
    overrides: tuple[Override, ...] = ()

    @property
    def root(self) -> Path | None:
        return self.path.parent if self.path else None

    def _rel(self, dockerfile: Path) -> str | None:
        try:
            return dockerfile.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return None

    def selected(self, dockerfile: Path) -> bool:
        """Whether include/exclude keep this file (only files below the config's folder are filtered)."""
        rel = self._rel(dockerfile) if self.root else None
        if rel is None:
            return True
        if self.include and not any(_match(rel, g) for g in self.include):
            return False
        return not any(_match(rel, g) for g in self.exclude)

    def resolve(self, dockerfile: Path, flags: dict) -> tuple[Options, bool]:
        """Options for one file: built-in defaults < config < per-path overrides < flags; and whether to skip it."""
        values = {"runtime": "auto", "python-strategy": "auto", "keep-root": False, "skip": False}
        values.update({k: False for k in ("cache-mounts", "bind-mounts", "pin", "syntax-line", "dockerignore")})
        values.update(self.settings)
        ignore = list(self.settings.get("ignore", ()))  # codes add up: config, then overrides, then --ignore
        rel = self._rel(dockerfile) if self.root else None
        for override in self.overrides:
            if rel is not None and any(_match(rel, g) for g in override.paths):
                values.update(override.settings)
                ignore += override.settings.get("ignore", ())
        ignore += flags.get("ignore") or ()
        values.update({k: v for k, v in flags.items() if v is not None and k not in ("templates", "targets", "ignore")})
        templates = flags.get("templates") or (str(self.templates) if self.templates else None)
        options = Options(
            runtime=values["runtime"],
            keep_root=values["keep-root"],
            python_strategy=values["python-strategy"],
            images=self.images,
            templates=templates,
            targets=flags.get("targets") or (),
            cache_mounts=values["cache-mounts"],
            bind_mounts=values["bind-mounts"],
            pin=values["pin"],
            syntax_line=values["syntax-line"],
            dockerignore=values["dockerignore"],
            ignore=tuple(dict.fromkeys(ignore)),
        )
        return options, bool(values["skip"])


def _match(rel: str, pattern: str) -> bool:
    """gitignore semantics, as discovery uses: `*` stays within a folder, `**` crosses them, a pattern that
    names a folder takes what is inside it."""
    return _spec(pattern).match_file(rel)


@lru_cache(maxsize=1024)
def _spec(pattern: str):
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines([pattern])


_found: dict[Path, Path | None] = {}


def find(start: Path) -> Path | None:
    """The nearest .dockrewrite.toml or pyproject.toml with [tool.dockrewrite], from start upwards."""
    folder = (start if start.is_dir() else start.parent).resolve()
    return _find_in(folder)


def _find_in(folder: Path) -> Path | None:
    # Remembered per folder: a monorepo's thousands of services share the walk up to the root.
    if folder not in _found:
        own = folder / ".dockrewrite.toml"
        pyproject = folder / "pyproject.toml"
        if own.is_file():
            _found[folder] = own
        elif pyproject.is_file() and "[tool.dockrewrite" in pyproject.read_text(encoding="utf-8", errors="replace"):
            _found[folder] = pyproject
        else:
            _found[folder] = None if folder.parent == folder else _find_in(folder.parent)
    return _found[folder]


def load(path: Path) -> Config:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"not valid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("dockrewrite", {})
        where = "[tool.dockrewrite]"
    else:
        where = ""
    unknown = sorted(set(data) - _TOP)
    if unknown:
        known = ", ".join(sorted(_TOP))
        raise ConfigError(path, f"unknown key {_name(where, unknown[0])} (known: {known})")
    settings = _settings(path, data, where)
    templates = None
    if "templates" in data:
        named = path.parent / _string(path, data, "templates", where)
        # The config is the repository's own words: its templates render in a sandbox, and the folder
        # must be the repository's too (not /etc, not ../.. of the checkout).
        repo = repository_root(path.parent)
        if not stays_inside(named, repo):
            raise ConfigError(path, f"templates folder {named} is outside the repository {repo}")
        templates = named.resolve()
        if not templates.is_dir():
            raise ConfigError(path, f"templates folder {templates} does not exist")
    images = data.get("images", {})
    if not isinstance(images, dict) or not all(isinstance(v, str) for v in images.values()):
        raise ConfigError(path, "images must be a table of image = replacement strings")
    for image, replacement in images.items():
        for value in (image, replacement):
            if not is_image_reference(value):
                raise ConfigError(
                    path, f"images: {value!r} is not an image reference ([registry/]name[:tag][@sha256:digest])"
                )
    overrides = []
    for index, item in enumerate(data.get("overrides", [])):
        if not isinstance(item, dict):
            raise ConfigError(path, f"overrides[{index}] must be a table")
        bad = sorted(set(item) - _OVERRIDE)
        if bad:
            raise ConfigError(path, f"unknown key overrides[{index}].{bad[0]} (known: {', '.join(sorted(_OVERRIDE))})")
        paths = _globs(path, item, "paths", f"overrides[{index}]")
        if not paths:
            raise ConfigError(path, f"overrides[{index}] needs paths = [...]")
        overrides.append(Override(paths, _settings(path, item, f"overrides[{index}]")))
    return Config(
        path=path,
        settings=settings,
        templates=templates,
        include=_globs(path, data, "include", where),
        exclude=_globs(path, data, "exclude", where),
        images=tuple(sorted(images.items())),
        overrides=tuple(overrides),
    )


def _settings(path: Path, data: dict, where: str) -> dict:
    out = {}
    for key, allowed in _SETTINGS.items():
        if key not in data:
            continue
        value = data[key]
        if allowed is bool:
            if not isinstance(value, bool):
                raise ConfigError(path, f"{_name(where, key)} must be true or false")
        elif value not in allowed:
            raise ConfigError(path, f"{_name(where, key)} must be one of {', '.join(allowed)}, not {value!r}")
        out[key] = value
    if "ignore" in data:
        out["ignore"] = _ignore(path, data["ignore"], _name(where, "ignore"))
    return out


def _ignore(path: Path, value, name: str) -> tuple[str, ...]:
    """`ignore = ["DR701", "DR7"]`: note codes, or prefixes of them, to leave out."""
    from dockrewrite.notes import selector_problem

    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, f'{name} must be a list of note codes such as "DR701"')
    for selector in value:
        problem = selector_problem(selector.strip().upper())
        if problem:
            raise ConfigError(path, f"{name}: {problem}")
    return tuple(v.strip().upper() for v in value)


def _string(path: Path, data: dict, key: str, where: str) -> str:
    if not isinstance(data[key], str):
        raise ConfigError(path, f"{_name(where, key)} must be a string")
    return data[key]


def _globs(path: Path, data: dict, key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, f"{_name(where, key)} must be a list of glob strings")
    return tuple(value)


def _name(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


_cache: dict[Path, Config] = {}


def load_cached(path: Path) -> Config:
    """A configuration file named on the command line (--config), read once."""
    path = Path(os.path.abspath(path))
    if path not in _cache:
        if not path.is_file():
            raise ConfigError(path, "no such configuration file")
        _cache[path] = load(path)
    return _cache[path]


def for_file(dockerfile: Path) -> Config:
    """The configuration that applies to a Dockerfile (an empty one when there is none)."""
    # abspath, not resolve(): one lookup per folder, without a system call per path component
    path = _find_in(Path(os.path.abspath(dockerfile.parent)))
    if path is None:
        return Config()
    if path not in _cache:
        _cache[path] = load(path)
    return _cache[path]
