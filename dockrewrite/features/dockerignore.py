""".dockerignore for a rewrite (--dockerignore): written only when the context has none and the original
copies the whole context, fitted to the language (its hooks give the entries and the build outputs), and
never ignoring what the rewrite needs.

What the rewrite needs from the context is read off the rewritten Dockerfile itself:
- every source of a COPY/ADD from the context;
- what a stage copies out of a build stage from the place where that stage put the context
  (`COPY --from=builder /app/config.yaml …` after `COPY . /app` needs config.yaml), unless a build step
  of the rewrite makes it (a build output folder the language's hooks name, after its build step);
- paths the commands name (`install dist/app.whl`, `CMD ["venv/bin/python", …]`), and `.git` when a
  command runs git;
- files the planner says the app loads at start and the runtime carries (`.env` read by dotenv), which a
  `COPY . .` sends without naming them.
A candidate pattern that would exclude any of these, or any file below a folder among them, is left out.
"""

from __future__ import annotations

import os
import posixpath
import re
from functools import lru_cache

from dockrewrite import shell
from dockrewrite.context import BuildContext
from dockrewrite.model import Command, DockerfileModel
from dockrewrite.providers import hooks_for

HEADER = (
    "# Written by dockrewrite: what the build does not need from the context (smaller, faster uploads;",
    "# no local secrets or artefacts in `COPY . .`). Nothing the Dockerfile copies or reads is listed.",
)
COMMON = (".git", ".env", ".env.*", "**/*.log", "Dockerfile*", "docker-compose*", "compose.y*ml", ".idea", ".vscode")


def dockerignore_for(
    model: DockerfileModel, ctx: BuildContext, language: str, output_text: str, keep: list[str] | tuple = ()
) -> str | None:
    """The .dockerignore to write beside the rewrite, or None when there should be none. `keep`: context files
    the rewrite carries for the app to load at start (`.env`, config files), which no pattern may leave out."""
    if not ctx.known or any(name == ".dockerignore" or name.endswith(".dockerignore") for name in _listing(ctx)):
        return None
    if not _copies_whole_context(model):
        return None
    from dockrewrite.parse import ParseError, parse

    try:
        output = parse(output_text)
    except ParseError:
        return None
    runs = [ins.shell for stage in output.stages[:-1] for ins in stage.find("RUN")]
    built = "\n".join(runs)
    hooks = hooks_for(language)
    extra, generated = hooks.ignored(ctx, built) if hooks else ([], set())
    candidates = list(COMMON) + extra
    needed = _needed(output, ctx, generated) | set(keep)
    kept = []
    for pattern in candidates:
        # `**/*.log` that would hit a carried folder may still apply at the top level (`*.log`).
        for choice in (pattern, pattern[3:]) if pattern.startswith("**/") else (pattern,):
            if not any(_conflicts(choice, path, ctx) for path in needed):
                kept.append(choice)
                break
    if not kept:
        return None
    return "\n".join(HEADER + tuple(kept)) + "\n"


def _listing(ctx: BuildContext) -> list[str]:
    try:
        return os.listdir(ctx.root)
    except OSError:
        return []


def _copies_whole_context(model: DockerfileModel) -> bool:
    for stage in model.stages:
        for ins in stage.find("COPY", "ADD"):
            if ins.flag("from") is None and any(a.rstrip("/") in (".", "") for a in ins.args[:-1]):
                return True
    return False


def _needed(output: DockerfileModel, ctx: BuildContext, generated: set[str]) -> set[str]:
    """Context paths (files, folders or globs) the rewritten Dockerfile copies or names."""
    needed: set[str] = set()
    roots: dict[str, list[str]] = {}  # stage name or index -> where the context was copied to
    for index, stage in enumerate(output.stages):
        workdir = "/"
        here: list[str] = []
        from_stages: list[str] = []  # where this stage put what it copied out of other stages
        for ins in stage.instructions:
            if ins.keyword == "WORKDIR" and ins.args:
                workdir = shell.resolve(workdir, ins.args[0])
            elif ins.keyword in ("COPY", "ADD") and len(ins.args) >= 2 and not ins.json:
                ref = ins.flag("from")
                *sources, dest = ins.args
                if ref is None:
                    for source in sources:
                        rel = posixpath.normpath(source.lstrip("/"))
                        if rel == ".":
                            here.append(shell.resolve(workdir, dest))
                        elif not rel.startswith(".."):
                            needed.add(rel)
                    continue
                from_stages.append(shell.resolve(workdir, dest))
                for source in sources:
                    for root in roots.get(ref, []):
                        path = posixpath.normpath(source)
                        if path.startswith(root.rstrip("/") + "/"):
                            rel = posixpath.relpath(path, root)
                            if rel.split("/", 1)[0] not in generated and ctx.exists(rel.split("/", 1)[0]):
                                needed.add(rel)
            elif ins.keyword in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK"):
                needed |= _named(ins, ctx, workdir, here, from_stages)
        for key in (stage.name, str(index)):
            if key:
                roots[key] = here
    return needed


_GIT = re.compile(r"(?<![\w./-])git\s|(^|/)\.git(/|\s|$)")


def _named(ins, ctx: BuildContext, workdir: str, roots: list[str], from_stages: list[str]) -> set[str]:
    """Context paths a command names; a path the stage copied out of another stage is that stage's concern."""
    if ins.keyword == "RUN":
        text = ins.shell
        # `mkdir -p <folder>` makes a folder; it reads nothing from the context
        words = [w for seg in shell.segments(text) if seg.words()[:1] != ["mkdir"] for w in seg.words()]
    else:
        command = Command.of(ins)
        text = " ".join(command.argv) if command.exec_form else command.shell
        words = list(command.argv) if command.exec_form else shell.split_words(command.shell)
    out: set[str] = {".git"} if _GIT.search(text) else set()
    for word in words:
        if word.startswith("--") and "=" in word:
            word = word.split("=", 1)[1]
        if not word or word.startswith("-") or "://" in word or "$" in word:
            continue
        absolute = shell.resolve(workdir, word)
        if any(absolute == d or absolute.startswith(d.rstrip("/") + "/") for d in from_stages):
            continue
        path = posixpath.normpath(word)
        if path.startswith("/"):
            rel = next((posixpath.relpath(path, r) for r in roots if path.startswith(r.rstrip("/") + "/")), None)
            if rel is None and workdir != "/" and path.startswith(workdir.rstrip("/") + "/"):
                rel = posixpath.relpath(path, workdir)
            if rel is None:
                continue
            path = rel
        if path.startswith("..") or path == ".":
            continue
        if any(c in path for c in "*?[") or ctx.exists(path.split("/", 1)[0]):
            out.add(path)
    return out


def _conflicts(pattern: str, path: str, ctx: BuildContext) -> bool:
    """Whether the pattern would leave out path, something above it, or (for a folder) something below it."""
    candidates = [path]
    if any(c in path for c in "*?["):
        candidates = [e for e in ctx.entries if re.fullmatch(_regex(path), e)] or [path]
    for p in candidates:
        if _ignores(pattern, p):
            return True
        if ctx.is_dir(p):
            root = ctx.root / p
            for count, (dirpath, _dirs, files) in enumerate(os.walk(root)):
                if count > 200:
                    return True  # too big to look through: do not risk it
                for name in files + _dirs:
                    rel = posixpath.relpath(posixpath.join(dirpath, name), str(ctx.root)).replace(os.sep, "/")
                    if _ignores(pattern, rel):
                        return True
    return False


def _ignores(pattern: str, path: str) -> bool:
    """Docker's reading: the pattern matches the path or one of the folders above it."""
    regex = _regex(pattern)
    parts = path.split("/")
    return any(re.fullmatch(regex, "/".join(parts[:i])) for i in range(1, len(parts) + 1))


@lru_cache(maxsize=256)
def _regex(pattern: str) -> str:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i)
            if end < 0:
                out += re.escape(pattern[i:])
                break
            body = pattern[i + 1 : end]
            negate = body[:1] in ("^", "!")
            # a class of the user's characters, escaped but for ranges: `[\]` or `[a-` made invalid regexes
            out += "[" + ("^" if negate else "") + "".join(c if c == "-" else re.escape(c) for c in body[negate:]) + "]"
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    try:
        re.compile(out)
    except re.error:  # `[]`, `[z-a]`: no class Docker's matcher would accept either; match the text itself
        return re.escape(pattern)
    return out
