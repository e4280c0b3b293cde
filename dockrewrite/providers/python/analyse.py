"""What the original Dockerfile and its context say, read once into frozen facts the planner plans from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from dockrewrite import images, syslibs
from dockrewrite.contract import stage_env
from dockrewrite.model import DockerfileModel, Instruction, Stage
from dockrewrite.providers.common import Planner, global_args, resolved_image
from dockrewrite.providers.python import deps
from dockrewrite.providers.python.layout import Item
from dockrewrite.providers.python.pyproject import read_toml, toml_list, toml_table
from dockrewrite.providers.python.runtime import uv_python_image

# Environment managers: they install into an environment of their own rather than where pip is aimed.
ENV_MANAGERS = frozenset({"poetry", "pipenv", "uv", "pdm"})


@dataclass(frozen=True)
class PythonFacts:
    """The original's single stage and its build context, as the python planner needs them."""

    image: str  # the FROM image resolved (ARGs expanded), or the python image a uv image is built on
    image_text: str  # the FROM image as written, or that python image
    uv_image: str | None  # the python image an astral-sh/uv python image is built on
    alpine: bool  # the image is an alpine (musl) one
    has_command: bool  # a CMD or an ENTRYPOINT
    items: tuple[Item, ...]  # every instruction, RUNs classified by what their segments do
    unsplittable: int | None  # the line of a RUN that mixes installs and app steps through pipes, `||` or heredocs
    last_dep: int  # index in items of the last RUN the builder must run; -1 when there is none
    installs: bool  # a pip, Poetry, Pipenv or uv install
    managers: frozenset[str]  # the environment managers (poetry, pipenv, uv, pdm) the installs run
    uses_uv: bool  # uv sync/run/venv/python: uv may bring its own Python
    user: str | None  # the last USER, as written
    workdir: str  # the final working directory
    env: Mapping[str, str]  # the stage's ENV
    ports: tuple[str, ...]  # what EXPOSE lines name
    copies: tuple[tuple[Instruction, str, tuple[str, ...]], ...]  # COPY/ADD from the context, with dest
    pyproject: dict | None  # the context's pyproject.toml, parsed; None when there is none or it is not TOML
    poetry_version: tuple[int, ...] | None  # the Poetry version the Dockerfile pins, None when it floats
    dev_only: frozenset[str]  # packages only the dev group (Poetry's, uv's) has


def analyse(reader: Planner) -> PythonFacts:
    """The facts of the reader's stage and context; `reader` is the shared Planner, for its WORKDIR walk."""
    stage, model, ctx = reader.stage, reader.model, reader.ctx
    image = resolved_image(model)
    image_text = stage.image
    uv_image = uv_python_image(image)
    if uv_image:
        image = image_text = uv_image
    items, unsplittable = classify(stage)
    last_dep = max(
        (i for i, it in enumerate(items) if it.role in ("builder", "split") and not runtime_only(it)),
        default=-1,
    )
    segments = [s for it in items for s in it.segments]
    pyproject = read_toml(ctx.read_text("pyproject.toml"))
    user = stage.last("USER")
    return PythonFacts(
        image=image,
        image_text=image_text,
        uv_image=uv_image,
        alpine="alpine" in images.tag_of(image),
        has_command=stage.last("CMD") is not None or stage.last("ENTRYPOINT") is not None,
        items=items,
        unsplittable=unsplittable,
        last_dep=last_dep,
        installs=any(s.kind == deps.PIP for s in segments),
        managers=frozenset({s.words[0] for s in segments if s.kind == deps.PIP and s.words} & ENV_MANAGERS),
        uses_uv=any(
            s.words[:1] == ["uv"] and s.words[1:2] in (["sync"], ["run"], ["venv"], ["python"]) for s in segments
        ),
        user=" ".join(user.args) if user is not None else None,
        workdir=reader.last_workdir(),
        env=stage_env(stage),
        ports=tuple(a for ins in stage.find("EXPOSE") for a in ins.args),
        copies=tuple((ins, dest, tuple(sources)) for ins, dest, sources in reader.context_copies()),
        pyproject=pyproject,
        poetry_version=poetry_version(model, stage),
        dev_only=dev_only(pyproject),
    )


def classify(stage: Stage) -> tuple[tuple[Item, ...], int | None]:
    """Each instruction with its role (builder, runtime, split, neutral, meta), and the line of the first RUN
    whose installs and app steps cannot be separated (None when all can)."""
    items: list[Item] = []
    unsplittable = None
    for ins in stage.instructions:
        if ins.keyword != "RUN":
            items.append(Item(ins, "meta", []))
            continue
        # cache and bind mounts only speed up the step; it is classified like any other
        segments = deps.classify(ins.shell)
        kinds = {s.kind for s in segments}
        has_dep = bool(kinds & {deps.SYSTEM, deps.PIP, deps.TOOL})
        has_app = deps.APP in kinds
        if has_dep and has_app:
            if unsplittable is None and (re.search(r"\|\||(?<!\|)\|(?!\|)", ins.shell) or ins.heredocs):
                unsplittable = ins.line
            role = "split"
        elif has_dep:
            role = "builder"
        elif has_app:
            role = "runtime"
        else:
            role = "neutral"
        items.append(Item(ins, role, segments))
    return tuple(items), unsplittable


def runtime_only(it: Item) -> bool:
    """A RUN that only installs system packages the app uses at run time (nginx, ffmpeg, libpq5): the
    runtime installs them itself, so the builder need not run it, nor copy what comes before it."""
    segments = [s for s in it.segments if s.kind != deps.NEUTRAL]
    return any(s.packages for s in segments) and all(
        s.kind == deps.SYSTEM
        and "--virtual" not in s.words
        and not any(syslibs.is_dev(p) or p in syslibs.BUILD_ONLY for p in s.packages)
        for s in segments
    )


def poetry_version(model: DockerfileModel, stage: Stage) -> tuple[int, ...] | None:
    """The Poetry version the Dockerfile pins (`poetry==1.8.3`, POETRY_VERSION), None when it floats."""
    values = dict(global_args(model))
    for ins in stage.find("ARG"):
        for item in ins.args:
            key, _, value = item.partition("=")
            values[key] = value.strip("\"'")
    values.update(stage_env(stage))
    value = values.get("POETRY_VERSION")  # the official installer reads it too
    for ins in stage.instructions:
        found = re.search(r"poetry(?:==|~=|===)\s*([\d.]+)|POETRY_VERSION=[\"']?([\d.]+)", ins.text)
        value = (found.group(1) or found.group(2)) if found else value
        if not found and re.search(r"poetry\s*(?:>=\s*[\d.]+\s*,\s*)?<\s*2(\.0)*(?![\d.])", ins.text):
            value = "1.8"  # `poetry<2`: the last 1.x
    numbers = re.match(r"(\d+)\.(\d+)", value or "")
    return (int(numbers.group(1)), int(numbers.group(2))) if numbers else None


def dev_only(pyproject: dict | None) -> frozenset[str]:
    """Packages only the `dev` group has: Poetry's group.dev / dev-dependencies, or [dependency-groups] dev /
    tool.uv.dev-dependencies for uv, less the project's own dependencies."""
    data = pyproject or {}
    poetry = toml_table(data, "tool", "poetry")
    main = {deps.spec_name(d) for d in toml_list(toml_table(data, "project").get("dependencies")) if isinstance(d, str)}
    main |= {deps.normalize(n) for n in toml_table(poetry, "dependencies") if n != "python"}
    dev = {deps.normalize(n) for n in toml_table(poetry, "group", "dev", "dependencies")}
    dev |= {deps.normalize(n) for n in toml_table(poetry, "dev-dependencies")}
    uv_dev = toml_list(toml_table(data, "dependency-groups").get("dev")) + toml_list(
        toml_table(data, "tool", "uv").get("dev-dependencies")
    )
    dev |= {deps.spec_name(d) for d in uv_dev if isinstance(d, str)}
    return frozenset(dev - main - {""})
