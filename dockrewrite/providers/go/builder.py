"""The builder stage: the original image and instructions, the go builds made static (or kept CGO), and a
dependency download step before the source is copied."""

from __future__ import annotations

import re
import shlex

from dockrewrite import ops
from dockrewrite.contract import builder_instructions
from dockrewrite.model import Instruction
from dockrewrite.providers.common import Planner
from dockrewrite.providers.go import build as go_build
from dockrewrite.providers.go.analyse import GoFacts
from dockrewrite.results import Skip


class BuilderMixin(Planner):
    """The planner's builder stage."""

    def _builder_steps(self, facts: GoFacts) -> list[ops.Op]:
        """The original's instructions under `FROM … AS builder`, with its go builds edited."""
        stage, cgo = self.stage, facts.cgo
        trimpath = _supports_trimpath(facts)
        builder = [ops.step(self._builder_from(), stage.from_.comments)]
        for ins in builder_instructions(stage):
            if ins is facts.context_copy and _wants_download_step(facts):
                builder.extend(_download_steps(facts, ins))
            text = ins.text
            if ins.line in facts.build_lines:
                if ins.json:
                    # Exec-form RUN has no shell to set variables in; the same argv in shell form does.
                    flags = "".join(f"{f} " for f in ins.flags)
                    text = f"RUN {flags}{shlex.join(ins.args)}"
                edited = go_build.edit_run(text, make_static=not cgo, trimpath=trimpath)
                if not cgo and "CGO_ENABLED=0" not in edited:
                    raise Skip("could not make this go build static (no CGO_ENABLED=0 could be added)", ins.line)
                text = edited
            builder.append(ops.step(text, ins.comments))
        if not cgo:
            trim = "-trimpath and " if trimpath else ""
            self.note("DR105", f'static binary: CGO_ENABLED=0, {trim}-ldflags "-s -w" (line {facts.main.line})')
        if _missing_go_sum(self.ctx, facts):
            self.note(
                "DR403",
                "go.mod requires modules and the context has no go.sum: on a clean checkout the build stops with "
                "`missing go.sum entry`, the original's as well; commit go.sum (`go mod tidy` writes it)",
            )
        return builder

    def _builder_from(self) -> str:
        platform = f"--platform={self.stage.platform} " if self.stage.platform else ""
        return f"FROM {platform}{self.stage.image} AS builder"

    def _keep_platform(self) -> bool:
        return bool(self.stage.platform) and "BUILDPLATFORM" not in self.stage.platform


_REQUIRE = re.compile(r"^\s*require\b", re.MULTILINE)


def _missing_go_sum(ctx, facts: GoFacts) -> bool:
    """A module build whose dependencies have no checksums: Go 1.16 and later refuse to build it."""
    if not facts.has_go_mod or facts.has_go_sum or facts.vendored or not ctx.known:
        return False
    if facts.go_minor is not None and facts.go_minor < 16:
        return False  # older go commands wrote go.sum themselves
    return bool(_REQUIRE.search(ctx.read_text("go.mod") or ""))


def _supports_trimpath(facts: GoFacts) -> bool:
    return facts.go_minor is None or facts.go_minor >= 13  # -trimpath arrived in Go 1.13


def _wants_download_step(facts: GoFacts) -> bool:
    if facts.manifests_copied or facts.downloads or facts.context_root is None or facts.vendored:
        return False
    return facts.has_go_mod


def _download_steps(facts: GoFacts, copy_all: Instruction) -> list[ops.Op]:
    dest = copy_all.args[-1]
    dest = "./" if dest in (".", "./") else dest if dest.endswith("/") else dest + "/"
    flags = " ".join(f for f in copy_all.flags if not f.lower().startswith("--from"))
    manifests = "go.mod go.sum" if facts.has_go_sum else "go.mod"
    copy = f"COPY {flags + ' ' if flags else ''}{manifests} {dest}"
    return [
        ops.step(copy, ("# Dependencies first, so source edits do not download them again",)),
        ops.step("RUN go mod download"),
    ]
