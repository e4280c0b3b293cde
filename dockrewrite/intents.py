"""What a rewrite changes in the runtime contract on purpose, as data the safety checks and verify read.

A provider declares an intent where it decides the change (a start script run directly, a USER the
runtime image has no name for, a static site served from nginx's document root); `verify` marks an
image difference intended only when an intent covers it, so rewording a note changes nothing it accepts.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

# Why the command changed; verify reports the reason next to the difference.
COMMAND_REASONS = {
    "start-script": "the package manager's start script, run directly",
    "go-run": "the program `go run` compiled at start, built once in the builder",
    "compiled-at-start": "the program compiled or watched at every start, run by node on the builder's output",
    "poe-task": "the command of the poe task the original ran, run directly",
    "static-site": "static files served by nginx instead of a Node server",
}


@dataclass(frozen=True)
class CommandChanged:
    """The runtime starts `command` instead of what the original ran, on purpose. With `prefix`, only the
    command's first words are known (a program and not its arguments)."""

    reason: str  # a key of COMMAND_REASONS
    command: tuple[str, ...]
    prefix: bool = False

    @property
    def why(self) -> str:
        return COMMAND_REASONS[self.reason]

    def matches(self, argv: list[str] | tuple[str, ...]) -> bool:
        """Whether an image starting argv (its ENTRYPOINT + CMD) starts this command; programs compare by
        name, since the image may name them by path (/usr/local/bin/node), and the nginx image's entrypoint
        script runs the command it is given."""
        argv = list(argv)
        if argv[:1] == ["/docker-entrypoint.sh"]:
            argv = argv[1:]
        want = list(self.command)
        if not argv or not want or posixpath.basename(argv[0]) != posixpath.basename(want[0]):
            return False
        return argv[1 : len(want)] == want[1:] if self.prefix else argv[1:] == want[1:]


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

    def command(self, argv: list[str] | tuple[str, ...]) -> CommandChanged | None:
        """The declared command change that an image starting argv carries out."""
        return next((i for i in self.intents if isinstance(i, CommandChanged) and i.matches(argv)), None)

    def env(self, key: str) -> EnvSet | None:
        return next((i for i in self.intents if isinstance(i, EnvSet) and i.key == key), None)

    def user(self, new: str) -> UserMapped | None:
        return next((i for i in self.intents if isinstance(i, UserMapped) and i.new == new), None)

    def workdir(self) -> WorkdirChanged | None:
        return next((i for i in self.intents if isinstance(i, WorkdirChanged)), None)


def derived(runtime_ops, original) -> list[Intent]:
    """What the plan's runtime stage sets that the original's last stage did not: each ENV key whose value
    differs, and a USER other than the original's (both are the rewrite's own instructions, so on purpose)."""
    from dockrewrite.ops import Env, User

    before: dict[str, str] = {}
    for ins in original.find("ENV"):
        for i in range(0, len(ins.args) - 1, 2):
            before[ins.args[i]] = ins.args[i + 1]
    out: list[Intent] = []
    after: dict[str, str] = {}
    user = None
    for op in runtime_ops:
        if isinstance(op, Env):
            after.update(op.items())
        elif isinstance(op, User):
            user = op.user
    for key, value in after.items():
        if before.get(key) != value:
            why = "changed by the rewrite (see its notes)" if key in before else "added by the rewrite (see its notes)"
            out.append(EnvSet(key, why))
    was = original.last("USER")
    if user is not None and was is not None and was.args and was.args[0] != user:
        out.append(UserMapped(was.args[0], user))
    return out
