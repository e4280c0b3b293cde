"""The runtime contract of a stage: what must reach the final stage so the image runs the same way."""

from __future__ import annotations

import re

from dockrewrite import ops, shell
from dockrewrite.model import Instruction, Stage

# Instructions that only describe how the image runs; the builder stage does not need them.
RUNTIME_ONLY = frozenset({"CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK", "LABEL", "STOPSIGNAL", "VOLUME", "MAINTAINER"})
# Of these, only the last one in a stage has any effect.
LAST_WINS = frozenset({"CMD", "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL", "USER"})
# Names that suggest a credential. A name alone decides nothing: TOKEN_TTL=3600 or PASSWORD_MIN_LENGTH=12 are
# settings, and every ENV the original image had stays in the runtime (the app reads it there).
_SECRET_NAME = re.compile(r"TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL", re.IGNORECASE)
# Values that are not a credential whatever their name: numbers, switches, paths, units.
_PLAIN_VALUE = re.compile(r"(?:[0-9.]+[a-z]{0,2}|true|false|yes|no|on|off|none|null|[./~].*)", re.IGNORECASE)
# Values that are a credential whatever their name.
_SECRET_VALUE = re.compile(
    r"AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|sk_live_[A-Za-z0-9]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY"
    r"|://[^/\s:@$]+:[^/\s@$]+@"  # a URL with a literal password in it
)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def looks_like_secret(name: str, value: str) -> bool:
    """A literal value that reads like a credential: a known token format or a password in a URL, or a
    credential-named variable holding something other than a number, switch, path or $reference."""
    value = value.strip().strip("\"'")
    if not value:
        return False
    if _SECRET_VALUE.search(value):
        return True
    return is_secret_name(name) and "$" not in value and not _PLAIN_VALUE.fullmatch(value)


def secret_warnings(stage: Stage, global_args: tuple[Instruction, ...] = ()) -> list[tuple[int, str]]:
    """(line, warning) for each ENV value and ARG default that reads like a credential, and each build arg
    named like one: the rewrite keeps them where the original had them, and says where they end up."""
    out = []
    for ins in (*global_args, *stage.instructions):
        if ins.keyword == "ARG":
            for item in ins.args:
                name, _, default = item.partition("=")
                if looks_like_secret(name, default) or is_secret_name(name):
                    out.append(
                        (
                            ins.line,
                            f"ARG {name} (line {ins.line}) looks like a credential: build args stay in the image "
                            f"history, as they did before; RUN --mount=type=secret,id={name.lower()} keeps it out",
                        )
                    )
        elif ins.keyword == "ENV":
            for name, value in env_pairs(ins):
                if looks_like_secret(name, value):
                    out.append(
                        (
                            ins.line,
                            f"ENV {name} (line {ins.line}) holds what looks like a credential: it stays baked into "
                            "the runtime image as in the original; pass it at run time instead "
                            f"(`docker run -e {name}`, or a secret file the app reads)",
                        )
                    )
    return out


def builder_instructions(stage: Stage) -> list[Instruction]:
    """The stage minus runtime-only metadata; a USER stays only while later steps run as that user."""
    out: list[Instruction] = []
    items = list(stage.instructions)
    for i, ins in enumerate(items):
        if ins.keyword in RUNTIME_ONLY:
            continue
        if ins.keyword == "USER" and not any(k.keyword in ("RUN", "COPY", "ADD") for k in items[i + 1 :]):
            continue
        out.append(ins)
    return out


def env_pairs(ins: Instruction) -> list[tuple[str, str]]:
    args = list(ins.args)
    return [(args[i], args[i + 1] if i + 1 < len(args) else "") for i in range(0, len(args), 2)]


def stage_env(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in stage.find("ENV"):
        for key, value in env_pairs(ins):
            env[key] = value.strip("\"'")
    return env


def env_step(ins: Instruction, drop: frozenset[str]) -> ops.Op | None:
    pairs = env_pairs(ins)
    keep = [(k, v) for k, v in pairs if k not in drop]
    if len(keep) == len(pairs):
        return ops.step(ins.text)
    if not keep:
        return None
    return ops.step("ENV " + " ".join(f"{k}={v}" for k, v in keep))


def contract_steps(stage: Stage, drop_env: frozenset[str], replace: dict[str, str | None]) -> list[ops.Op]:
    """Runtime instructions in their original order; `replace` maps a keyword to new text (None drops it).

    A keyword in `replace` that the stage lacks (USER for a new non-root user) is added before
    HEALTHCHECK/ENTRYPOINT/CMD.
    """
    steps: list[ops.Op] = []
    last = {k: stage.last(k) for k in LAST_WINS}
    for ins in stage.instructions:
        k = ins.keyword
        if k == "ENV":
            step = env_step(ins, drop_env)
            if step:
                steps.append(step)
            continue
        if k not in RUNTIME_ONLY and k != "USER":
            continue
        if k in LAST_WINS and ins is not last[k]:
            continue
        if k in replace:
            if replace[k] is not None:
                steps.append(ops.step(replace[k], ins.comments))
            continue
        steps.append(ops.step(ins.text, ins.comments))
    missing = [k for k in replace if replace[k] is not None and last.get(k) is None and k in LAST_WINS]
    for k in missing:
        at = next(
            (
                i
                for i, s in enumerate(steps)
                if s.text.split(None, 1)[0].upper() in ("HEALTHCHECK", "ENTRYPOINT", "CMD")
            ),
            len(steps),
        )
        steps.insert(at, ops.step(replace[k]))
    return steps


def arg_redeclarations(stage: Stage, texts: list[str]) -> list[ops.Op]:
    """ARG lines the final stage needs so that $VARS in the carried instructions still expand."""
    used: set[str] = set()
    for text in texts:
        used |= shell.variables(text)
    steps: list[ops.Op] = []
    seen: set[str] = set()
    for ins in stage.find("ARG"):
        for item in ins.args:
            name = item.split("=", 1)[0]
            if name in used and name not in seen:
                seen.add(name)
                steps.append(ops.step(f"ARG {item}"))
    return steps
