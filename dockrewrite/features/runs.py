"""Reading and editing the build stages of a plan: RUN flags and mounts, and what each step runs with
(ENV, USER, WORKDIR) so a feature knows where a tool keeps its cache."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace

from dockrewrite import shell
from dockrewrite.ops import Copy, Env, From, Op, Run, User, Workdir, mount_flag
from dockrewrite.plan import BuildPlan
from dockrewrite.providers import all_hooks
from dockrewrite.providers.base import image_name


def _image_env(image: str) -> dict[str, str]:
    """The ENV an image brings that the cache folders depend on (the languages' hooks know their images)."""
    name = image_name(image)
    return next((dict(h.image_env[name]) for h in all_hooks() if name in h.image_env), {})


def _image_user(image: str, name: str) -> tuple[str, str, str] | None:
    """(uid, gid, home) of a user an official image ships, by name or uid."""
    users = next((h.image_users[image_name(image)] for h in all_hooks() if image_name(image) in h.image_users), {})
    return users.get(name)


def add_mounts(run: Run, mounts: list[dict[str, str]], workdir: str) -> tuple[Run, list[dict[str, str]]]:
    """The RUN with the mounts whose target no existing mount has appended, and the ones added, in order."""
    taken = {_norm_target(m.get("target", ""), workdir) for m in run.mounts()}
    added = []
    for m in mounts:
        target = _norm_target(m["target"], workdir)
        if target in taken:
            continue
        taken.add(target)
        added.append(m)
    if not added:
        return run, added
    return run.edit(flags=run.flags + tuple(mount_flag(m) for m in added)), added


def _norm_target(target: str, workdir: str) -> str:
    target = target.strip("\"'")
    if not target.startswith("/") and workdir:
        target = posixpath.join(workdir, target)
    return posixpath.normpath(target) if target else target


# -- what each step runs with ---------------------------------------------------------------------
@dataclass
class State:
    """What a step of a build stage runs with."""

    image: str
    env: dict[str, str] = field(default_factory=dict)
    user: str = ""  # as USER wrote it; "" for the image's default (root in the images we write)
    workdir: str = ""  # absolute, or "" while only the image knows it
    users: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # name -> (uid, gid, home)

    def copy(self) -> State:
        return State(self.image, dict(self.env), self.user, self.workdir, dict(self.users))

    @property
    def root(self) -> bool:
        name = self.user.split(":", 1)[0]
        return name in ("", "root", "0")

    def identity(self) -> tuple[str, str, str] | None:
        """(uid, gid, home) of a non-root user when known."""
        name, _, group = self.user.partition(":")
        known = self.users.get(name) or _image_user(self.image, name)
        if known is None:
            return None
        uid, gid, home = known
        if group.isdigit():
            gid = group
        return uid, gid, self.env.get("HOME", home)

    def home(self) -> str | None:
        if "HOME" in self.env:
            return self.env["HOME"]
        if self.root:
            return "/root"
        ident = self.identity()
        return ident[2] if ident else None


@dataclass
class BuildStage:
    """One build stage of a plan: where its steps live, its name and what each step runs with."""

    key: tuple[str, int]  # ("builder", 0) or ("extra", index)
    name: str | None
    steps: list[Op]
    states: list[State]  # the state before each step


def build_stages(plan: BuildPlan) -> list[BuildStage]:
    """The plan's build stages (never the runtime stage), in order, with each step's state."""
    out: list[BuildStage] = []
    by_name: dict[str, State] = {}
    for key, steps in [(("builder", 0), plan.builder)] + [(("extra", i), s) for i, s in enumerate(plan.extra_stages)]:
        first = steps[0] if steps else None
        image, name = (first.image, first.name) if isinstance(first, From) else ("", None)
        state = by_name[image].copy() if image in by_name else State(image, _image_env(image))
        states = []
        for step in steps:
            states.append(state.copy())
            _advance(state, step)
        if name:
            by_name[name] = state
        out.append(BuildStage(key, name, steps, states))
    return out


def _advance(state: State, step: Op) -> None:
    if isinstance(step, Env):
        for key, value in step.items():
            state.env[key] = shell.substitute(value, state.env) or value
    elif isinstance(step, User):
        state.user = step.user
    elif isinstance(step, Workdir):
        target = step.path.strip("\"'")
        if target.startswith("/"):
            state.workdir = posixpath.normpath(target)
        else:
            # Below a WORKDIR only the image knows, the path stays relative ("?" stands for the unknown).
            state.workdir = posixpath.normpath(posixpath.join(state.workdir or "?", target))
    elif isinstance(step, Run):
        for seg in shell.segments(step.body):
            _record_user(state, seg.words())


def _record_user(state: State, words: list[str]) -> None:
    """useradd/adduser with an explicit uid: the user a later USER names, with its home."""
    if not words or words[0] not in ("useradd", "adduser"):
        return
    uid = gid = home = None
    names = []
    i = 1
    while i < len(words):
        w = words[i]
        value = words[i + 1] if i + 1 < len(words) else None
        if w in ("-u", "--uid"):
            uid, i = value, i + 2
            continue
        if w in ("-g", "--gid", "-G", "--ingroup"):
            gid = value if w in ("-g", "--gid") and value and value.isdigit() else gid
            i += 2
            continue
        if w in ("-d", "--home", "--home-dir", "-h", "-s", "--shell", "-c", "--comment", "--gecos", "-k", "-K"):
            if w in ("-d", "--home", "--home-dir") or (w == "-h" and words[0] == "adduser"):
                home = value
            i += 2
            continue
        if w.startswith("--uid="):
            uid = w.split("=", 1)[1]
        elif w and not w.startswith("-"):
            names.append(w)
        i += 1
    if uid and uid.isdigit() and names:
        name = names[0]
        entry = (uid, gid or uid, home or f"/home/{name}")
        state.users[name] = entry
        state.users[uid] = entry


def replace_stage(plan: BuildPlan, key: tuple[str, int], steps: list[Op]) -> BuildPlan:
    if key[0] == "builder":
        return replace(plan, builder=steps)
    extra = list(plan.extra_stages)
    extra[key[1]] = steps
    return replace(plan, extra_stages=extra)


def copies_from(plan: BuildPlan) -> list[tuple[str, str]]:
    """(stage, source path) of every `COPY --from=<stage>` in the plan."""
    out = []
    steps = plan.builder + [s for stage in plan.extra_stages for s in stage] + plan.runtime_setup + plan.artifacts
    for step in steps + plan.contract:
        ref = step.flag("from") if isinstance(step, Copy) else None
        if ref is not None:
            out += [(ref, a) for a in step.sources]
    return out
