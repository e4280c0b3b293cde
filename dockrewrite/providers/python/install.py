"""The builder stage: the original's steps up to the last dependency install, aimed at where the runtime copies from."""

from __future__ import annotations

import posixpath
import re

from dockrewrite import images, ops, shell
from dockrewrite.providers.common import chain, run_prefix
from dockrewrite.providers.python import deps
from dockrewrite.providers.python.layout import BUILD_PROGRAMS, PIP_ITSELF, UV_PYTHON, VENV, Item
from dockrewrite.results import Skip


class BuilderStage:
    """Planner methods that write the builder stage."""

    def _builder(self, items: list[Item], last_dep: int, strategy: str) -> list[ops.Op]:
        stage = self.stage
        name = "base" if self.split else "builder"
        image = self._builder_image()
        steps = [ops.step(f"FROM {self._platform()}{image} AS {name}", stage.from_.comments)]
        venv_made = False
        self.venv_on_path = False
        narrowed = self._manifest_copies(items, last_dep)
        for it in items[: last_dep + 1]:
            ins = it.ins
            k = ins.keyword
            if ins.line in narrowed:
                steps.extend(narrowed[ins.line])
                continue
            if k in (
                "USER",
                "CMD",
                "ENTRYPOINT",
                "EXPOSE",
                "HEALTHCHECK",
                "LABEL",
                "STOPSIGNAL",
                "VOLUME",
                "MAINTAINER",
            ):
                continue
            if k != "RUN":
                steps.append(ops.step(ins.text, ins.comments))
                continue
            if it.role == "runtime":
                self._check_builder_app_step(it)
                steps.append(ops.step(ins.text, ins.comments))
                continue
            if it.role == "neutral":
                steps.append(ops.step(ins.text, ins.comments))
                continue
            needs_env = any(s.kind == deps.PIP and not deps.tool_only_install(s.words) for s in it.segments)
            if strategy == "venv" and needs_env and not venv_made:
                steps += self._make_venv(items, it)
                venv_made = True
            self.venv_on_path = venv_made
            text = self._builder_run(it, strategy)
            if text is not None:
                steps.append(ops.step(text, ins.comments))
        if strategy == "venv" and not venv_made:
            raise Skip("no dependency install to put into the virtualenv", stage.from_.line)
        return steps

    def _make_venv(self, items: list[Item], first: Item) -> list[ops.Op]:
        """The virtualenv, made just before `first`, the first RUN that installs into it."""
        if self.uv_python:
            return [
                ops.step(
                    f'ENV UV_PYTHON_INSTALL_DIR={UV_PYTHON} VIRTUAL_ENV={VENV} PATH="{VENV}/bin:$PATH"',
                    (
                        f"# uv downloads the Python the project asks for into {UV_PYTHON} (the runtime copies it",
                        f"# to the same path) and makes {VENV} with it",
                    ),
                )
            ]
        if not self._lean_venv(items, first):
            return [
                ops.step(
                    f"RUN python -m venv {VENV}", ("# Dependencies go into a virtualenv the runtime copies whole",)
                ),
                ops.step(f'ENV VIRTUAL_ENV={VENV} PATH="{VENV}/bin:$PATH"'),
            ]
        self.note(
            "DR105",
            f"{VENV} is made without pip and setuptools of its own: the image's pip installs into it "
            f"(PIP_PYTHON={VENV}/bin/python), so they do not reach the runtime",
        )
        return [
            ops.step(
                f"RUN python -m venv --without-pip {VENV}",
                (
                    "# Dependencies go into a virtualenv the runtime copies whole; the image's own pip",
                    "# installs into it, so pip itself stays out of the runtime",
                ),
            ),
            ops.step(f'ENV VIRTUAL_ENV={VENV} PATH="{VENV}/bin:$PATH" PIP_PYTHON={VENV}/bin/python'),
        ]

    def _lean_venv(self, items: list[Item], first: Item) -> bool:
        """Whether every install is a plain `pip install` the image's pip (22.3+, for PIP_PYTHON) can aim at
        the virtualenv. Floating tags only: a pinned old patch release may carry an older pip."""
        tag = images.tag_of(self.facts.image_text)
        if re.match(r"\d+\.\d+\.\d+", tag) or "$" in self.facts.image_text:
            return False
        version = images.python_version(self.facts.image_text)
        if version and tuple(int(p) for p in version.split(".")) < (3, 7):
            return False
        before_venv = True
        for it in items:
            before_venv = before_venv and it is not first
            for seg in it.segments:
                if seg.kind != deps.PIP:
                    continue
                if seg.words[:1] not in (["pip"], ["pip3"]) or seg.words[1:2] != ["install"]:
                    return False
                if deps.tool_only_install(seg.words) and not before_venv:
                    return False  # it would upgrade pip into the virtualenv
        return True

    @staticmethod
    def _tool_names(seg: deps.Segment) -> set[str]:
        return {deps.spec_name(s) for s in deps.pip_targets(seg.words)[1]}

    def _manifest_copies(self, items: list[Item], last_dep: int) -> dict[int, list[ops.Op]]:
        """`COPY . .` before the installs -> COPY of just the files the installs read, so editing the
        sources does not reinstall the dependencies. Only when the installs need nothing else."""
        if not self.ctx.known:
            return {}
        workdir = "/"
        copy_line, copy_dest, copy_ins = None, None, None
        needed: list[str] = []
        for it in items[: last_dep + 1]:
            ins = it.ins
            if ins.keyword == "WORKDIR" and ins.args:
                workdir = shell.resolve(workdir, ins.args[0])
            elif ins.keyword in ("COPY", "ADD") and ins.flag("from") is None and len(ins.args) >= 2:
                if any(a.rstrip("/") in (".", "") for a in ins.args[:-1]):
                    if copy_line is not None or len(ins.args) != 2 or ins.keyword == "ADD":
                        return {}
                    copy_line, copy_dest, copy_ins = ins.line, shell.resolve(workdir, ins.args[-1]), ins
            elif ins.keyword == "RUN" and copy_line is not None:
                if it.role in ("runtime", "split") or (it.role == "neutral" and it.segments):
                    return {}  # an app step between the copy and the installs may need the sources
                for seg in it.segments:
                    files = self._files_read_by(seg)
                    if files is None:
                        return {}
                    for f in files:
                        rel = posixpath.relpath(shell.resolve(workdir, f), copy_dest)
                        if rel.startswith("..") or not self.ctx.exists(rel):
                            return {}
                        included = deps.requirement_files(self.ctx, rel)
                        if deps.local_requirements(self.ctx, included):
                            return {}  # `-e .` in a requirements file: the installs need the sources
                        for path in included:
                            if path not in needed:
                                needed.append(path)
        if copy_line is None or not needed:
            return {}
        flags = "".join(f"{f} " for f in copy_ins.flags)
        dest = copy_ins.args[-1]
        top = [p for p in needed if "/" not in p]
        steps = []
        comment = ("# Only the files the installs read, so source edits do not reinstall the dependencies",)
        if top:
            slash = dest if dest.endswith("/") else dest + "/"
            steps.append(ops.step(f"COPY {flags}{' '.join(top)} {slash}", comment))
        for path in needed:
            if "/" in path:
                steps.append(ops.step(f"COPY {flags}{path} {posixpath.join(dest, path)}", () if steps else comment))
        self.note("DR303", f"the builder copies {', '.join(needed)} instead of the whole context (line {copy_line})")
        return {copy_line: steps}

    @staticmethod
    def _files_read_by(seg: deps.Segment) -> list[str] | None:
        """Files a dependency command reads from the context; None when it needs the sources."""
        if seg.kind in (deps.SYSTEM, deps.NEUTRAL, deps.TOOL) and seg.words[:1] != ["poetry"]:
            return []
        words = seg.words
        if seg.kind == deps.PIP and deps.is_pip(words) >= 0:
            files, _specs, local = deps.pip_targets(words)
            return None if local else files + deps.constraint_files(words)
        if words[:2] == ["pipenv", "install"] or words[:2] == ["pipenv", "sync"]:
            return ["Pipfile", "Pipfile.lock"]
        if words[:2] == ["poetry", "install"] and "--no-root" in words:
            return ["pyproject.toml", "poetry.lock"]
        if words[:2] == ["uv", "sync"] and "--no-install-project" in words:
            return ["pyproject.toml", "uv.lock"]
        if words[:1] == ["poetry"] and seg.kind == deps.TOOL:
            return [] if words[1:2] == ["config"] else None
        return None

    def _check_builder_app_step(self, it: Item) -> None:
        """An app step before the dependency installs runs in both stages; the runtime must be able to."""
        for seg in it.segments:
            if seg.kind == deps.APP and seg.words and posixpath.basename(seg.words[0]) in BUILD_PROGRAMS:
                raise Skip(
                    f"`{seg.words[0]}` runs before the dependencies are installed and its result cannot be "
                    "separated from them",
                    it.ins.line,
                )

    def _builder_run(self, it: Item, strategy: str) -> str | None:
        ins = it.ins
        prefix = run_prefix(ins.text)
        body = ins.text[len(prefix) :]
        if it.role == "split":
            kept = [s for s in it.segments if s.kind != deps.APP]
            body = chain("", kept)
        out = body
        cached = deps.mounts_pip_cache(ins.flags)
        # `python -m pipenv …`: the interpreter that has the tool, once the app's virtualenv is first on PATH
        tools_python = "/usr/local/bin/python" if self.venv_on_path else None
        for seg in reversed(deps.classify(body)):
            if seg.words[:2] == ["poetry", "lock"]:
                new = deps.with_module_python(self._poetry_removed_flags(seg.text, seg.words), tools_python)
                out = out[: seg.start] + new + out[seg.end :]
                continue
            if seg.kind != deps.PIP or not seg.words:
                if seg.words[:1] in (["pipenv"], ["poetry"], ["uv"], ["pdm"]):
                    out = out[: seg.start] + deps.with_module_python(seg.text, tools_python) + out[seg.end :]
                continue
            new = seg.text
            if seg.words[0] == "pipenv":
                new = self._pipenv(seg)
            elif seg.words[0] in ("poetry", "uv", "pdm"):
                new = self._env_manager(seg)
            elif seg.words[0].startswith("python") and "setup.py" in seg.words:
                new = deps.rewrite_pip(
                    re.sub(r"python3?\S*\s+setup\.py\s+install\b.*", "pip install .", seg.text), strategy, cached
                )
            elif deps.tool_only_install(seg.words):
                # Build tools (Poetry …) stay out of the environment the runtime copies: the image's own pip
                # installs them once the virtualenv is first on PATH.
                pip = "/usr/local/bin/pip" if self.venv_on_path else None
                if pip and self._tool_names(seg) - PIP_ITSELF:
                    new = re.sub(
                        r"^(\s*)(?:\S*/)?(?:pip3?(?:\.\d+)?|python3?(?:\.\d+)?\s+-m\s+pip)(?=\s)",
                        rf"\g<1>{pip}",
                        seg.text,
                    )
            else:
                if self.split:
                    new = deps.drop_requirement_files(
                        seg.text, [self.split[r] for r in ("dev", "prod") if r in self.split]
                    )
                    if new is None:
                        new = ""
                if not new:
                    pass
                elif strategy == "venv":
                    new = re.sub(r"(?<!\S)--system(?!\S)\s*", "", new)
                    new = deps.rewrite_pip(new, "venv", cached)
                else:
                    new = deps.rewrite_pip(new, strategy, cached)
            if seg.words[0] in ("pipenv", "poetry", "uv", "pdm"):
                new = deps.with_module_python(new, tools_python)
            out = out[: seg.start] + new + out[seg.end :]
        out = tidy_connectors(out)
        return prefix + out if out.strip() else None


def tidy_connectors(text: str) -> str:
    """Remove the `&&` left dangling where a command was taken out of a chain."""
    out = re.sub(r"&&(\s*\\?\s*)&&", "&&", text)
    out = re.sub(r"^\s*(\\\n)?\s*&&\s*(\\\n\s*)?", "", out)
    previous = None
    while out != previous:  # each cut below can expose the next: `… \` / `# note` / `&& \`
        previous = out
        # a chain cut after a continuation line ends in `\` and the comment lines it ran into: nothing follows
        lines = out.rstrip().split("\n")
        while len(lines) > 1 and lines[-1].lstrip().startswith("#"):
            lines.pop()
        out = "\n".join(lines).rstrip()
        # a removed last command leaves `… \` + `&&` (either side of the line break) at the end
        out = re.sub(r"(\s|\\\n)*&&(\s|\\)*$", "", out)
        if out.endswith("\\") and not out.endswith("\\\\"):
            out = out[:-1].rstrip()
    return out
