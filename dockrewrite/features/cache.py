"""--cache-mounts: `RUN --mount=type=cache` for the download and build caches of the build stages.

BuildKit keeps a cache mount between builds and never puts it into the image, so a rebuild after a
lockfile change downloads only what changed. Only build stages get mounts; the runtime stage is left
alone. Docker 20.10's built-in frontend runs these without a `# syntax` line.

Which commands use a cache, and where their tool keeps it, each language's hooks say
(providers/<language>/hooks.py); this pass resolves the folders against the step's ENV and USER (root unless
the stage's USER says otherwise) and adds the mounts. apt, which any image may run, is the one it knows:
  apt  /var/cache/apt and /var/lib/apt, sharing=locked (apt takes a lock on both)
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from dockrewrite import shell
from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.notes import note
from dockrewrite.ops import Op, Run
from dockrewrite.plan import BuildPlan, Options
from dockrewrite.providers import all_hooks
from dockrewrite.providers.base import CacheUse

from .runs import BuildStage, State, add_mounts, build_stages, copies_from, replace_stage

_APT_FETCHES = frozenset({"update", "install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "source"})


@dataclass
class _Report:
    targets: dict[str, str] = field(default_factory=dict)  # target -> the tool it was mounted for first
    notes: list[str] = field(default_factory=list)
    # --targets builds develop/test stages FROM the builder afterwards: what they need must stay in its layers.
    builder_reused: bool = False

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(note("DR702", text))


def apply(plan: BuildPlan, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
    report = _Report(builder_reused=bool(options.targets))
    copied = [path for _stage, path in copies_from(plan)]
    for stage in build_stages(plan):
        steps = _stage_steps(stage, ctx, copied, report)
        if steps is not stage.steps:
            plan = replace_stage(plan, stage.key, steps)
    if report.targets:
        by_tool: dict[str, list[str]] = {}
        for target, tool in report.targets.items():
            by_tool.setdefault(tool, []).append(target)
        shown = ", ".join(f"{tool} {' '.join(targets)}" for tool, targets in by_tool.items())
        plan.warnings.append(
            note("DR702", f"cache mounts (RUN --mount=type=cache, kept by BuildKit between builds): {shown}")
        )
    plan.warnings.extend(report.notes)
    return plan


def _stage_steps(stage: BuildStage, ctx: BuildContext, copied: list[str], report: _Report) -> list[Op]:
    out: list[Op] = []
    changed = False
    # tool -> the mounts its first command in the stage got: a later program that may run the tool gets them too.
    runnable: dict[str, list[dict[str, str]]] = {}
    for step, state in zip(stage.steps, stage.states, strict=True):
        run = step if isinstance(step, Run) else None
        if run is None or run.exec_form:
            out.append(step)
            continue
        body, mounts, tools = _plan_run(run.body, state, ctx, report, runnable, copied)
        if not mounts:
            out.append(step)
            continue
        for tool in tools:
            if not runnable.get(tool):
                runnable[tool] = [m for m in mounts if m.get("_tool") == tool]
        edited = run.edit(body=body) if body != run.body else run
        edited, added = add_mounts(edited, [_public(m) for m in mounts], state.workdir)
        mounted = {m.get("target") for m in edited.mounts()}
        for m in mounts:
            if m["target"] in mounted:
                report.targets.setdefault(m["target"], m["_tool"])
        if not added and body == run.body:
            out.append(step)
            continue
        out.append(edited)
        changed = True
    return out if changed else stage.steps


def _public(mount: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in mount.items() if not k.startswith("_")}


def _keeps(mount: dict[str, str], copied: list[str], report: _Report) -> bool:
    """A later stage that copies something out of a cache folder would find it empty."""
    target = mount["target"]
    for path in copied:
        if path.startswith("/") and (posixpath.normpath(path) + "/").startswith(target.rstrip("/") + "/"):
            report.note(f"no cache mount at {target}: a later stage copies {path} out of it")
            return False
    return True


def _plan_run(body: str, state: State, ctx: BuildContext, report: _Report, runnable, copied: list[str]):
    """(body with the edits the mounts need, mounts, tools) for one RUN."""
    mounts: list[dict[str, str]] = []
    tools: list[str] = []
    edits: list[tuple[int, int, str]] = []
    env = dict(state.env)
    may_run: set[str] = set()
    for seg in shell.segments(body):
        words = seg.words()
        assigned = shell.exported(words)
        if assigned is not None:
            env.update(assigned)
            continue
        seg_env, rest = shell.env_prefix(words)
        while rest and rest[0] in ("sudo", "exec", "time", "nice"):
            rest = rest[1:]
        if not rest:
            continue
        may_run.update(tool for hooks in all_hooks() for tool in hooks.runs_tools(rest[0]))
        need = _need(rest, seg.text, {**env, **seg_env}, state, ctx, report)
        if need is None:
            continue
        need.caches = [c for c in need.caches if _keeps(c, copied, report)]
        if not need.caches:
            continue
        tools.append(need.tool)
        for cache in need.caches:
            cache["_tool"] = need.tool
            if all(m["target"] != cache["target"] for m in mounts):
                mounts.append(cache)
        if need.text is not None:
            edits.append((seg.start, seg.end, need.text))
    for tool, kept in runnable.items():
        if kept and tool in may_run:
            mounts += [dict(m) for m in kept if all(x["target"] != m["target"] for x in mounts)]
            tools.append(tool)
    for start, end, text in sorted(edits, reverse=True):
        body = body[:start] + text + body[end:]
    return body, mounts, tools


def _need(
    words: list[str], text: str, env: dict[str, str], state: State, ctx: BuildContext, report: _Report
) -> CacheUse | None:
    program = posixpath.basename(words[0])
    if program in ("apt-get", "apt", "aptitude") and _APT_FETCHES & set(words[1:]):
        return CacheUse(
            "apt",
            [
                {"type": "cache", "target": "/var/cache/apt", "sharing": "locked"},
                {"type": "cache", "target": "/var/lib/apt", "sharing": "locked"},
            ],
        )
    owner = _owner(state)
    site = _Site(program, env, owner or {"_home": "/nonexistent"}, state.root, ctx, report)
    if owner is None:
        site.unknown_user = state.user
    for hooks in all_hooks():
        use = hooks.caches(words, text, site)
        if use is not None:
            return use
    return None


class _Site:
    """Where one command runs, for a language's hooks: its ENV, its user's home, and the mounts it may have."""

    def __init__(
        self, program: str, env: dict[str, str], owner: dict[str, str], root: bool, ctx: BuildContext, report: _Report
    ):
        self.program, self.env, self.owner, self.root, self.ctx, self.report = program, env, owner, root, ctx, report
        self.home = owner.get("_home", "/root")
        self.cache_home = env.get("XDG_CACHE_HOME") or f"{self.home}/.cache"
        self.builder_reused = report.builder_reused
        self.unknown_user: str | None = None  # a USER whose uid and home the plan does not know

    def cache(self, folder: str | None, **extra: str) -> dict[str, str] | None:
        """The mount for a tool's cache folder, owned by the step's user; None (and why, in a note) when the
        folder is not known at build time."""
        if folder is None:
            return None
        if self.unknown_user is not None:
            # said only for a tool that has a cache, not for every command the stage runs
            self.note(
                f"no cache mount for {self.program}: the stage runs as USER {self.unknown_user}, whose uid and "
                "home are not known"
            )
            return None
        resolved = shell.substitute(folder, self.env)
        if resolved is None or not resolved.startswith("/"):
            self.note(f"no cache mount for {self.program}: its cache folder {folder} is not known at build time")
            return None
        out = {"type": "cache", "target": posixpath.normpath(resolved), **extra}
        out.update({k: v for k, v in self.owner.items() if not k.startswith("_")})
        return out

    def note(self, text: str) -> None:
        self.report.note(text)


def _owner(state: State) -> dict[str, str] | None:
    """uid/gid options (and the home folder, under `_home`) for a cache written by the stage's user; None when
    the stage's user is one whose ids the plan does not know."""
    if state.root:
        return {"_home": state.env.get("HOME", "/root")}
    ident = state.identity()
    if ident is None:
        return None
    uid, gid, home = ident
    return {"uid": uid, "gid": gid, "_home": home}
