"""--cache-mounts: `RUN --mount=type=cache` for the download and build caches of the build stages.

BuildKit keeps a cache mount between builds and never puts it into the image, so a rebuild after a
lockfile change downloads only what changed. Only build stages get mounts; the runtime stage is left
alone. Docker 20.10's built-in frontend runs these without a `# syntax` line.

Where each tool keeps its cache (root unless the stage's USER says otherwise):
  go modules       $GOMODCACHE, else $GOPATH/pkg/mod (golang images: /go/pkg/mod), else $HOME/go/pkg/mod
  go build cache   $GOCACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/go-build
  pip / pipenv     $PIP_CACHE_DIR / $PIPENV_CACHE_DIR, else ~/.cache/pip, ~/.cache/pipenv
  poetry, uv       $POETRY_CACHE_DIR / $UV_CACHE_DIR, else ~/.cache/pypoetry, ~/.cache/uv
  npm              $npm_config_cache, else ~/.npm
  yarn classic     $YARN_CACHE_FOLDER, else /usr/local/share/.cache/yarn for root, ~/.cache/yarn otherwise
  pnpm             $PNPM_HOME/store when set, else /pnpm/store, passed as --store-dir to every pnpm
                   command that touches the store (so later pnpm commands agree on it)
  apt              /var/cache/apt and /var/lib/apt, sharing=locked (apt takes a lock on both)
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from dockrewrite import shell
from dockrewrite.context import BuildContext
from dockrewrite.model import DockerfileModel
from dockrewrite.notes import note
from dockrewrite.ops import Op, Run
from dockrewrite.plan import BuildPlan, Options
from dockrewrite.providers.python.deps import is_pip

from .runs import BuildStage, State, add_mounts, build_stages, copies_from, replace_stage

PNPM_STORE = "/pnpm/store"
_PNPM_STORE_COMMANDS = frozenset(
    {"install", "i", "add", "fetch", "update", "up", "upgrade", "rebuild", "rb", "remove", "rm", "prune", "dedupe"}
)
_NPM_INSTALLS = frozenset(
    {"ci", "install", "i", "in", "isntall", "add", "update", "up", "install-clean", "clean-install"}
)
_GO_BUILDS = frozenset({"build", "install", "test", "vet", "run", "generate", "get", "list", "tool"})
_APT_FETCHES = frozenset({"update", "install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "source"})
# Programs that may run `go` themselves: once a stage keeps its modules in a cache mount, they need it too.
_MAY_RUN_GO = frozenset({"make", "mage", "task", "just", "goreleaser", "sh", "bash", "ash"})


@dataclass
class _Need:
    """Caches one command uses, and its text as it must read with them mounted."""

    tool: str
    caches: list[dict[str, str]]
    text: str | None = None  # the segment rewritten (None: unchanged)


@dataclass
class _Report:
    targets: dict[str, str] = field(default_factory=dict)  # target -> the tool it was mounted for first
    notes: list[str] = field(default_factory=list)
    # --targets builds develop/test stages FROM the builder afterwards: they need the modules in its layer.
    keep_go_modules: bool = False

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(note("DR702", text))


def apply(plan: BuildPlan, model: DockerfileModel, ctx: BuildContext, options: Options) -> BuildPlan:
    report = _Report(keep_go_modules=bool(options.targets))
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
    go_mounts: list[dict[str, str]] = []
    for step, state in zip(stage.steps, stage.states, strict=True):
        run = step if isinstance(step, Run) else None
        if run is None or run.exec_form:
            out.append(step)
            continue
        body, mounts, tools = _plan_run(run.body, state, ctx, report, go_mounts, copied)
        if not mounts:
            out.append(step)
            continue
        if any(t == "go" for t in tools) and not go_mounts:
            go_mounts = [m for m in mounts if m.get("_tool") == "go"]
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


def _plan_run(body: str, state: State, ctx: BuildContext, report: _Report, go_mounts, copied: list[str]):
    """(body with the edits the mounts need, mounts, tools) for one RUN."""
    mounts: list[dict[str, str]] = []
    tools: list[str] = []
    edits: list[tuple[int, int, str]] = []
    env = dict(state.env)
    may_run_go = False
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
        if posixpath.basename(rest[0]) in _MAY_RUN_GO or rest[0].startswith("./") or rest[0].endswith(".sh"):
            may_run_go = True
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
    if go_mounts and may_run_go:
        mounts += [dict(m) for m in go_mounts if all(x["target"] != m["target"] for x in mounts)]
        tools.append("go")
    for start, end, text in sorted(edits, reverse=True):
        body = body[:start] + text + body[end:]
    return body, mounts, tools


def _need(
    words: list[str], text: str, env: dict[str, str], state: State, ctx: BuildContext, report: _Report
) -> _Need | None:
    program = posixpath.basename(words[0])
    sub = words[1] if len(words) > 1 else ""
    if program in ("apt-get", "apt", "aptitude") and _APT_FETCHES & set(words[1:]):
        return _Need(
            "apt",
            [
                {"type": "cache", "target": "/var/cache/apt", "sharing": "locked"},
                {"type": "cache", "target": "/var/lib/apt", "sharing": "locked"},
            ],
        )
    owner = _owner(state, program, report)
    if owner is None:
        return None
    home = owner.get("_home", "/root")
    cache_home = env.get("XDG_CACHE_HOME") or f"{home}/.cache"

    def cache(target: str | None, **extra: str) -> dict[str, str] | None:
        if target is None:
            return None
        resolved = shell.substitute(target, env)
        if resolved is None or not resolved.startswith("/"):
            report.note(f"no cache mount for {program}: its cache folder {target} is not known at build time")
            return None
        out = {"type": "cache", "target": posixpath.normpath(resolved), **extra}
        out.update({k: v for k, v in owner.items() if not k.startswith("_")})
        return out

    def needs(tool: str, *caches: dict[str, str] | None, text: str | None = None) -> _Need | None:
        kept = [c for c in caches if c is not None]
        return _Need(tool, kept, text) if kept else None

    if program == "go" or words[0].endswith("/go"):
        gopath = (env.get("GOPATH") or f"{home}/go").split(":")[0]
        mod = None
        if report.keep_go_modules:
            report.note(
                "no cache mount for the Go module cache: the --targets stages start from the builder and need "
                "its modules in the image"
            )
        else:
            mod = cache(env.get("GOMODCACHE") or f"{gopath}/pkg/mod")
        if sub == "mod" and len(words) > 2 and words[2] in ("download", "tidy", "vendor", "verify", "graph", "why"):
            return needs("go", mod)
        if sub in _GO_BUILDS:
            gocache = env.get("GOCACHE")
            build = None if gocache == "off" else cache(gocache or f"{cache_home}/go-build")
            return needs("go", mod, build)
        return None
    if is_pip(words) >= 0:
        if "PIP_NO_CACHE_DIR" in env:
            report.note("no cache mount for pip: PIP_NO_CACHE_DIR turns its cache off")
            return None
        edited = _drop_flag(text, "--no-cache-dir")
        if edited is not None:
            report.note("pip: --no-cache-dir dropped where pip's cache is mounted, so the cache is used")
        return needs("pip", cache(env.get("PIP_CACHE_DIR") or f"{cache_home}/pip"), text=edited)
    if program == "pipenv" and sub in ("install", "sync", "lock", "update"):
        return needs(
            "pipenv",
            cache(env.get("PIP_CACHE_DIR") or f"{cache_home}/pip"),
            cache(env.get("PIPENV_CACHE_DIR") or f"{cache_home}/pipenv"),
        )
    if program == "poetry" and sub in ("install", "add", "update", "lock", "sync"):
        return needs(
            "poetry",
            cache(env.get("POETRY_CACHE_DIR") or f"{cache_home}/pypoetry"),
            text=_drop_flag(text, "--no-cache"),
        )
    if program == "uv" and sub in ("sync", "pip", "add", "lock", "tool", "run", "python", "export"):
        if "UV_NO_CACHE" in env:
            report.note("no cache mount for uv: UV_NO_CACHE turns its cache off")
            return None
        return needs("uv", cache(env.get("UV_CACHE_DIR") or f"{cache_home}/uv"), text=_drop_flag(text, "--no-cache"))
    if program == "npm" and sub in _NPM_INSTALLS:
        configured = env.get("npm_config_cache") or env.get("NPM_CONFIG_CACHE") or _option(words, "--cache")
        return needs("npm", cache(configured or f"{home}/.npm"))
    if program == "yarn" and (not sub or sub in ("install", "add", "global", "upgrade") or sub.startswith("-")):
        if _yarn_berry(ctx):
            report.note("no cache mount for yarn 2+: its cache lives in the project (.yarn/cache) or ~/.yarn/berry")
            return None
        default = "/usr/local/share/.cache/yarn" if state.root else f"{cache_home}/yarn"
        folder = _option(words, "--cache-folder") or env.get("YARN_CACHE_FOLDER") or default
        # yarn 1 does not guard its cache against two installs at once (the deps and builder stages run in parallel).
        return needs("yarn", cache(folder, sharing="locked"))
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
        return needs("pnpm", cache(store), text=edited)
    return None


def _owner(state: State, program: str, report: _Report) -> dict[str, str] | None:
    """uid/gid options (and the home folder, under `_home`) for a cache written by the stage's user."""
    if state.root:
        return {"_home": state.env.get("HOME", "/root")}
    ident = state.identity()
    if ident is None:
        report.note(
            f"no cache mount for {program}: the stage runs as USER {state.user}, whose uid and home are not known"
        )
        return None
    uid, gid, home = ident
    return {"uid": uid, "gid": gid, "_home": home}


def _option(words: list[str], name: str) -> str | None:
    for i, w in enumerate(words):
        if w == name and i + 1 < len(words):
            return words[i + 1]
        if w.startswith(name + "="):
            return w.split("=", 1)[1]
    return None


def _drop_flag(text: str, flag: str) -> str | None:
    """The command text without `flag` (or `flag=…`), or None when it has none; the rest keeps its layout."""
    pattern = rf"(?<!\S){re.escape(flag)}(?:=\S*)?(?!\S)[ \t]*"
    if not re.search(pattern, text):
        return None
    out = re.sub(pattern, "", text)
    return re.sub(r"\\\n[ \t]*(?=\\\n)", "", out)  # a continuation line left holding nothing


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
