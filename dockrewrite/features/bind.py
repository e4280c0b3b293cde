"""--bind-mounts: a dependency install reads its lockfiles through `RUN --mount=type=bind` instead of a COPY.

The pattern (COPY of a manifest and its lockfile + the RUN that installs from them) becomes

    RUN --mount=type=bind,source=<manifest>,target=<manifest> \\
        --mount=type=bind,source=<lockfile>,target=<lockfile> \\
        <install>

which keeps the manifests out of the layer and the cache key the same: the RUN still reruns when a
lockfile changes. It is done only where that is correct:
- every source of the COPYs is a manifest or lockfile of one language (its hooks name them) that exists
  in the context (globs are expanded against it; no `--from`);
- the first RUN after them that reads them is an install that, as its language's hooks say, reads them and
  writes none of them (bind mounts are read-only); RUNs between them must not run a package manager or name
  the files;
- nothing after that RUN needs the files: a later COPY of the whole context (or of the same files)
  to the same place puts them back before any other RUN, or the stage ends and no later stage is
  built FROM it (--targets stages count) or copies them out of it.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass

from dockrewrite import shell
from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.notes import note
from dockrewrite.ops import Copy, From, Op, Run, apart, keyword
from dockrewrite.plan import BuildPlan, Options
from dockrewrite.providers import all_hooks

from .runs import BuildStage, State, add_mounts, build_stages, copies_from, replace_stage

# Steps that may stand between the manifest COPYs and the install without needing the files.
_SETTINGS = frozenset({"ENV", "ARG", "LABEL"})
# Programs that may run a package manager themselves: a RUN running one of these is not a bystander either.
_RUNNERS = frozenset({"make", "sh", "bash"})


@dataclass
class _File:
    source: str  # context path
    target: str  # path in the image: absolute, or relative to the COPY's WORKDIR when that is not known
    workdir: str  # the COPY's WORKDIR


def apply(plan: BuildPlan, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
    if not ctx.known:
        return plan
    stages = build_stages(plan)
    copied = copies_from(plan)
    folded: list[str] = []
    for index, stage in enumerate(stages):
        later = [s.steps[0] for s in stages[index + 1 :] if s.steps] + [plan.runtime_from]
        later_bases = {f.image for f in later if isinstance(f, From)}
        if options.targets:
            # --targets adds develop/test stages FROM these afterwards (their dev manifests often include the
            # main ones): they must find the files the COPYs left.
            later_bases |= {"builder", "base", "develop"}
        steps = _stage(stage, ctx, copied, later_bases, folded)
        if steps is not stage.steps:
            plan = replace_stage(plan, stage.key, steps)
    if folded:
        plan.warnings.append(
            note(
                "DR703",
                "bind mounts: the installs read "
                + ", ".join(folded)
                + " through RUN --mount=type=bind instead of a COPY",
            )
        )
    return plan


def _stage(stage: BuildStage, ctx: BuildContext, copied, later_bases: set[str], folded: list[str]) -> list[Op]:
    steps = list(stage.steps)
    states = list(stage.states)
    i = 1
    changed = False
    while i < len(steps):
        group = _manifest_copies(steps, states, i, ctx)
        if not group:
            i += 1
            continue
        indexes, files = group
        consumer = _consumer(steps, states, indexes[-1] + 1, files)
        if consumer is None or not _not_needed_after(steps, states, consumer, files, stage, copied, later_bases):
            i = indexes[-1] + 1
            continue
        run = steps[consumer]
        mounts = [{"type": "bind", "source": f.source, "target": _target(f, states[consumer])} for f in files]
        if any(m["target"] is None for m in mounts):
            i = indexes[-1] + 1
            continue
        run, _ = add_mounts(run, mounts, states[consumer].workdir)
        run.comments = tuple(c for k in indexes for c in steps[k].comments) + steps[consumer].comments
        steps[consumer] = run
        for k in reversed(indexes):
            del steps[k]
            del states[k]
        folded.extend(f.source for f in files if f.source not in folded)
        changed = True
        i = indexes[0] + 1
    # a COPY taken out may leave the rewrite's folder-making RUN next to another (after FROM, never before it)
    return apart(steps, 1) if changed else stage.steps


def _manifest_copies(steps: list[Op], states: list[State], start: int, ctx: BuildContext):
    """The run of manifest-only COPYs starting at `start` (settings may sit between): (indexes, files)."""
    indexes: list[int] = []
    files: list[_File] = []
    k = start
    while k < len(steps):
        kw = keyword(steps[k])
        if kw in _SETTINGS and indexes:
            k += 1
            continue
        if kw != "COPY":
            break
        found = _copy_files(steps[k], states[k], ctx)
        if found is None:
            break
        indexes.append(k)
        files.extend(found)
        k += 1
    if not indexes:
        return None
    families = {_family(posixpath.basename(f.source)) for f in files}
    if len(families) != 1 or len({f.target for f in files}) != len(files):
        return None
    return indexes, files


def _copy_files(step: Op, state: State, ctx: BuildContext) -> list[_File] | None:
    if not isinstance(step, Copy) or any(step.flag(f) is not None for f in ("from", "parents", "exclude")):
        return None
    args = step.paths
    if len(args) < 2 or "$" in step.text or step.args.lstrip().startswith("[") or step.add:
        return None
    *sources, dest = args
    expanded: list[str] = []
    for source in sources:
        rel = posixpath.normpath(source.lstrip("/")) if source not in (".", "./") else "."
        names = sorted(e for e in ctx.entries if fnmatch.fnmatchcase(e, rel)) if any(c in rel for c in "*?[") else [rel]
        if not names or rel == "." or rel.startswith(".."):
            return None
        for name in names:
            if _family(posixpath.basename(name)) is None or not ctx.exists(name):
                return None
            expanded.append(name)
    into_dir = dest.endswith("/") or dest in (".", "./") or len(expanded) > 1
    base = _base(dest, state)
    out = []
    for name in expanded:
        target = posixpath.join(base, posixpath.basename(name)) if into_dir else base
        out.append(_File(name, posixpath.normpath(target), state.workdir))
    return out


def _consumer(steps: list[Op], states: list[State], start: int, files: list[_File]) -> int | None:
    """The RUN that installs from the files; None when something else may read them first."""
    names = {posixpath.basename(f.source) for f in files}
    for k in range(start, len(steps)):
        kw = keyword(steps[k])
        if kw in _SETTINGS:
            continue
        if kw != "RUN":
            return None
        run = steps[k]
        if not isinstance(run, Run) or run.heredoc or run.exec_form:
            return None
        segments = [s.words() for s in shell.segments(run.body)]
        commands = [shell.env_prefix(w)[1] for w in segments]
        if any(_reads(c, names) for c in commands):
            if any(_writes(c) for c in commands):
                return None
            return k
        if any(c and _manager(posixpath.basename(c[0])) for c in commands) or any(n in run.body for n in names):
            return None
    return None


def _family(name: str) -> str | None:
    """The language whose manifest or lockfile a file (base name) is, or None."""
    return next((h.language for h in all_hooks() if h.manifests is not None and h.manifests.match(name)), None)


def _manager(program: str) -> bool:
    """Whether a program reads or writes a project's manifests."""
    return program in _RUNNERS or any(program in h.managers for h in all_hooks())


def _reads(words: list[str], names: set[str]) -> bool:
    """An install that reads the manifests and leaves them as they are."""
    return bool(words) and any(h.reads_manifests(words, names) for h in all_hooks())


def _writes(words: list[str]) -> bool:
    """Commands that change a manifest or lockfile (a bind mount is read-only)."""
    return bool(words) and any(h.writes_manifests(words) for h in all_hooks())


def _not_needed_after(steps, states, consumer: int, files: list[_File], stage: BuildStage, copied, bases) -> bool:
    """Whether nothing after the install can miss the files the COPYs would have left in the stage."""
    for k in range(consumer + 1, len(steps)):
        kw = keyword(steps[k])
        if kw in ("COPY", "ADD"):
            if all(_puts_back(steps[k], states[k], f) for f in files):
                return True
        elif kw == "RUN" and not getattr(steps[k], "context_free", False):
            return False
    # The stage ends without them: no later stage may start from it or copy them out of it.
    if stage.name is None or stage.name in bases:
        return False
    for ref, path in copied:
        if ref != stage.name:
            continue
        for f in files:
            if not path.startswith("/") or not f.target.startswith("/"):
                return False
            if f.target == path or f.target.startswith(path.rstrip("/") + "/"):
                return False
    return True


def _base(dest: str, state: State) -> str:
    """Where a COPY destination points: absolute when the WORKDIR is known, else relative to it."""
    if dest.startswith("/"):
        return posixpath.normpath(dest)
    if state.workdir.startswith("/"):
        return posixpath.normpath(posixpath.join(state.workdir, dest))
    return posixpath.normpath(dest)


def _puts_back(step: Op, state: State, f: _File) -> bool:
    """A COPY from the context that brings f back to where the manifest COPY had put it."""
    if not isinstance(step, Copy) or step.flag("from") is not None:
        return False
    args = step.paths
    if len(args) < 2:
        return False
    if not f.target.startswith("/") and state.workdir != f.workdir:
        return False
    *sources, dest = args
    base = _base(dest, state)
    into_dir = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
    for source in sources:
        rel = posixpath.normpath(source.lstrip("/"))
        if rel == ".":
            if posixpath.normpath(posixpath.join(base, f.source)) == f.target:
                return True
        elif fnmatch.fnmatchcase(f.source, rel) and (
            (posixpath.join(base, posixpath.basename(f.source)) if into_dir else base) == f.target
        ):
            return True
    return False


def _target(f: _File, run_state: State) -> str | None:
    """The mount target: relative to the RUN's WORKDIR when the file lands below it, else absolute."""
    if f.target.startswith("/"):
        wd = run_state.workdir
        if wd.startswith("/") and f.target.startswith(wd.rstrip("/") + "/"):
            return posixpath.relpath(f.target, wd)
        return f.target
    # Relative to a WORKDIR only the image knows: right while the RUN runs in the same one.
    return f.target if f.workdir == run_state.workdir else None
