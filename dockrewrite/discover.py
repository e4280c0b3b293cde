"""Find Dockerfiles below the paths a user gives, the way they would expect."""

from __future__ import annotations

import os
from pathlib import Path

from dockrewrite.paths import repository_root, stays_inside

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "vendor",
        "__pycache__",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)


def is_dockerfile_name(name: str) -> bool:
    lower = name.lower()
    # Dockerfile.dockerignore / x.Dockerfile.dockerignore are BuildKit's per-Dockerfile ignore files.
    if lower.endswith(
        (".j2", ".jinja", ".tmpl", ".tpl", ".orig", ".rej", ".bak", ".swp", "~", ".dockrewrite", ".dockerignore")
    ):
        return False
    return (
        lower in ("dockerfile", "containerfile")
        or lower.startswith(("dockerfile.", "containerfile."))
        or lower.endswith((".dockerfile", ".containerfile"))
    )


class _GitIgnore:
    """One ignore file (a .gitignore, or .git/info/exclude) read with git's own rules (pathspec): patterns are
    relative to the file's folder, `*` does not cross `/`, `**` does, `!` re-includes, a trailing `/` means
    folders only."""

    def __init__(self, base: Path, spec):
        self.base = base
        self.spec = spec

    @classmethod
    def load(cls, directory: Path, path: Path | None = None) -> _GitIgnore | None:
        import pathspec

        try:
            text = (path or directory / ".gitignore").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
        return cls(directory, spec) if len(spec) else None

    def ignored(self, path: Path, is_dir: bool) -> bool | None:
        """True (ignored), False (re-included by a `!` pattern) or None (no pattern says)."""
        try:
            rel = path.relative_to(self.base).as_posix()
        except ValueError:
            return None
        return self.spec.check_file(rel + "/" if is_dir else rel).include


def _ancestor_ignores(root: Path) -> list[_GitIgnore]:
    """What git applies to root from above: .git/info/exclude, then the .gitignore files from the repository's
    top down to root's parent (a deeper file has the last word)."""
    start = Path(os.path.abspath(root))
    top = repository_root(start)
    if top == start and not os.path.lexists(start / ".git"):
        return []  # not in a repository: only the tree's own .gitignore files count
    rules: list[_GitIgnore] = []
    exclude = _GitIgnore.load(top, top / ".git" / "info" / "exclude")
    if exclude:
        rules.append(exclude)
    folders = [start, *start.parents]
    for folder in reversed(folders[1 : folders.index(top) + 1] if top in folders else []):
        own = _GitIgnore.load(folder)
        if own:
            rules.append(own)
    return rules


def discover(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]], list[tuple[Path, str]]]:
    """-> (Dockerfiles in a stable order, [(path, problem)] for paths that could not be used,
    [(path, reason)] for Dockerfile-named entries found while walking that are not read).

    Links are followed only while they stay inside the tree being scanned (a folder given) or the
    repository of a file given, so a planted `Dockerfile -> ~/.aws/credentials` is never read.
    """
    found: list[Path] = []
    problems: list[tuple[Path, str]] = []
    skipped: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for root in paths:
        if root.is_symlink() and not root.exists():
            problems.append((root, "a broken symlink"))
            continue
        if root.is_file():
            if root.is_symlink() and not stays_inside(root, repository_root(root.parent)):
                problems.append((root, f"a symlink to a file outside {repository_root(root.parent)}: not read"))
                continue
            key = root.resolve()
            if key not in seen:
                seen.add(key)
                found.append(root)
            continue
        if not root.exists():
            problems.append((root, "no such file or directory"))
            continue
        if not root.is_dir():
            problems.append((root, "not a regular file or directory"))
            continue
        for path, reason in _walk(root):
            if reason:
                skipped.append((path, reason))
                continue
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                found.append(path)
    return found, problems, skipped


def _walk(root: Path):
    """(path, None) for each Dockerfile below root; (path, reason) for a Dockerfile-named entry not read."""
    stack: list[tuple[Path, list[_GitIgnore]]] = [(root, _ancestor_ignores(root))]
    while stack:
        directory, ignores = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        names = {e.name for e in entries}
        if directory != root and "pyvenv.cfg" in names:
            continue  # a virtualenv (its own listing says so: no extra system call per folder)
        own = _GitIgnore.load(directory) if ".gitignore" in names else None
        rules = ignores + [own] if own else ignores
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = not is_dir and entry.is_file()
                is_link = entry.is_symlink()
            except OSError:
                continue
            named = is_dockerfile_name(entry.name)
            if is_dir and entry.name in SKIP_DIRS or not (is_dir or named):
                continue
            path = Path(entry.path)
            if rules and _ignored(rules, path, is_dir):
                continue
            if is_dir:
                subdirs.append(path)
                if named:
                    yield path, "a directory, not a Dockerfile (its contents are searched)"
            elif is_link and not os.path.exists(path):
                yield path, "a broken symlink: not read"
            elif is_link and not stays_inside(path, root):
                yield path, f"a symlink to a file outside {root}: not read"
            elif is_file:
                # A symlink inside the tree is still converted; --write goes through it only inside the root.
                yield path, None
        for sub in reversed(subdirs):
            stack.append((sub, rules))


def _ignored(rules: list[_GitIgnore], path: Path, is_dir: bool) -> bool:
    verdict = False
    for rule in rules:
        v = rule.ignored(path, is_dir)
        if v is not None:
            verdict = v
    return verdict
