"""How the packages reach the runtime: prefix, venv or user site, uv's own Python, split requirement stages."""

from __future__ import annotations

import re

from dockrewrite import ops
from dockrewrite.providers.python import deps
from dockrewrite.providers.python.layout import PREFIX, UV_PYTHON, VENV, Item
from dockrewrite.providers.python.pyproject import toml_table
from dockrewrite.providers.python.runtime import APP_UID
from dockrewrite.results import Skip

_DEV_FILES = (
    "requirements.dev.txt",
    "requirements-dev.txt",
    "dev-requirements.txt",
    "requirements_dev.txt",
    "requirements/dev.txt",
    "requirements/development.txt",
    "requirements/local.txt",
)
_PROD_FILES = (
    "requirements.prod.txt",
    "requirements-prod.txt",
    "prod-requirements.txt",
    "requirements_prod.txt",
    "requirements/prod.txt",
    "requirements/production.txt",
)
_BASE_FILES = ("requirements.txt", "requirements/base.txt", "requirements/common.txt")


class InstallStrategy:
    """Planner methods that choose where the dependencies are installed and how the runtime gets them."""

    def _strategy(self, items: list[Item]) -> str:
        env_managers = self.facts.managers
        requested = self.options.python_strategy
        if self.distroless:
            return self._distroless_strategy(requested)
        if env_managers and requested in ("prefix", "user"):
            tool = sorted(env_managers)[0]
            raise Skip(
                f"{tool} installs into an environment; --python-strategy {requested} cannot hold it; use venv",
                next(it.ins.line for it in items if any(s.words[:1] == [tool] for s in it.segments)),
            )
        if requested != "auto":
            if self.split and requested != "venv":
                raise Skip(
                    f"split requirement targets share one environment between stages; --python-strategy "
                    f"{requested} cannot; use venv",
                    self.stage.from_.line,
                )
            return requested
        if self.split:
            return "venv"
        if env_managers:
            self.note(
                "DR106",
                f"strategy venv: {', '.join(sorted(env_managers))} installs into {VENV}, which the runtime copies "
                "whole "
                + (
                    f"with uv's Python from {UV_PYTHON}" if self.uv_python else "(same interpreter path in both images)"
                ),
            )
            return "venv"
        self.note(
            "DR106",
            f"strategy prefix: packages installed under {PREFIX} in the builder are copied onto "
            "/usr/local, where the official python images keep site-packages and scripts",
        )
        return "prefix"

    def _uv_python(self, items: list[Item]) -> str | None:
        """The Python uv installs for itself when the image's does not fit the project (`requires-python`,
        `.python-version`, uv.lock): uv then downloads one, and the virtualenv's `python` points into it.
        None when uv uses the image's Python."""
        if not self.facts.uses_uv:
            return None
        version = self._runtime_python()
        have = tuple(int(p) for p in version.split(".")) if version else None
        asks: list[str] = []
        pinned = deps.python_version_file(self.ctx.read_text(".python-version") or "")
        if pinned:
            asks.append(f".python-version asks for {pinned[0]}.{pinned[1]}")
        requires = toml_table(self.facts.pyproject, "project").get("requires-python")
        lock_text = self.ctx.read_text("uv.lock") or ""
        lock_requires = re.search(r'(?m)^requires-python\s*=\s*"([^"]*)"', lock_text)
        specs = [("pyproject.toml's requires-python", requires)] + (
            [("uv.lock's requires-python", lock_requires.group(1))] if lock_requires else []
        )
        for it in items:
            for seg in it.segments:
                if seg.words[:3] == ["uv", "python", "install"]:
                    asks.append(f"`uv python install` (line {it.ins.line})")
        if have is None:
            if asks or any(isinstance(spec, str) and spec for _, spec in specs):
                self.note(
                    "DR501",
                    f"{self.facts.image_text} does not say which Python it has: if it does not fit the project's "
                    "requires-python/.python-version, uv downloads one and the virtualenv would not run",
                )
            return None
        mismatch = [a for a in asks if "python install" in a] + ([asks[0]] if pinned and pinned != have else [])
        for where, spec in specs:
            if isinstance(spec, str) and deps.admits_python(spec, have) is False:
                mismatch.append(f"{where} is {spec}")
        if not mismatch:
            return None
        reason = "; ".join(dict.fromkeys(mismatch))
        self._refuse_uv_python(reason, version)
        self.note(
            "DR501",
            f"the image has Python {version} but {reason}: uv downloads its own Python, which the builder puts "
            f"in {UV_PYTHON} (UV_PYTHON_INSTALL_DIR) and the runtime copies to the same path, so the "
            f"virtualenv's python exists there; the runtime image's own Python {version} is not the app's",
        )
        return reason

    def _split_requirements(self, items: list[Item]) -> dict[str, str] | None:
        """Base + dev (+ prod) requirement files installed together: {role: path as the pip command names it}."""
        named: dict[str, str] = {}
        for it in items:
            for seg in it.segments:
                if seg.kind != deps.PIP:
                    continue
                for path in deps.pip_targets(seg.words)[0]:
                    for role, candidates in (("base", _BASE_FILES), ("dev", _DEV_FILES), ("prod", _PROD_FILES)):
                        if any(path == c or path.endswith("/" + c) for c in candidates):
                            named.setdefault(role, path)
        for role, candidates in (("dev", _DEV_FILES), ("prod", _PROD_FILES)):
            if role not in named:
                found = next((c for c in candidates if self.ctx.exists(c)), None)
                if found:
                    named[role] = "./" + found
        if "base" not in named or "dev" not in named:
            return None
        self.note(
            "DR106",
            f"split requirements: stage `base` installs {named['base']}, `develop` adds {named['dev']} "
            "(docker build --target develop), and the default target `production` carries base"
            + (f" + {named['prod']}" if "prod" in named else "")
            + " only",
        )
        return named

    def _split_stages(self, runtime_steps: list[ops.Op]) -> tuple[list[list[ops.Op]], str]:
        split = self.split
        dev = split["dev"]
        develop = [
            ops.step(
                "FROM base AS develop",
                ("# Development target: docker build --target develop (compose: target: develop)",),
            ),
            ops.step(f"COPY {context_path(dev)} {dev}"),
            ops.step(f"RUN pip install --no-cache-dir -r {dev}"),
        ] + [s for s in runtime_steps if s is not self.added_user]
        stages = [develop]
        source = "base"
        if "prod" in split:
            prod = split["prod"]
            stages.append(
                [
                    ops.step("FROM base AS builder", ("# Production dependencies on top of the shared base",)),
                    ops.step(f"COPY {context_path(prod)} {prod}"),
                    ops.step(f"RUN pip install --no-cache-dir -r {prod}"),
                ]
            )
            source = "builder"
        return stages, source

    def _copy_packages(self, strategy: str, non_root: bool) -> list[ops.Op]:
        if strategy == "prefix":
            return [ops.step(f"COPY --from=builder {PREFIX} /usr/local")]
        if strategy == "venv":
            self.note(
                "DR603",
                f"ENV VIRTUAL_ENV={VENV} and {VENV}/bin first on PATH, so python and the "
                "installed scripts come from the virtualenv",
            )
            return [
                ops.step(f"COPY --from=builder {VENV} {VENV}"),
                ops.step(f'ENV VIRTUAL_ENV={VENV} PATH="{VENV}/bin:$PATH"'),
            ]
        home = "/home/app" if non_root else "/root"
        self.note(
            "DR603",
            f"ENV PYTHONUSERBASE={home}/.local and its bin first on PATH, where the user-site "
            "packages and scripts are copied",
        )
        chown = f"--chown={APP_UID}:{APP_UID} " if non_root else ""
        return [
            ops.step(f"COPY --from=builder {chown}/root/.local {home}/.local"),
            ops.step(f'ENV PYTHONUSERBASE={home}/.local PATH="{home}/.local/bin:$PATH"'),
        ]


def context_path(image_path: str) -> str:
    return image_path[2:] if image_path.startswith("./") else image_path.lstrip("/")
