"""What a rewrite changes in the runtime contract on purpose, as data the safety checks and verify read.

A provider declares an intent where it decides the change (a start script run directly, a USER the
runtime image has no name for, a static site served from nginx's document root); `verify` marks an
image difference intended only when an intent covers it, so rewording a note changes nothing it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

# Why the command changed; verify reports the reason next to the difference.
COMMAND_REASONS = {
    "start-script": "the package manager's start script, run directly",
    "go-run": "the program `go run` compiled at start, built once in the builder",
    "compiled-at-start": "the program compiled or watched at every start, run by node on the builder's output",
    "poe-task": "the command of the poe task the original ran, run directly",
    "static-site": "static files served by nginx instead of a Node server",
    "exec-form": "shell form became exec form (the runtime has no /bin/sh)",
    "dev-tool": "the dev-only program the original ran, replaced by what it runs",
}


@dataclass(frozen=True)
class CommandChanged:
    """CMD and/or ENTRYPOINT differ from the original's on purpose."""

    keywords: frozenset[str]
    reason: str  # a key of COMMAND_REASONS

    @property
    def why(self) -> str:
        return COMMAND_REASONS[self.reason]


@dataclass(frozen=True)
class EnvSet:
    """An ENV the runtime sets that the original's image did not (or set differently)."""

    key: str
    why: str


@dataclass(frozen=True)
class UserMapped:
    """The original's USER, which the runtime image has no name for, runs as these ids instead."""

    original: str
    new: str
    why: str = "the runtime image has no user of that name; the same ids are used"


@dataclass(frozen=True)
class WorkdirChanged:
    """The runtime's working directory differs from the original's on purpose."""

    path: str
    why: str


Intent = CommandChanged | EnvSet | UserMapped | WorkdirChanged


@dataclass(frozen=True)
class Declared:
    """Every intent of one rewrite, with the lookups the checks need."""

    intents: tuple[Intent, ...] = ()

    def command(self) -> CommandChanged | None:
        return next((i for i in self.intents if isinstance(i, CommandChanged)), None)

    def command_keywords(self) -> frozenset[str]:
        found: frozenset[str] = frozenset()
        for i in self.intents:
            if isinstance(i, CommandChanged):
                found |= i.keywords
        return found

    def env(self, key: str) -> EnvSet | None:
        return next((i for i in self.intents if isinstance(i, EnvSet) and i.key == key), None)

    def user(self) -> UserMapped | None:
        return next((i for i in self.intents if isinstance(i, UserMapped)), None)

    def workdir(self) -> WorkdirChanged | None:
        return next((i for i in self.intents if isinstance(i, WorkdirChanged)), None)
