"""What Python tells the features: the caches of pip, pipenv, poetry and uv, the requirement files and
lockfiles they install from, its .dockerignore entries and build outputs, and its develop and test stages.

Where each tool keeps its cache (root unless the stage's USER says otherwise):
  pip / pipenv  $PIP_CACHE_DIR / $PIPENV_CACHE_DIR, else ~/.cache/pip, ~/.cache/pipenv
  poetry, uv    $POETRY_CACHE_DIR / $UV_CACHE_DIR, else ~/.cache/pypoetry, ~/.cache/uv
"""

from __future__ import annotations

import os
import posixpath
import re

from dockrewrite.context import BuildContext
from dockrewrite.ops import Copy, Op, Run, Workdir
from dockrewrite.plan import BuildPlan
from dockrewrite.providers.base import CacheSite, CacheUse, Hooks, uses
from dockrewrite.providers.python import deps

_IGNORED = (
    "**/__pycache__",
    "**/*.py[cod]",
    ".venv",
    "venv",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".tox",
    ".coverage",
    "htmlcov",
    "*.egg-info",
)
# Build output folders: left out of the context when a build step of the rewrite makes them anew.
OUTPUTS = ("dist", "build")
_BUILD = re.compile(r"(?<![\w-])(python3?\s+-m\s+build|setup\.py\s+(bdist\w*|sdist)|poetry\s+build|uv\s+build)")
DEV_REQUIREMENTS = (
    "requirements-dev.txt",
    "requirements.dev.txt",
    "dev-requirements.txt",
    "requirements_dev.txt",
    "requirements/dev.txt",
    "requirements/development.txt",
    "requirements/test.txt",
    "requirements-test.txt",
    "test-requirements.txt",
)


class PythonHooks(Hooks):
    language = "python"
    # --pin: the official image's versions, newest first (a snapshot; see features/pins.py)
    pin_versions = {"python": ("3.14.0", "3.13.9", "3.12.12", "3.11.14", "3.10.19", "3.9.24", "3.8.20", "3.7.17")}
    managers = frozenset({"pip", "pip3", "uv", "poetry", "pipenv", "pdm"})
    manifests = re.compile(
        r"^(requirements[\w.-]*\.(txt|in)|constraints[\w.-]*\.txt|requirements|pyproject\.toml|uv\.lock|"
        r"\.python-version)$"
    )

    def caches(self, words: list[str], text: str, site: CacheSite) -> CacheUse | None:
        program = posixpath.basename(words[0])
        sub = words[1] if len(words) > 1 else ""
        env = site.env
        if deps.is_pip(words) >= 0:
            if "PIP_NO_CACHE_DIR" in env:
                site.note("no cache mount for pip: PIP_NO_CACHE_DIR turns its cache off")
                return None
            edited = _drop_flag(text, "--no-cache-dir")
            if edited is not None:
                site.note("pip: --no-cache-dir dropped where pip's cache is mounted, so the cache is used")
            return uses("pip", site.cache(env.get("PIP_CACHE_DIR") or f"{site.cache_home}/pip"), text=edited)
        if program == "pipenv" and sub in ("install", "sync", "lock", "update"):
            return uses(
                "pipenv",
                site.cache(env.get("PIP_CACHE_DIR") or f"{site.cache_home}/pip"),
                site.cache(env.get("PIPENV_CACHE_DIR") or f"{site.cache_home}/pipenv"),
            )
        if program == "poetry" and sub in ("install", "add", "update", "lock", "sync"):
            return uses(
                "poetry",
                site.cache(env.get("POETRY_CACHE_DIR") or f"{site.cache_home}/pypoetry"),
                text=_drop_flag(text, "--no-cache"),
            )
        if program == "uv" and sub in ("sync", "pip", "add", "lock", "tool", "run", "python", "export"):
            if "UV_NO_CACHE" in env:
                site.note("no cache mount for uv: UV_NO_CACHE turns its cache off")
                return None
            folder = site.cache(env.get("UV_CACHE_DIR") or f"{site.cache_home}/uv")
            return uses("uv", folder, text=_drop_flag(text, "--no-cache"))
        return None

    def reads_manifests(self, words: list[str], names: set[str]) -> bool:
        if deps.is_pip(words) >= 0:
            files, _specs, local = deps.pip_targets(words)
            wanted = {posixpath.basename(f) for f in files + deps.constraint_files(words)}
            return bool(files) and not local and wanted <= names
        if posixpath.basename(words[0]) == "uv":
            return (
                words[1:2] == ["sync"]
                and ("--frozen" in words or "--locked" in words)
                and "--no-install-project" in words
                and {"pyproject.toml", "uv.lock"} <= names
            )
        return False

    def writes_manifests(self, words: list[str]) -> bool:
        program, sub = posixpath.basename(words[0]), words[1] if len(words) > 1 else ""
        if program in ("uv", "poetry", "pdm", "pipenv"):
            return sub in ("lock", "add", "remove", "update") or (
                program == "uv" and sub == "sync" and not ("--frozen" in words or "--locked" in words)
            )
        return False

    def ignored(self, ctx: BuildContext, built: str) -> tuple[list[str], set[str]]:
        generated = set(OUTPUTS) if _BUILD.search(built) else set()
        return list(_IGNORED) + [d for d in OUTPUTS if not _python_package(ctx, d)], generated

    def develop(self, plan: BuildPlan, ctx: BuildContext, source: str, contract: list[Op]) -> tuple[list[Op], list[Op]]:
        steps = _packages(plan, source)
        dev = next((f for f in DEV_REQUIREMENTS if ctx.exists(f)), None)
        if dev:
            steps += [Copy(args=f"{dev} ./{dev}"), Run(body=f"pip install --no-cache-dir -r {dev}")]
        steps.append(Copy(args=". ."))
        return steps, contract

    def test(self, plan: BuildPlan, ctx: BuildContext, base: str) -> list[Op] | str | None:
        if not _has_tests(ctx):
            return "no tests found (tests/, test_*.py or *_test.py)"
        steps: list[Op] = []
        if base != "develop":
            if plan.workdir:
                steps.append(Workdir(path=plan.workdir))
            steps += _packages(plan, base)
            steps.append(Copy(args=". ."))
        if not any(ctx.exists(f) for f in DEV_REQUIREMENTS):
            # no dev requirements name a test runner: bring one just for this stage
            return steps + [Run(body='pip install --no-cache-dir "pytest>=7" && python -m pytest')]
        return steps + [Run(body="python -m pytest")]


def _drop_flag(text: str, flag: str) -> str | None:
    """The command text without `flag` (or `flag=…`), or None when it has none; the rest keeps its layout."""
    pattern = rf"(?<!\S){re.escape(flag)}(?:=\S*)?(?!\S)[ \t]*"
    if not re.search(pattern, text):
        return None
    out = re.sub(pattern, "", text)
    return re.sub(r"\\\n[ \t]*(?=\\\n)", "", out)  # a continuation line left holding nothing


def _python_package(ctx: BuildContext, name: str) -> bool:
    """`build/` or `dist/` that holds Python sources is part of the project, not an artefact."""
    if not ctx.is_dir(name):
        return False
    return any(entry.endswith(".py") for entry in os.listdir(ctx.root / name))


def _packages(plan: BuildPlan, source: str) -> list[Op]:
    """With the prefix strategy the packages sit in /install; copy them where the interpreter looks."""
    if any(isinstance(a, Copy) and a.sources == ["/install"] and a.dest == "/usr/local" for a in plan.artifacts):
        return [Copy(flags=(f"--from={source}",), args="/install /usr/local")]
    return []


def _has_tests(ctx: BuildContext) -> bool:
    if ctx.is_dir("tests") or ctx.is_dir("test"):
        return True
    return any(p.rsplit("/", 1)[-1].startswith("test_") or p.endswith("_test.py") for p in ctx.walk((".py",), 500))


HOOKS = PythonHooks()
