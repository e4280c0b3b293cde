"""The builder stage: the original image and instructions, the go builds made static (or kept CGO), and a
dependency download step before the source is copied."""

from __future__ import annotations

import shlex

from dockrewrite import images, syslibs
from dockrewrite.contract import builder_instructions
from dockrewrite.model import Instruction
from dockrewrite.plan import Step
from dockrewrite.providers.common import Planner, resolved_image
from dockrewrite.providers.go import build as go_build
from dockrewrite.providers.go import sources as go_source
from dockrewrite.providers.go.walk import Walk
from dockrewrite.results import Skip


class BuilderMixin(Planner):
    """The planner's builder stage."""

    def _builder_steps(self, walk: Walk, cgo: bool, main: go_build.GoBuild) -> list[Step]:
        """The original's instructions under `FROM … AS builder`, with its go builds edited."""
        stage = self.stage
        builder = [Step(self._builder_from(), stage.from_.comments)]
        for ins in builder_instructions(stage):
            if ins is walk.context_copy and self._wants_download_step(walk):
                builder.extend(self._download_steps(ins))
            text = ins.text
            if ins.line in walk.build_lines:
                if ins.json:
                    # Exec-form RUN has no shell to set variables in; the same argv in shell form does.
                    flags = "".join(f"{f} " for f in ins.flags)
                    text = f"RUN {flags}{shlex.join(ins.args)}"
                edited = go_build.edit_run(text, make_static=not cgo, trimpath=self._supports_trimpath())
                if not cgo and "CGO_ENABLED=0" not in edited:
                    raise Skip("could not make this go build static (no CGO_ENABLED=0 could be added)", ins.line)
                text = edited
            builder.append(Step(text, ins.comments))
        if not cgo:
            trim = "-trimpath and " if self._supports_trimpath() else ""
            self.warnings.append(f'static binary: CGO_ENABLED=0, {trim}-ldflags "-s -w" (line {main.line})')
        return builder

    def _cgo(self, walk: Walk, src: go_source.GoSources, main: go_build.GoBuild) -> tuple[bool, str]:
        if main.cgo == "1":
            return True, f"CGO_ENABLED=1 (line {main.line})"
        if main.cgo == "0":
            return False, ""
        if main.flags.get("tags") and "netgo" not in main.flags["tags"] and "sqlite" in main.flags["tags"]:
            return True, f"build tags {main.flags['tags']} (line {main.line})"
        if src.uses_cgo:
            return True, src.cgo_reason
        for ins, _manager, names in walk.packages:
            libs = [n for n in names if n.endswith(("-dev", "-devel")) and n not in syslibs.BUILD_ONLY]
            if libs:
                return True, f"C libraries installed for the build: {', '.join(libs)} (line {ins.line})"
        return False, ""

    def _supports_trimpath(self) -> bool:
        minor = images.go_minor(resolved_image(self.model))
        return minor is None or minor >= 13  # -trimpath arrived in Go 1.13

    def _builder_from(self) -> str:
        platform = f"--platform={self.stage.platform} " if self.stage.platform else ""
        return f"FROM {platform}{self.stage.image} AS builder"

    def _keep_platform(self) -> bool:
        return bool(self.stage.platform) and "BUILDPLATFORM" not in self.stage.platform

    def _wants_download_step(self, walk: Walk) -> bool:
        if walk.manifests_copied or walk.downloads or walk.context_root is None:
            return False
        if self.ctx.is_dir("vendor") or "-mod=vendor" in walk.env.get("GOFLAGS", ""):
            return False
        return self.ctx.exists("go.mod")

    def _download_steps(self, copy_all: Instruction) -> list[Step]:
        dest = copy_all.args[-1]
        dest = "./" if dest in (".", "./") else dest if dest.endswith("/") else dest + "/"
        flags = " ".join(f for f in copy_all.flags if not f.lower().startswith("--from"))
        manifests = "go.mod go.sum" if self.ctx.exists("go.sum") else "go.mod"
        copy = f"COPY {flags + ' ' if flags else ''}{manifests} {dest}"
        return [
            Step(copy, ("# Dependencies first, so source edits do not download them again",)),
            Step("RUN go mod download"),
        ]
