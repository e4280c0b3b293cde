"""Reading and editing the build stages of a plan: RUN flags and mounts, and what each step runs with
(ENV, USER, WORKDIR) so a feature knows where a tool keeps its cache."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace

from dockrewrite import shell
from dockrewrite.plan import BuildPlan, Step
from dockrewrite.providers.base import image_name
from dockrewrite.providers.common import run_prefix

_KEYWORD = re.compile(r"^\s*(\w+)", re.ASCII)
_FROM = re.compile(r"(?i)^(\s*FROM\s+(?:--\S+\s+)*)(\S+)(\s+AS\s+(\S+))?\s*$")
# Images whose own ENV the cache paths depend on.
_IMAGE_ENV = {"golang": {"GOPATH": "/go"}}
# Users the official images ship: name -> (uid, gid, home).
_IMAGE_USERS = {"node": {"node": ("1000", "1000", "/home/node"), "1000": ("1000", "1000", "/home/node")}}


def keyword(step: Step) -> str:
    m = _KEYWORD.match(step.text)
    return m.group(1).upper() if m else ""


def from_parts(text: str) -> tuple[str, str, str | None] | None:
    """`FROM --platform=x image AS name` -> (text before the image, image, stage name)."""
    m = _FROM.match(text)
    if not m:
        return None
    return m.group(1), m.group(2), m.group(4)


# -- RUN flags ----------------------------------------------------------------------------------
@dataclass
class Run:
    """A RUN step taken apart: its keyword as written, its flags (`--mount=…`, `--network=…`) and the command."""

    keyword: str
    flags: list[str]
    body: str

    @classmethod
    def of(cls, text: str) -> Run | None:
        m = _KEYWORD.match(text)
        if not m or m.group(1).upper() != "RUN":
            return None
        prefix = run_prefix(text)
        flags = re.findall(r"--\S+", prefix[m.end() :])
        return cls(m.group(1), flags, text[len(prefix) :])

    @property
    def heredoc(self) -> bool:
        return self.body.lstrip().startswith("<<")

    def mounts(self) -> list[dict[str, str]]:
        return [parse_mount(f[len("--mount=") :]) for f in self.flags if f.lower().startswith("--mount=")]

    def text(self) -> str:
        if not self.flags:
            return f"{self.keyword} {self.body}"
        if self.heredoc:
            # A heredoc starts on the RUN line itself.
            return f"{self.keyword} {' '.join(self.flags)} {self.body}"
        return f"{self.keyword} " + " \\\n    ".join(self.flags) + " \\\n    " + self.body


def parse_mount(spec: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in spec.split(","):
        key, eq, value = item.partition("=")
        out[key.strip().lower()] = value.strip() if eq else "true"
    for alias in ("dst", "destination"):
        if alias in out and "target" not in out:
            out["target"] = out[alias]
    return out


def mount_flag(options: dict[str, str]) -> str:
    order = ("type", "id", "source", "target", "sharing", "uid", "gid", "mode")
    keys = [k for k in order if k in options] + [k for k in options if k not in order]
    return "--mount=" + ",".join(f"{k}={options[k]}" for k in keys)


def add_mounts(run: Run, mounts: list[dict[str, str]], workdir: str) -> list[dict[str, str]]:
    """Append the mounts whose target no existing mount has; the ones added, in order."""
    taken = {_norm_target(m.get("target", ""), workdir) for m in run.mounts()}
    added = []
    for m in mounts:
        target = _norm_target(m["target"], workdir)
        if target in taken:
            continue
        taken.add(target)
        run.flags.append(mount_flag(m))
        added.append(m)
    return added


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
        known = self.users.get(name) or _IMAGE_USERS.get(image_name(self.image), {}).get(name)
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
    steps: list[Step]
    states: list[State]  # the state before each step


def build_stages(plan: BuildPlan) -> list[BuildStage]:
    """The plan's build stages (never the runtime stage), in order, with each step's state."""
    out: list[BuildStage] = []
    by_name: dict[str, State] = {}
    for key, steps in [(("builder", 0), plan.builder)] + [(("extra", i), s) for i, s in enumerate(plan.extra_stages)]:
        parts = from_parts(steps[0].text) if steps else None
        image, name = (parts[1], parts[2]) if parts else ("", None)
        state = by_name[image].copy() if image in by_name else State(image, dict(_IMAGE_ENV.get(image_name(image), {})))
        states = []
        for step in steps:
            states.append(state.copy())
            _advance(state, step)
        if name:
            by_name[name] = state
        out.append(BuildStage(key, name, steps, states))
    return out


def _advance(state: State, step: Step) -> None:
    k = keyword(step)
    body = step.text.split(None, 1)[1] if len(step.text.split(None, 1)) > 1 else ""
    if k == "ENV":
        for key, value in env_items(body):
            state.env[key] = shell.substitute(value, state.env) or value
    elif k == "USER":
        state.user = body.strip()
    elif k == "WORKDIR":
        target = body.strip().strip("\"'")
        if target.startswith("/"):
            state.workdir = posixpath.normpath(target)
        else:
            # Below a WORKDIR only the image knows, the path stays relative ("?" stands for the unknown).
            state.workdir = posixpath.normpath(posixpath.join(state.workdir or "?", target))
    elif k == "RUN":
        for seg in shell.segments(body):
            _record_user(state, seg.words())


def env_items(body: str) -> list[tuple[str, str]]:
    words = shell.split_words(body)
    if not words:
        return []
    if "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]
    return [(w.split("=", 1)[0], w.split("=", 1)[1]) for w in words if "=" in w]


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


def replace_stage(plan: BuildPlan, key: tuple[str, int], steps: list[Step]) -> BuildPlan:
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
        if keyword(step) not in ("COPY", "ADD"):
            continue
        words = shell.split_words(step.text)[1:]
        ref = next((w.split("=", 1)[1] for w in words if w.lower().startswith("--from=")), None)
        if ref is None:
            continue
        args = [w for w in words if not w.startswith("--")]
        out += [(ref, a) for a in args[:-1]]
    return out
