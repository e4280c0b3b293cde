"""Pieces every language provider uses the same way."""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
from dataclasses import dataclass

from dockrewrite import needs_root, scripts, shell, tools
from dockrewrite.context import BuildContext
from dockrewrite.model import Command, DockerfileModel, Instruction, Stage
from dockrewrite.notes import note
from dockrewrite.plan import Options
from dockrewrite.results import Skip

_RUN_PREFIX = re.compile(r"(?is)^\s*run\b(?:\s|\\\n)*(?:--\S+(?:\s|\\\n)+)*")


def run_prefix(text: str) -> str:
    """`RUN --mount=… ` at the start of a RUN instruction's text: what precedes the command."""
    m = _RUN_PREFIX.match(text)
    return text[: m.end()] if m else "RUN "


_PLAIN_NAME = re.compile(r"^[\w./@%+=:,~^-]+$")


def copy_text(flags: str, sources: list[str], dest: str, escape: str = "\\") -> str:
    """`COPY <flags>src… dest`, in JSON form when a name has spaces, quotes, `$` or glob characters.

    Docker runs both forms through its word processing (quotes, escapes, `$VAR`) and treats sources as
    globs, so the JSON strings are escaped for both (tried on BuildKit and the legacy builder): `$`,
    quotes and the escape character get the escape character, and `*`, `?`, `[` become one-character
    classes (`[*]`) that match only themselves. Backslashes cannot be escaped for BuildKit's context
    transfer; the planner refuses such names before it gets here."""
    words = [*sources, dest]
    if all(_PLAIN_NAME.match(w) for w in words):
        return f"COPY {flags}{' '.join(words)}"
    special = {"$", '"', "'", escape}

    def lex(word: str) -> str:
        return "".join(escape + c if c in special else c for c in word)

    def literal(word: str) -> str:
        return "".join(f"[{c}]" if c in "*?[" else c for c in word)

    return f"COPY {flags}" + json.dumps([lex(literal(s)) for s in sources] + [lex(dest)], ensure_ascii=False)


def chain(prefix: str, segments) -> str:
    """A RUN made of some of another RUN's commands (the rest went to another stage), one per line."""
    return prefix + " \\\n && ".join(s.text.strip() for s in segments)


def healthcheck_command(ins: Instruction) -> Command:
    """The command of `HEALTHCHECK CMD …`. `|| exit 1` only maps failures to 1, which Docker already treats as
    unhealthy, so it does not make the check need a shell."""
    if ins.json:
        return Command(True, tuple(ins.args[1:]))
    text = ins.args[1] if len(ins.args) > 1 else ""
    return Command(False, shell=re.sub(r"\s*\|\|\s*exit\s+1\s*$", "", text))


def healthcheck_exec(ins: Instruction, argv: list[str] | tuple[str, ...]) -> str:
    """`HEALTHCHECK [options] CMD ["…"]` with the original's options, for a base with no shell to run a
    shell-form check (or whose programs live elsewhere)."""
    head = re.match(r"(?is)^(.*?\bCMD)\s", ins.text)
    return f"{head.group(1) if head else 'HEALTHCHECK CMD'} {json.dumps(list(argv))}"


def global_args(model: DockerfileModel) -> dict[str, str]:
    """Defaults of the ARGs declared before the first FROM."""
    values: dict[str, str] = {}
    for ins in model.global_args:
        for item in ins.args:
            key, _, value = item.partition("=")
            values[key] = value.strip("\"'")
    return values


def resolved_image(model: DockerfileModel) -> str:
    """The first stage's image with ARG defaults filled in (for analysis; the output keeps the ARGs)."""
    image = model.stages[0].image
    return shell.substitute(image, global_args(model)) or image


# PATH of the Debian and alpine base images, where a bare program name is looked up.
DEFAULT_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


@dataclass(frozen=True)
class EntryScript:
    path: str  # where the image has it
    source: str  # the build-context file it was copied from
    script: scripts.Script


class Planner:
    """What every language's planner starts from: the single stage, its inputs, and the notes it collects."""

    def __init__(self, model: DockerfileModel, ctx: BuildContext, options: Options):
        self.model = model
        self.ctx = ctx
        self.options = options
        self.stage: Stage = model.stages[0]
        self.warnings: list[str] = []
        self.rewritten: set[str] = set()  # CMD/ENTRYPOINT changed on purpose (the safety checks allow it)
        self._scripts_noted: list[EntryScript] = []
        self.loads: list[str] = []  # context files the app loads at start (.env …), which the runtime carries
        self.intents: list = []  # contract changes made on purpose (dockrewrite/intents.py), for verify
        if not options.keep_root and self.stage.last("USER") is None:
            why = self._root_reason()
            if why:
                self.options = dataclasses.replace(options, keep_root=True)
                self.warnings.append(note("DR203", f"the runtime runs as root, as the original did: {why}"))

    def _root_reason(self) -> str | None:
        programs: list[str] = []
        for ins in self.stage.find("CMD", "ENTRYPOINT"):
            found = self.entry_script(Command.of(ins)) if ins.args else None
            programs += [p for p, _ in found.script.programs] if found else []
        return needs_root.reason(self.stage, self.ctx, programs)

    # `ENTRYPOINT []` (exec form, empty) resets the base image's entrypoint; a planner that carries it says so
    command_reset_ok = False

    def refuse_unsupported(self) -> None:
        """Instructions no rewrite can carry safely into a split build."""
        for ins in self.stage.instructions:
            reset = ins.json and ins.keyword in ("ENTRYPOINT", "CMD")
            if not ins.args and not ins.heredocs and not (reset and self.command_reset_ok):
                raise Skip(f"{ins.keyword} has nothing after it; Docker gives such a line no clear meaning", ins.line)
            if ins.keyword == "ONBUILD":
                raise Skip(
                    "ONBUILD triggers run in images built FROM this one; splitting stages would move them", ins.line
                )
            if ins.keyword == "SHELL":
                raise Skip("SHELL changes how every later command runs; not supported yet", ins.line)

    def declare(self, intent) -> None:
        """Record a change to the runtime contract made on purpose (verify accepts it, and only it)."""
        self.intents.append(intent)

    def note(self, code: str, text: str) -> None:
        """Add a note for the user, with its stable code (dockrewrite/notes.py)."""
        self.warnings.append(note(code, text))

    def start_dir(self) -> str:
        """The working directory the base image starts in (WORKDIR lines are relative to it)."""
        return "/"

    def start_env(self) -> dict[str, str]:
        """Variables the base image sets that WORKDIR lines may name (`WORKDIR $GOPATH/src/app`)."""
        return {}

    def workdirs(self):
        """(instruction, the working directory it runs in) for each instruction of the stage, with the $VARS
        that ENV, ARG defaults and the base image give expanded (an unknown variable is kept as written)."""
        workdir = self.start_dir()
        values = dict(self.start_env())
        for ins in self.stage.instructions:
            if ins.keyword == "ENV":
                for i in range(0, len(ins.args) - 1, 2):
                    raw = ins.args[i + 1].strip("\"'")
                    values[ins.args[i]] = shell.substitute(raw, values) or raw
            elif ins.keyword == "ARG":
                for item in ins.args:
                    key, sep, default = item.partition("=")
                    if sep:
                        values.setdefault(key, default.strip("\"'"))
            elif ins.keyword == "WORKDIR":
                target = ins.args[0].strip("\"'") if ins.args else "/"
                workdir = shell.resolve(workdir, shell.substitute(target, values) or target)
            yield ins, workdir

    def last_workdir(self) -> str:
        """The final working directory (see workdirs)."""
        last = self.start_dir()
        for _, workdir in self.workdirs():
            last = workdir
        return last

    def context_copies(self):
        """(instruction, absolute destination, sources) of each COPY/ADD from the build context."""
        for ins, workdir in self.workdirs():
            if ins.keyword in ("COPY", "ADD") and ins.flag("from") is None and len(ins.args) >= 2:
                yield ins, shell.resolve(workdir, ins.args[-1]), list(ins.args[:-1])

    def copied_file(self, path: str) -> str | None:
        """The build-context file a path in the image was copied from (COPY/ADD without --from), if it can be
        told. `path` is resolved against the final WORKDIR."""
        if not self.ctx.known:
            return None
        target = shell.resolve(self.last_workdir(), path)
        for _ins, dest, sources in self.context_copies():
            for src in sources:
                src = src.strip("/") if src.strip("/") not in ("", ".") else ""
                if target == dest and src:
                    candidate = src
                elif target.startswith(dest.rstrip("/") + "/"):
                    rest = target[len(dest.rstrip("/")) + 1 :]
                    candidate = posixpath.join(src, rest) if src else rest
                    if src and not self.ctx.exists(candidate) and posixpath.basename(src) == rest:
                        candidate = src  # COPY file.sh /dir/ puts it at /dir/file.sh
                else:
                    continue
                if self.ctx.exists(candidate) and not self.ctx.is_dir(candidate):
                    return candidate
        return None

    def copies_entry(self, rel: str) -> bool:
        """Whether a COPY/ADD from the build context put this context file into the image (`COPY . .`, a COPY of
        the file or of a folder above it); what .dockerignore leaves out is not there."""
        if not self.ctx.known or not self.ctx.exists(rel):
            return False
        for ins in self.stage.find("COPY", "ADD"):
            if ins.flag("from") is not None or len(ins.args) < 2:
                continue
            for src in ins.args[:-1]:
                src = posixpath.normpath(src.lstrip("/"))
                if src == "." or rel == src or rel.startswith(src + "/"):
                    return True
        return False

    def entry_script(self, command: Command) -> EntryScript | None:
        """The shell script from the build context a command starts (`./docker-entrypoint.sh`, `sh run.sh`)."""
        argv = command.as_simple_argv() or ()
        path = None
        if argv and posixpath.basename(argv[0]) in tools.SHELLS and len(argv) > 1 and not argv[1].startswith("-"):
            path = argv[1]
        elif argv and ("/" in argv[0] or argv[0].endswith(".sh")) and not argv[0].startswith(("/usr/", "/bin/")):
            path = argv[0]
        if path is None:
            return None
        # `sh run.sh` reads it from the WORKDIR; a bare program name is looked up on PATH
        on_path = "/" not in path and path == argv[0]
        candidates = (
            [posixpath.join(d, path) for d in DEFAULT_PATH] if on_path else [shell.resolve(self.last_workdir(), path)]
        )
        source, where = None, None
        for where in candidates:
            source = self.copied_file(where)
            if source:
                break
        text = self.ctx.read_text(source) if source else None
        if text is not None and path == argv[0] and not text.startswith("#!"):
            return None  # executed directly, a file without #! is a binary (or nothing the kernel runs)
        script = scripts.read(text) if text is not None else None
        if script is None:
            return None
        found = EntryScript(where, source, script)
        if script.sources and found not in self._scripts_noted:
            self._scripts_noted.append(found)
            lines = ", ".join(str(n) for n in script.sources)
            self.warnings.append(
                note("DR104", f"{path} sources other files (line {lines}); the programs they run are not checked")
            )
        return found
