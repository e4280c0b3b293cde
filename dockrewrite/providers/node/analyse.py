"""The original's instructions walked once: build arguments, workdirs, which COPY brings manifests or sources."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from dockrewrite import shell
from dockrewrite.model import Instruction
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node import package as npkg
from dockrewrite.results import Skip

MANIFEST_NAMES = (
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".pnpmfile.cjs",
    "pnpm-workspace.yaml",
    ".yarn",
    "patches",
    ".nvmrc",
    ".node-version",
)


class Analysis:
    """The original's stage walked once, and the checks that refuse what the rewrite cannot split."""

    def _node_version_notes(self) -> None:
        """.nvmrc, .node-version and engines.node against the base image's major. The runtime image is always the
        builder's Node (slim/alpine of the same tag, distroless of the same major), so the app keeps running on
        the Node the original ran; when that is not the Node the project asks for, say so loudly."""
        image = self.stage.image
        for where, spec in npkg.wanted_node(self.ctx, self.pkg):
            if self.major is None:
                self.warnings.append(
                    f"{where} asks for Node `{spec}`, and {image} does not say which Node it has: the builder and the "
                    "runtime run whatever that tag is when they are built, the same floating tag for both; pin a major"
                )
                continue
            if npkg.node_major_allowed(self.major, spec) is False:
                self.warnings.append(
                    f"NODE VERSION MISMATCH: {where} asks for Node `{spec}`, but {image} has Node {self.major}; the "
                    f"builder and the runtime both run Node {self.major}, as the original did (not what {where} "
                    f"asks for): change the FROM tag to a Node that satisfies `{spec}`"
                )

    def _refuse_outside_command(self) -> None:
        """With no CMD the command comes from compose or docker run; a global CLI the original installs
        (`ng`, `nodemon`) is most likely what it runs, and the runtime only carries CLIs its own command uses."""
        for it in self.items:
            for seg in it.segments:
                tools_ = [g for g in seg.globals_ if g not in ("npm", "yarn", "pnpm", "corepack")]
                if seg.kind == cmds.GLOBAL and tools_:
                    raise Skip(
                        f"no CMD or ENTRYPOINT, and `{seg.text.strip()}` installs {', '.join(tools_)}, which the "
                        "command given from outside most likely runs; the runtime would not have it",
                        it.ins.line,
                    )

    def _global_args(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for ins in self.model.global_args:
            for item in ins.args:
                key, _, value = item.partition("=")
                values[key] = value.strip("\"'")
        return values

    def _line_naming(self, name: str) -> int | None:
        """The COPY/ADD that brings a context file in, by name, pattern or the whole context."""
        for ins in self.stage.find("COPY", "ADD"):
            if ins.flag("from") is None and any(
                s.rstrip("/") in (".", "") or fnmatch.fnmatch(name, s.lstrip("./")) for s in ins.args[:-1]
            ):
                return ins.line
        return None

    def _walk(self) -> list[Item]:
        items: list[Item] = []
        workdir = "/"
        env = dict(self.args)
        for ins in self.stage.instructions:
            item = Item(ins, workdir=workdir)
            k = ins.keyword
            if k == "WORKDIR":
                target = shell.substitute(ins.args[0] if ins.args else "/", env)
                if target is None:
                    raise Skip(f"WORKDIR {ins.args[0]} depends on a build argument without a default", ins.line)
                workdir = shell.resolve(workdir, target.strip("\"'"))
                item.workdir = workdir
            elif k in ("ARG", "ENV"):
                pairs = (
                    [(a.partition("=")[0], a.partition("=")[2]) for a in ins.args]
                    if k == "ARG"
                    else [(ins.args[i], ins.args[i + 1]) for i in range(0, len(ins.args) - 1, 2)]
                )
                for key, value in pairs:
                    env[key] = shell.substitute(value.strip("\"'"), env) or value
            elif k in ("COPY", "ADD") and ins.flag("from") is None:
                sources = [s for s in ins.args[:-1]]
                if k == "ADD" and any(re.match(r"^(https?|git)[:@]", s) for s in sources):
                    raise Skip("ADD from a URL: what it fetches cannot be placed in a stage safely", ins.line)
                if ins.heredocs:
                    raise Skip("COPY with a heredoc is not supported in Node rewrites", ins.line)
                if sources and all(is_manifest(s) for s in sources):
                    item.manifest_copy = True
                else:
                    item.source_copy = True
            elif k == "RUN":
                item.segments = cmds.classify(ins.shell)
                if ins.heredocs and any(s.kind in (cmds.INSTALL, cmds.BUILD, cmds.FS) for s in item.segments):
                    # FS steps are replayed in the runtime one per line, and a heredoc script's lines (comments,
                    # continuations) cannot be lifted out of it: the replayed RUN swallowed the next instruction
                    raise Skip(
                        "a heredoc RUN that installs, builds or sets up files cannot be split into stages", ins.line
                    )
            items.append(item)
        self.final_workdir = workdir
        return items

    def _env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for ins in self.stage.find("ENV"):
            for i in range(0, len(ins.args) - 1, 2):
                env[ins.args[i]] = ins.args[i + 1].strip("\"'")
        return env


@dataclass
class Item:
    ins: Instruction
    segments: list[cmds.Segment] = field(default_factory=list)
    workdir: str = "/"
    source_copy: bool = False  # COPY/ADD of app sources from the context
    manifest_copy: bool = False  # COPY of package.json/lockfiles only


def is_manifest(source: str) -> bool:
    name = source.rstrip("/")
    name = name[2:] if name.startswith("./") else name
    if name in MANIFEST_NAMES:
        return True
    return bool(re.fullmatch(r"package[^/]*\.json|\*\.json|[^/]*lock[^/]*", name)) and "/" not in name
