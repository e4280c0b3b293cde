"""Whether one script's events are the builder pattern: build, create, cp, then a build using the copies."""

from __future__ import annotations

import re
from pathlib import Path

from dockrewrite.builder.events import Event, opt_name
from dockrewrite.builder.pairs import Artifact
from dockrewrite.builder.reader import CARRY, Reader
from dockrewrite.shell.lexer import Unreadable


def _related(path: Path, targets: list[Path]) -> bool:
    return any(path == t or path in t.parents or t in path.parents for t in targets)


def decide(events: list[Event], reader: Reader) -> dict | None:
    """The builder-pattern steps among a script's events, or None when it runs no docker cp out of a container."""
    cps = [i for i, e in enumerate(events) if e.kind == "cp"]
    if not cps:
        return None
    first_cp, last_cp = cps[0], cps[-1]
    containers = {events[i].data["container"] for i in cps}
    if len(containers) > 1:
        raise Unreadable("docker cp reads from more than one container", events[cps[1]].line)
    container = containers.pop()
    creators = [i for i in range(first_cp) if events[i].kind == "create" and events[i].data["container"] == container]
    if not creators:
        raise Unreadable(
            f"`{events[first_cp].text}` reads a container the script does not create before it", events[first_cp].line
        )
    c = creators[-1]
    if events[c].data["problem"]:
        raise Unreadable(events[c].data["problem"], events[c].line)
    image = events[c].data["image"]
    builds = [i for i, e in enumerate(events) if e.kind == "build"]
    b1s = [i for i in builds if i < c and image in events[i].data.tags]
    if not b1s:
        raise Unreadable(f"`{events[c].text}` uses an image the script does not build before it", events[c].line)
    b1 = b1s[-1]
    b2s = [i for i in builds if i > last_cp]
    if not b2s:
        raise Unreadable("no docker build after docker cp uses what was copied out", events[last_cp].line)
    if len(b2s) > 1:
        raise Unreadable(
            f"{len(b2s)} docker builds after docker cp: which one is the runtime image cannot be told",
            events[b2s[1]].line,
        )
    b2 = b2s[0]
    for i in builds:
        if i not in (b1, b2):
            raise Unreadable(
                f"the script also runs `{events[i].text}`: only one build file and one runtime file merge into one "
                "Dockerfile",
                events[i].line,
            )
    build, runtime = events[b1].data, events[b2].data
    for which in (build, runtime):
        if not which.dockerfile.is_file():
            raise Unreadable(f"{which.dockerfile} does not exist", events[b1 if which is build else b2].line)
    if build.dockerfile == runtime.dockerfile:
        raise Unreadable("both docker builds use the same Dockerfile", events[b2].line)
    targets = [events[i].data["local"] for i in cps]
    for i in range(b1 + 1, b2):
        e = events[i]
        if i == c or i in cps or e.kind in ("harmless", "cleanup"):
            continue
        if e.kind in ("rm", "mkdir") and all(_related(p, targets) for p in e.data):
            continue
        raise Unreadable(f"`{e.text}` runs between the two builds; it may change what the second build uses", e.line)
    extra = []
    for i, e in enumerate(events):
        if b1 <= i <= b2 or e.kind in ("harmless", "cleanup"):
            continue
        if e.kind in ("rm", "mkdir") and all(_related(p, targets) for p in e.data):
            continue
        extra.append((e.line, f"`{reader.shown(e.text)}` (line {e.line})"))
    for t in targets:
        if not t.is_relative_to(runtime.context):
            raise Unreadable(f"docker cp writes {t}, outside the second build's context {runtime.context}")
    computed: dict[str, str] = {}
    options = [_inline_vars(o, runtime.assigned, computed) for o in runtime.options]
    names = {name for name, _ in runtime.build_args}
    for raw in build.options:
        opt = opt_name(raw)
        if opt in CARRY and not (opt == "--build-arg" and _arg_name(raw) in names):
            carried = _inline_vars(raw, build.assigned, computed)
            if carried not in options:
                options.append(carried)
    file_opt = [_inline_vars(runtime.file_raw, runtime.assigned, computed)] if runtime.file_raw else []
    parts = [
        runtime.binary,
        *runtime.sub,
        *file_opt,
        *options,
        _inline_vars(runtime.context_raw, runtime.assigned, computed),
    ]
    command = reader.shown(" ".join(parts))
    for name, (line, assignment) in computed.items():
        extra.append((line, f"`{reader.shown(assignment)}` (line {line}), which sets ${name} for the builds"))
    return {
        "build_file": build.dockerfile,
        "runtime_file": runtime.dockerfile,
        "build_context": build.context,
        "runtime_context": runtime.context,
        "artifacts": tuple(
            Artifact(events[i].data["path"], events[i].data["local"], events[i].line, events[i].data["contents"])
            for i in cps
        ),
        "lines": (events[b1].line, _steps_end(events, b2, targets)),
        "build_args": tuple((n, reader.shown(r)) for n, r in build.build_args),
        "runtime_build_args": tuple((n, reader.shown(r)) for n, r in runtime.build_args),
        "command": command,
        "extra_steps": tuple(text for _, text in sorted(extra)),
        "build_target": build.target,
        "platforms": (build.platform, runtime.platform),
    }


def _steps_end(events: list[Event], b2: int, targets: list[Path]) -> int:
    """Last line of the builder steps: the second build and the clean-up right after it."""
    end = events[b2].end
    for e in events[b2 + 1 :]:
        if (e.kind == "rm" and all(_related(p, targets) for p in e.data)) or e.kind == "cleanup":
            end = e.end
        elif e.kind != "harmless" or e.text.split(" ", 1)[0] not in ("echo", "printf"):
            break
    return end


def _inline_vars(raw: str, assigned: dict[str, tuple[str | None, int, str]], computed: dict) -> str:
    """raw with the script's own variables written out where that is possible; the others noted in computed."""

    def repl(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        if name not in assigned:
            return m.group(0)  # from the caller's environment, as in the script
        inline, line, assignment = assigned[name]
        if inline is None:
            computed[name] = (line, assignment)
            return m.group(0)
        return inline

    return re.sub(r"(?<!\\)\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))", repl, raw)


def _arg_name(raw: str) -> str:
    value = raw.split(" ", 1)[1] if raw.startswith("--build-arg ") else raw.split("=", 1)[-1]
    return value.strip("'\"").split("=", 1)[0]
