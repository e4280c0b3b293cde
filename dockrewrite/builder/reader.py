"""The shell interpreter over build scripts: follows variables, cd, functions and docker commands; runs nothing."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from dockrewrite.builder.events import Build, Event, Frame, Val, image_ref, looks_docker, split_cp, where_text
from dockrewrite.builder.pairs import norm_path
from dockrewrite.shell.lexer import Command, Lexer, Part, Unreadable, Word

_HARMLESS = frozenset(
    {
        "echo", "printf", "set", "true", ":", "pwd", "sleep", "date", "ls", "whoami", "id", "uname", "[", "[[",
        "test", "which", "type", "hash", "wait", "exit", "return", "unset", "shift", "shopt", "trap", "umask",
        "cat", "grep", "head", "tail", "wc", "sort", "basename", "dirname", "realpath", "readlink", "stat", "du",
        "df", "nproc", "sha256sum", "md5sum", "file", "false", "local", "getopts", "read",
    }
)  # fmt: skip
_ASSIGNING = frozenset({"export", "readonly", "declare", "typeset", "local"})
_TESTS = frozenset({"[", "[[", "test", "grep", "which", "type", "hash", "false", "cmp", "getopts", "read"})
_DOCKER_HARMLESS = frozenset(
    {"rm", "rmi", "stop", "kill", "ps", "images", "inspect", "version", "info", "logs", "wait", "pull", "prune", "ls"}
)
_BUILD_VALUE = frozenset(
    {
        "-f", "--file", "-t", "--tag", "--build-arg", "--target", "--platform", "--network", "--label",
        "--cache-from", "--cache-to", "--iidfile", "--progress", "--secret", "--ssh", "-o", "--output", "--add-host",
        "--shm-size", "-m", "--memory", "--memory-swap", "-c", "--cpu-shares", "--cpuset-cpus", "--cpuset-mems",
        "--cpu-period", "--cpu-quota", "--ulimit", "--isolation", "--cgroup-parent", "--security-opt",
        "--build-context", "--builder", "--metadata-file", "--allow", "--annotation", "--attest", "--sbom",
        "--provenance",
    }
)  # fmt: skip
_BUILD_FLAG = frozenset(
    {"--no-cache", "--pull", "--rm", "--force-rm", "-q", "--quiet", "--squash", "--compress", "--load",
     "--disable-content-trust", "--push"}
)  # fmt: skip
# Options of the runtime build that the merged build needs too; the builder's are added when the runtime lacks them.
CARRY = frozenset({"--build-arg", "--secret", "--ssh", "--network", "--add-host", "--platform", "--allow"})
_CREATE_VALUE = frozenset(
    {
        "--name", "-e", "--env", "--env-file", "-v", "--volume", "--mount", "--entrypoint", "-w", "--workdir", "-u",
        "--user", "--platform", "-l", "--label", "--label-file", "--network", "--net", "-p", "--publish", "--restart",
        "-h", "--hostname", "--pull", "--cidfile", "--add-host", "--dns", "-m", "--memory", "--cpus", "--log-driver",
        "--log-opt", "--ulimit", "--security-opt", "--cap-add", "--cap-drop", "--device", "--tmpfs", "--stop-signal",
        "--stop-timeout", "--ipc", "--pid", "--userns", "--runtime", "--shm-size", "--group-add", "--expose",
        "--volumes-from", "--link",
    }
)  # fmt: skip
_CREATE_FLAG = frozenset(
    {"-i", "--interactive", "-t", "--tty", "-it", "-ti", "--rm", "--init", "--privileged", "-d", "--detach", "-q",
     "--quiet", "--read-only", "-P", "--publish-all", "--no-healthcheck"}
)  # fmt: skip
_MOUNTS = frozenset({"-v", "--volume", "--mount", "--volumes-from", "--tmpfs"})
_INERT = re.compile(r"^(?:/bin/|/usr/bin/)?(?:true|:|sleep(?: \S+)?|echo(?: .*)?|tail -f /dev/null)$")


class Reader:
    """Walks one script (or one Makefile target) and records what each top-level command does."""

    def __init__(self, units: list[list[Command]], script_dir: Path, cwd: Path, make_names: dict[str, str]):
        self.units = units
        self.script_dir = script_dir
        self.start = cwd
        self.make_names = make_names  # opaque shell names standing for make variables -> `$(NAME)`
        self.events: list[Event] = []
        self.opaque: dict[str, int] = {}
        self.functions: dict[str, str] = {}
        self.fs: dict[Path, str] = {}  # path -> "dir", "exists", "absent", "unknown"

    def shown(self, text: str) -> str:
        """Script text as the user wrote it (make variables back in make syntax)."""
        for name, original in self.make_names.items():
            text = text.replace("${" + name + "}", original)
        return text

    # ---- values

    def _mark(self, key: str) -> str:
        n = self.opaque.setdefault(key, len(self.opaque))
        return f"\x00{n}\x00"

    def val(self, word: Word) -> Val:
        out: list[str] = []
        certain, split = True, False
        for part in word.parts:
            if part.kind == "lit":
                out.append(part.text)
                if not part.quoted and re.search(r"[*?\[~]", part.text):
                    split = True
                continue
            text, known = self._expand(part)
            out.append(text)
            certain = certain and known
            if not part.quoted and (not known or re.search(r"\s", text)):
                split = True
        return Val("".join(out), certain, word.raw, split)

    def _expand(self, part: Part) -> tuple[str, bool]:
        if part.kind == "var":
            m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])(.*))?", part.text, re.DOTALL)
            if m:
                name, op, default = m.groups()
                if name in self.env:
                    text, known = self.env[name]
                    if op and op.startswith(":") and known and text == "":
                        return self._expand_text(default)
                    return text, known
                if name == "PWD" and not op and self.cwd is not None:
                    return str(self.cwd), True
                return self._mark(f"${part.text}@{self.versions.get(name, 0)}"), False
            return self._mark(f"${part.text}"), False
        if part.kind == "cmd":
            norm = " ".join(part.text.replace('"', " ").replace("'", " ").split())
            norm = re.sub(r"\s*(?:&>\s*/dev/null|[12]?>\s*/dev/null|2>&1)\s*", " ", norm).strip()
            norm = re.sub(r"\s--(?=\s)", "", norm)
            here = r"\$(?:0|\{0\}|\{?BASH_SOURCE(?:\[0\])?\}?)"
            if re.fullmatch(r"pwd(?: -P)?", norm) and self.cwd is not None:
                return str(self.cwd), True
            if re.fullmatch(rf"dirname {here}", norm) and not self.cwd_moved:
                return str(self.script_dir), True
            m = re.fullmatch(rf"cd \$\(dirname {here}\)((?:/\.\.)*)/? ?(?:&&|;) ?pwd(?: -P)?", norm)
            if m and not self.cwd_moved:
                return str(norm_path(self.script_dir / m.group(1).lstrip("/"))) if m.group(1) else str(
                    self.script_dir
                ), True
            return self._mark(f"$({norm})"), False
        return self._mark(f"$(({part.text}))"), False

    def _expand_text(self, text: str) -> tuple[str, bool]:
        cmds = Lexer(f"x {text}").lex()
        if len(cmds) != 1 or len(cmds[0].words) != 2:
            return self._mark(text), False
        v = self.val(cmds[0].words[1])
        return v.text, v.certain

    def path(self, v: Val, what: str, line: int) -> Path:
        if not v.certain or v.split:
            raise Unreadable(f"{what} `{v.shown}` depends on values the script does not set", line)
        if self.cwd is None and not v.text.startswith("/"):
            raise Unreadable(f"{what} `{v.shown}` is relative, and the working directory is not known there", line)
        return norm_path(Path(v.text) if v.text.startswith("/") else self.cwd / v.text)

    # ---- walking

    def run(self) -> list[Event]:
        for unit in self.units:
            self.cwd: Path | None = self.start
            self.cwd_moved = False
            self.env: dict[str, tuple[str, bool]] = {}
            self.versions: dict[str, int] = {}
            self.frames: list[Frame] = []
            self.dirstack: list[Path | None] = []
            self.exited = False
            self.prev_test = False
            # variables the script sets: name -> (the text to write instead of `$NAME` in a command of one's
            # own, or None when the script computes the value; line; the assignment as written)
            self.assigned: dict[str, tuple[str | None, int, str]] = {}
            self._unit(unit)
            if self.frames:
                raise Unreadable(f"`{self.frames[-1].kind}` is never closed")
        return self.events

    def _unit(self, cmds: list[Command]) -> None:
        k = 0
        pending_fn: str | None = None
        while k < len(cmds) and not self.exited:
            cmd = cmds[k]
            top = self.frames[-1].kind if self.frames else None
            if cmd.paren:
                k += 1
                if top == "case":
                    continue
                if cmd.paren == "(":
                    # a subshell runs like any command; what it changes (cd, variables) stays inside it
                    cond = self._conditional(cmd.before)
                    self.frames.append(Frame("(", cond, None, (self.cwd, dict(self.env), self.cwd_moved)))
                    continue
                if top != "(":
                    raise Unreadable("a `)` that closes nothing", cmd.line)
                self.cwd, self.env, self.cwd_moved = self.frames.pop().saved
                self.prev_test = False
                continue
            if (
                len(cmd.words) == 1
                and cmd.after == "("
                and k + 2 < len(cmds)
                and cmds[k + 1].paren == "("
                and cmds[k + 2].paren == ")"
            ):
                pending_fn = cmd.words[0].raw  # `name() { … }`
                k += 3
                continue
            if top == "case" and cmd.after in (")", "|"):
                j = k
                while j + 1 < len(cmds) and cmds[j].after == "|" and not cmds[j + 1].paren:
                    j += 1
                if cmds[j].after == ")":
                    k = j + 1  # a case pattern: `a|b)`
                    continue
            pending_fn = self._statement(cmd, pending_fn)
            k += 1

    def _conditional(self, before: str) -> bool:
        """Whether a command after `before` may not run on the script's way to success."""
        return before == "||" or (before == "&&" and self.prev_test) or any(f.cond for f in self.frames)

    def _statement(self, cmd: Command, pending_fn: str | None) -> str | None:
        words = list(cmd.words)
        closes = {"fi": ("if",), "done": ("while", "until", "for", "select"), "esac": ("case",), "}": ("{",)}
        before = cmd.before
        while words:
            kw = words[0].keyword
            if kw in ("then", "do", "else", "elif", "!", "time"):
                words = words[1:]
            elif kw in ("if", "while", "until", "for", "select", "case"):
                self.frames.append(Frame(kw, True, None, None))
                words = words[1:] if kw in ("if", "while", "until") else []
            elif kw in closes:
                if not self.frames or self.frames[-1].kind not in closes[kw]:
                    raise Unreadable(f"`{kw}` closes nothing", cmd.line)
                self.frames.pop()
                words = words[1:]
                self.prev_test = False
            elif kw == "{":
                cond = pending_fn is not None or self._conditional(before)
                self.frames.append(Frame("{", cond, pending_fn, None))
                if pending_fn:
                    self.functions.setdefault(pending_fn, "harmless")
                pending_fn = None
                words = words[1:]
                before = ";"
            elif kw == "function" and len(words) > 1:
                pending_fn = words[1].raw.removesuffix("()")
                words = words[2:]
            else:
                break
        if not words and not cmd.redirects:
            return pending_fn
        conditional = self._conditional(before)
        fn = next((f.fn for f in reversed(self.frames) if f.fn), None)
        where = where_text(self.frames, fn, before)
        try:
            event = self._command(words, cmd, conditional)
        except Unreadable:
            if conditional and looks_docker(words):
                text = " ".join(w.raw for w in words)
                raise Unreadable(
                    f"`{text}` runs {where}: the order of the docker steps cannot be read", cmd.line
                ) from None
            raise
        if event is None:
            return pending_fn
        self.prev_test = event.test or (conditional and before in ("&&", "||"))
        if event.kind in ("build", "create", "cp", "copy_in") and conditional:
            raise Unreadable(f"`{event.text}` runs {where}: the order of the docker steps cannot be read", cmd.line)
        if fn is not None:
            if event.kind not in ("harmless", "cleanup"):
                self.functions[fn] = "extra"
            return pending_fn
        if cmd.after == "&" and event.kind in ("build", "create", "cp"):
            raise Unreadable(f"`{event.text}` runs in the background", cmd.line)
        event.conditional = conditional
        event.end = max(cmd.end_line, cmd.line)
        self.events.append(event)
        return pending_fn

    def _command(self, words: list[Word], cmd: Command, conditional: bool) -> Event | None:
        line = cmd.line
        text = " ".join(w.raw for w in words)
        assigns: list[tuple[str, Word]] = []
        while words and self._assignment(words[0]):
            assigns.append(self._assignment(words[0]))
            words = words[1:]
        if not words:
            return self._assign(assigns, line, text, conditional)
        if words[0].keyword == "command" and len(words) > 1 and words[1].keyword in ("-v", "-V"):
            return Event("harmless", line, text, test=True)  # `command -v docker`: is it installed?
        while words and words[0].keyword in ("exec", "command", "builtin", "nohup", "sudo", "env"):
            wrapper = words[0].keyword
            words = words[1:]
            while words and (
                (wrapper in ("sudo", "env") and (words[0].keyword or "").startswith("-")) or self._assignment(words[0])
            ):
                flag = words[0].keyword
                words = words[1:]
                if wrapper == "sudo" and flag in ("-u", "-g", "-C", "-h", "-p"):
                    words = words[1:]
        if not words:
            return Event("harmless", line, text)
        writes = any(
            op in (">", ">>", ">|", "&>", "&>>", "<>") and t is not None and t.raw not in ("/dev/null", "/dev/stderr")
            for op, t in cmd.redirects
        )
        prog = self.val(words[0])
        name = posixpath.basename(prog.text) if prog.certain else None
        if name in ("docker", "podman") or (
            not prog.certain and re.fullmatch(r"\$\{\w+:?-(docker|podman)\}|\"\$\{\w+:?-(docker|podman)\}\"", prog.raw)
        ):
            event = self._docker(words[1:], line, text, prog.raw)
        elif not prog.certain and len(words) > 1 and words[1].keyword in ("build", "cp", "create", "container"):
            raise Unreadable(f"the docker command is `{prog.raw}`, which the script does not set", line)
        elif name in self.functions:
            event = Event(self.functions[name], line, text)
        elif name in ("cd", "pushd", "popd"):
            event = self._cd(name, words[1:], line, text, conditional)
        elif name in _ASSIGNING:
            found = [self._assignment(w) for w in words[1:] if self._assignment(w)]
            event = self._assign(found, line, text, conditional) if found else Event("harmless", line, text)
        elif name in ("rm", "mkdir"):
            event = self._files(name, words[1:], line, text, conditional)
        elif name in (".", "source"):
            event = Event("extra", line, text)
        elif name in _HARMLESS:
            event = Event("harmless", line, text, test=name in _TESTS)
            if name == "exit" and not conditional and not self.frames:
                self.exited = True
        else:
            event = Event("extra", line, text)
        if writes and event.kind in ("harmless", "cleanup"):
            event.kind = "extra"
        return event

    @staticmethod
    def _assignment(word: Word) -> tuple[str, Word] | None:
        if not word.parts or word.parts[0].kind != "lit" or word.parts[0].quoted:
            return None
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=", word.parts[0].text)
        if not m:
            return None
        rest = [Part("lit", word.parts[0].text[m.end() :], False)] if word.parts[0].text[m.end() :] else []
        value = Word(rest + word.parts[1:], word.raw[len(m.group(0)) :])
        return m.group(1), value

    def _assign(self, assigns: list[tuple[str, Word]], line: int, text: str, conditional: bool) -> Event:
        event = Event("harmless", line, text)
        for name, value in assigns:
            self.versions[name] = self.versions.get(name, 0) + 1
            captured = self._capture(value, line, name)
            if captured is not None:
                event = captured
                continue
            self.assigned[name] = (None if conditional else self._inline(value), line, f"{name}={value.raw}")
            if conditional:
                self.env[name] = (self._mark(f"{name}@{self.versions[name]}:cond"), False)
                continue
            v = self.val(value)
            self.env[name] = (v.text, v.certain)
        return event

    def _inline(self, value: Word) -> str | None:
        """What `$NAME` can be replaced with in a standalone command: a plain literal, or `${ENV:-default}`."""
        if all(p.kind == "lit" for p in value.parts):
            text = "".join(p.text for p in value.parts)
            return text if re.fullmatch(r"[\w./:@%+,=-]*", text) else None
        if len(value.parts) == 1 and value.parts[0].kind == "var":
            m = re.fullmatch(r"([A-Za-z_]\w*)(?::?[-=][\w./:@%+,=-]*)?", value.parts[0].text)
            if m and m.group(1) not in self.assigned:  # `IMAGE=${IMAGE:-acme/api}`: the environment's, or a default
                return "${" + value.parts[0].text + "}"
        return None

    def _capture(self, value: Word, line: int, name: str) -> Event | None:
        """`ID=$(docker create …)` or `IMG=$(docker build -q …)`: the variable stands for what docker printed."""
        if len(value.parts) != 1 or value.parts[0].kind != "cmd":
            return None
        inner = Lexer(value.parts[0].text).lex()
        if len(inner) != 1 or not inner[0].words or self.val(inner[0].words[0]).text not in ("docker", "podman"):
            return None
        token = self._mark(f"{name}@{self.versions[name]}:output")
        self.env[name] = (token, False)
        event = self._docker(inner[0].words[1:], line, f"{name}=$({value.parts[0].text})", inner[0].words[0].raw)
        if event.kind == "create":
            event.data["container"] = token
        elif event.kind == "build":
            event.data.tags.append(token)
        return event

    def _cd(self, name: str, args: list[Word], line: int, text: str, conditional: bool) -> Event:
        if name == "popd":
            self.cwd = self.dirstack.pop() if self.dirstack else None
        else:
            vals = [self.val(w) for w in args if not (w.keyword or "").startswith("-") or w.keyword == "-"]
            if name == "pushd":
                self.dirstack.append(self.cwd)
            if len(vals) != 1 or not vals[0].certain or vals[0].split or vals[0].text == "-" or conditional:
                self.cwd = None
            elif vals[0].text.startswith("/") or self.cwd is not None:
                self.cwd = norm_path(Path(vals[0].text) if vals[0].text.startswith("/") else self.cwd / vals[0].text)
        self.cwd_moved = True
        return Event("harmless", line, text)

    def _files(self, name: str, args: list[Word], line: int, text: str, conditional: bool) -> Event:
        paths: list[Path] = []
        for word in args:
            if (word.keyword or "").startswith("-"):
                continue
            v = self.val(word)
            if not v.certain or v.split or (self.cwd is None and not v.text.startswith("/")):
                return Event("extra", line, text)
            paths.append(self.path(v, name, line))
        for p in paths:
            if name == "mkdir":
                self.fs[p] = "unknown" if conditional else "dir"
            else:
                for known in list(self.fs):
                    if known == p or p in known.parents:
                        self.fs[known] = "unknown" if conditional else "absent"
                self.fs[p] = "unknown" if conditional else "absent"
        return Event(name, line, text, tuple(paths))

    # ---- docker

    def _docker(self, args: list[Word], line: int, text: str, binary: str) -> Event:
        vals = [self.val(w) for w in args]
        i = 0
        while i < len(vals) and vals[i].text.startswith("-"):
            opt = vals[i].text.split("=", 1)[0]
            if opt in ("--context", "-c", "-H", "--host", "--config", "-l", "--log-level") and "=" not in vals[i].text:
                i += 2
            elif opt in ("-D", "--debug", "--tls", "--tlsverify") or "=" in vals[i].text:
                i += 1
            else:
                raise Unreadable(f"docker option {vals[i].raw} is not understood", line)
        sub = [v.text for v in vals[i : i + 2]]
        if sub[:1] in (["container"], ["image"], ["buildx"], ["builder"]) and len(sub) == 2:
            group, verb, rest = sub[0], sub[1], i + 2
        else:
            group, verb, rest = "", (sub[0] if sub else ""), i + 1
        words, vals = args[rest:], vals[rest:]
        if verb == "build" and group in ("", "image", "buildx", "builder"):
            return Event("build", line, text, self._build(words, vals, line, binary, [a.raw for a in args[i:rest]]))
        if verb in ("create", "run") and group in ("", "container"):
            return Event("create", line, text, self._create(verb, vals, line))
        if verb == "cp" and group in ("", "container"):
            return self._cp(vals, line, text)
        if verb == "rm" and group == "image":
            return Event("cleanup", line, text)
        if verb in _DOCKER_HARMLESS or (verb == "prune" and group):
            return Event("cleanup", line, text, test=verb in ("inspect", "ps", "images", "ls"))
        return Event("extra", line, text)

    def _build(self, words: list[Word], vals: list[Val], line: int, binary: str, sub: list[str]) -> Build:
        file: Val | None = None
        tags: list[str] = []
        build_args: list[tuple[str, str]] = []
        options: list[str] = []
        positional: list[Val] = []
        target = platform = None
        raw_file: list[str] = []
        i = 0
        while i < len(vals):
            v = vals[i]
            if v.text == "--":
                positional += vals[i + 1 :]
                break
            if not v.text.startswith("-") or v.text == "-":
                positional.append(v)
                i += 1
                continue
            name, eq, value_text = v.text.partition("=")
            if not eq and re.fullmatch(r"-[ftomc].+", v.text):
                name, eq, value_text = v.text[:2], "=", v.text[2:]
            if name in _BUILD_FLAG:
                if name == "--push":
                    raise Unreadable("the first docker build pushes its image (--push)", line)
                options.append(v.raw)
                i += 1
                continue
            if name not in _BUILD_VALUE:
                raise Unreadable(f"docker build option {v.raw} is not understood", line)
            if eq:
                value = Val(value_text, v.certain, v.raw.split("=", 1)[-1] if "=" in v.raw else v.raw[2:], v.split)
                raw = v.raw
                i += 1
            else:
                if i + 1 >= len(vals):
                    raise Unreadable(f"docker build option {v.raw} has no value", line)
                value, raw = vals[i + 1], f"{v.raw} {vals[i + 1].raw}"
                i += 2
            if name in ("-f", "--file"):
                file = value
                raw_file.append(raw)
                continue
            if name in ("-o", "--output", "--build-context"):
                raise Unreadable(f"docker build {name} is not the builder pattern this tool reads", line)
            options.append(raw)
            if name in ("-t", "--tag"):
                tags.append(image_ref(value.text))
            elif name == "--build-arg":
                build_args.append((value.text.split("=", 1)[0], raw))
            elif name == "--target":
                target = value.text
            elif name == "--platform":
                platform = value.text
        if len(positional) != 1:
            raise Unreadable(f"docker build with {len(positional)} context arguments", line)
        ctx = positional[0]
        if ctx.text == "-" or re.match(r"^[a-z]+://|^git@", ctx.text):
            raise Unreadable(f"docker build context `{ctx.raw}` is not a local folder", line)
        context = self.path(ctx, "the build context", line)
        dockerfile = self.path(file, "the Dockerfile", line) if file is not None else None
        if dockerfile is None:
            dockerfile = context / "Dockerfile"
            if not dockerfile.is_file() and (context / "dockerfile").is_file():
                dockerfile = context / "dockerfile"
        file_raw = next((o for o in raw_file), None)
        return Build(
            dockerfile,
            context,
            tags,
            build_args,
            options,
            binary,
            sub,
            ctx.raw,
            file_raw,
            target,
            platform,
            dict(self.assigned),
        )

    def _create(self, verb: str, vals: list[Val], line: int) -> dict:
        """The container and image of docker create/run; `problem` says why it cannot be the builder pattern's."""
        data: dict = {"container": None, "image": None, "verb": verb, "problem": None}
        entrypoint = None
        i = 0
        while i < len(vals) and vals[i].text.startswith("-"):
            opt, eq, value = vals[i].text.partition("=")
            if opt in _CREATE_FLAG:
                i += 1
                continue
            if opt not in _CREATE_VALUE or (not eq and i + 1 >= len(vals)):
                data["problem"] = f"docker {verb} option {vals[i].raw} is not understood"
                return data
            if not eq:
                value = vals[i + 1].text
                i += 1
            i += 1
            if opt in _MOUNTS:
                data["problem"] = f"docker {verb} mounts a volume ({opt}): docker cp may read the volume"
            elif opt == "--name":
                data["container"] = value
            elif opt == "--entrypoint":
                entrypoint = value
        if i >= len(vals):
            data["problem"] = f"docker {verb} without an image"
            return data
        data["image"] = image_ref(vals[i].text)
        command = " ".join(v.text for v in vals[i + 1 :])
        inert = entrypoint is not None and _INERT.match(f"{entrypoint} {command}".strip())
        if verb == "run" and not inert and data["problem"] is None:
            data["problem"] = (
                "docker run starts the image's command before docker cp, and what that command does to the files "
                "cannot be read here (docker create, or docker run --entrypoint true, can)"
            )
        return data

    def _cp(self, vals: list[Val], line: int, text: str) -> Event:
        positional = []
        for v in vals:
            if re.fullmatch(r"-[aLq]+|--archive|--follow-link|--quiet", v.text):
                continue
            if v.text.startswith("-") and v.text != "-":
                raise Unreadable(f"docker cp option {v.raw} is not understood", line)
            positional.append(v)
        if len(positional) != 2:
            raise Unreadable("docker cp needs a source and a destination", line)
        src, dest = positional
        container, path = split_cp(src.text)
        if container is None:
            if split_cp(dest.text)[0] is not None:
                return Event("copy_in", line, text)
            raise Unreadable("docker cp without a container side", line)
        if "\x00" in path or src.split and re.search(r"[*?\[]", path):
            raise Unreadable(f"the container path of `{src.raw}` depends on values the script does not set", line)
        if dest.text == "-":
            raise Unreadable("docker cp writes a tar stream to stdout; where its files land cannot be read", line)
        local = self.path(dest, "the docker cp destination", line)
        contents = path.endswith("/.")
        cpath = posixpath.normpath("/" + path.lstrip("/"))
        state = self.fs.get(local) or ("dir" if local.is_dir() else "exists" if local.exists() else "absent")
        if contents:
            target = local
        elif dest.text.endswith("/") or state == "dir":
            target = local / posixpath.basename(cpath)
        elif state == "unknown":
            raise Unreadable(
                f"whether {dest.raw} is a folder when docker cp runs depends on a condition (docker cp then writes "
                "into it)",
                line,
            )
        else:
            target = local
        self.fs[target] = "exists"
        return Event("cp", line, text, {"container": container, "path": cpath, "local": target, "contents": contents})
