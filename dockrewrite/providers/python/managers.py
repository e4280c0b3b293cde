"""Poetry, uv and Pipenv commands as the builder runs them: dev group left out, flags their version knows."""

from __future__ import annotations

import re

from dockrewrite.providers.python import deps
from dockrewrite.providers.python.layout import VENV
from dockrewrite.providers.python.pyproject import poetry_groups, read_toml, toml_table


class EnvManagers:
    """Planner methods that rewrite the install commands of environment managers."""

    @staticmethod
    def _pipenv(seg: deps.Segment) -> str:
        # Pipenv installs into the activated environment (VIRTUAL_ENV), with or without --system.
        return seg.text

    def _env_manager(self, seg: deps.Segment) -> str:
        words = seg.words
        text = seg.text
        if words[0] == "uv" and words[1:2] == ["sync"]:
            lead, body = text[: len(text) - len(text.lstrip())], text.lstrip()
            if self.keep_dev:
                pass  # the command runs a dev-group program; _dev_tools_at_run_time said so
            elif not {"--no-dev", "--only-dev"} & set(words) and not any(w.startswith("--group") for w in words):
                # the runtime gets the project's dependencies, not its dev group
                body = re.sub(r"\bsync\b", "sync --no-dev", body, count=1)
                self.note("DR409", "`uv sync` gets --no-dev: the dev dependency group stays out of the runtime")
            body = self._uv_locked(body, words)
            return f"{lead}UV_PROJECT_ENVIRONMENT={VENV} {body}"
        if words[0] == "uv" and words[1:3] == ["pip", "install"]:
            return re.sub(r"(?<!\S)--system(?!\S)\s*", "", text)
        if words[0] == "poetry" and words[1:2] == ["install"]:
            return self._poetry_install(text, words)
        # Poetry and Pipenv install into the active environment (VIRTUAL_ENV) as they are.
        return text

    def _uv_locked(self, body: str, words: list[str]) -> str:
        """`uv sync` installs exactly uv.lock (`--locked`) when the lock records every project dependency; a
        lock that does not is left to re-resolve as in the original, and said."""
        lock = read_toml(self.ctx.read_text("uv.lock"))
        if lock is None or not toml_table(self.facts.pyproject, "project"):
            return body
        missing = deps.uv_lock_disagreement(self.facts.pyproject, lock)
        if "--frozen" in words:
            return body
        if "--locked" in words:
            if missing:
                self.note(
                    "DR402",
                    f"uv.lock does not record {', '.join(missing)} of pyproject.toml: `uv sync --locked` fails, in "
                    "the original too (run `uv lock`)",
                )
            return body
        if missing:
            self.note(
                "DR402",
                f"uv.lock does not record {', '.join(missing)} of pyproject.toml: `uv sync` re-resolves at build "
                "time as the original did (run `uv lock` to make the install reproducible)",
            )
            return body
        self.note("DR401", "`uv sync` gets --locked: uv.lock records the project's dependencies, so it installs them")
        return re.sub(r"\bsync\b", "sync --locked", body, count=1)

    def _poetry_install(self, text: str, words: list[str]) -> str:
        """`poetry install` as the runtime needs it: the dev group left out, flags the pinned Poetry knows."""
        lock = self.ctx.read_text("poetry.lock") if self.facts.pyproject is not None else None
        if lock and deps.poetry_lock_fresh(self.facts.pyproject, lock) is False:
            self.note(
                "DR402",
                "poetry.lock's content-hash does not match pyproject.toml (the lock is older than the project's "
                "dependencies; Poetry 1.8+ refuses to install from it, older versions warn): the install is kept "
                "as the original wrote it",
            )
            return text
        text = self._poetry_removed_flags(text, words)
        version = self.facts.poetry_version
        if "--no-dev" in words and (version is None or version >= (2, 0)):
            # Poetry 2 removed --no-dev; --without dev is what it meant since 1.2
            self.note(
                "DR406",
                "`poetry install --no-dev` becomes --without dev: Poetry "
                + (f"{version[0]}.{version[1]}" if version else "unpinned here, so the latest (2.x),")
                + " has no --no-dev option and the original's install fails with it",
            )
            return re.sub(r"(?<!\S)--no-dev(?!\S)", "--without dev", text)
        if any(w.startswith(("--only", "--without", "--no-dev", "--with")) for w in words):
            return text
        return self._poetry_without_dev(text)

    def _poetry_removed_flags(self, text: str, words: list[str]) -> str:
        """Options Poetry 2.0 removed, in their current form when the Dockerfile's Poetry is 2.x (pinned, or
        unpinned = the latest): `install --remove-untracked` -> `--sync`, `lock --no-update` (the default
        since) -> nothing, `lock --check` -> `poetry check --lock`. (`install --no-dev`: _poetry_install.)"""
        version = self.facts.poetry_version
        if version is not None and version < (2, 0):
            return text
        changes = {
            "--remove-untracked": ("install", "--sync"),
            "--no-update": ("lock", ""),
            "--check": ("lock", None),
        }
        for flag, (command, current) in changes.items():
            if words[1:2] != [command] or flag not in words:
                continue
            pinned = f"Poetry {version[0]}.{version[1]}" if version else "Poetry (unpinned here, so the latest, 2.x)"
            if current is None:
                text = re.sub(r"\block\b", "check", text, count=1)
                text = re.sub(r"(?<!\S)--check(?!\S)", "--lock", text)
                self.note("DR406", f"`poetry lock --check` becomes `poetry check --lock`: {pinned} has no lock --check")
                continue
            text = re.sub(rf"\s*(?<!\S){re.escape(flag)}(?!\S)", f" {current}" if current else "", text)
            self.note(
                "DR406",
                f"`poetry {command} {flag}` "
                + (f"becomes {current}" if current else "loses the flag (what it asked for is the default now)")
                + f": {pinned} has no {flag} and the original fails with it",
            )
        return text

    def _poetry_without_dev(self, text: str) -> str:
        """`poetry install` installs the dev group too; the runtime copies the environment, so leave it out."""
        groups = poetry_groups(self.facts.pyproject)
        if groups is None:
            self.note(
                "DR404",
                "`poetry install` installs the dev group too, and pyproject.toml could not be read to tell: add "
                "`--without dev` (Poetry 1.2+) or `--no-dev` (older) if it has one",
            )
            return text
        if "dev" not in groups or self.keep_dev:
            return text  # nothing to leave out, or the command needs it (_dev_tools_at_run_time said so)
        version = self.facts.poetry_version
        flag = "--no-dev" if version is not None and version < (1, 2) else "--without dev"
        self.note(
            "DR409",
            f"`poetry install` gets {flag}: the dev dependencies stay out of the runtime"
            + ("" if version else " (Poetry's version is not pinned here, so 1.2+ is assumed)"),
        )
        return re.sub(r"\binstall\b", f"install {flag}", text, count=1)
