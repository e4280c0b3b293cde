"""Where the app writes and which files it loads at start: one rule for Go, Python and Node.

Writable folders. The runtime user must be able to write wherever the original's root could:
- the working directory, when the code writes relative paths (SQLite files, `os.Create`, log files, a library
  writer given a data file such as `oggwriter.New("voice.ogg")`, an embedded store's path held in a const) or the
  language gives the app its own folder (Python, Node); a carried file or folder the code writes into
  (`static/forum.db`) is copied owned by the runtime user too;
- folders named by ENV (`BASE_DIR=/data`, `UPLOAD_DIR`; `DB_PATH=/data/app.db` names /data);
- VOLUME paths (a named volume starts as a copy of the image's folder, ownership included);
- absolute folders the code itself names for writing;
- folders a carried configuration file names (ini, yaml, toml, json, .env, properties: `LogSavePath = logs/`
  under `RuntimeRootPath = runtime/` is runtime/logs in the working directory), when the key names a place to
  write and the value is a folder inside the app that the context holds or that is plainly a folder.
Each is created in the image owned by the runtime user: `RUN mkdir -p … && chown …` where the runtime has a
shell; on scratch and distroless, which have none, a build stage makes the empty folders and the runtime copies
them with `COPY --from=<stage> --chown=<uid:gid>`, which creates them with that owner on BuildKit and on the
legacy builder alike (WORKDIR alone makes a root-owned folder on the legacy builder and on BuildKit before a
USER). System folders are never given away, and what the image cannot prepare (a path only known at run time,
a host folder bind-mounted over a VOLUME) gets a note naming the path and `--keep-root`.

Files loaded at start. `.env` read by godotenv, dotenv, python-dotenv, django-environ, python-decouple, a
pydantic-settings `env_file`, @nestjs/config's `ConfigModule.forRoot()` (in the sources a built app was compiled
from) or `next start` (.env, .env.production, .env.local, .env.production.local), and files ENV names
(`CONFIG_PATH=/app/config.yml`): when the original copied such a file into the image, the runtime carries it too,
with a note that its values stay baked in and how to pass them at run time instead; the proposed .dockerignore
never leaves out a file the runtime carries.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

from dockrewrite import ops, shell
from dockrewrite.compose import COMPOSE_NAMES
from dockrewrite.contract import env_pairs
from dockrewrite.model import Stage
from dockrewrite.providers import writes_config

# Build-stage folder that holds the empty folders a shell-less runtime copies in with their owner.
STAGING = "/writable"
COMMENT = "# Folders the app writes, owned by the user that runs it"

# ENV names that point at a place the app writes: a writing word, then _DIR, _PATH, … (`BASE_DIR`, `UPLOAD_DIR`,
# `DB_PATH`, `MEDIA_ROOT`, `LOG_FILE`). Names of places it only reads (CONFIG_PATH, TEMPLATE_DIR) do not match.
_WRITE_NAME = re.compile(
    r"(?:^|_)(?:DATA|UPLOADS?|STORAGE|STORE|MEDIA|DB|DATABASE|SQLITE3?|LOGS?|CACHE|STATE|FILES|OUTPUT|OUT|BACKUPS?|"
    r"ATTACHMENTS|WORK|SESSIONS?|PERSIST(?:ENCE)?|VAR)_(?:DIR|DIRECTORY|PATH|FOLDER|ROOT|FILE|HOME|LOCATION)$"
    # BASE only as a folder: BASE_PATH and BASE_URL are usually a web app's URL prefix
    r"|(?:^|_)BASE_(?:DIR|DIRECTORY|FOLDER)$"
)
# A value ending in one of these names a file: the app writes its folder (SQLite also puts its journal there).
_FILE_SUFFIX = re.compile(r"\.(db|sqlite3?|db3|log|json|txt|csv|lock|pid|bolt|bbolt|leveldb|dat)$", re.I)
# Folders everyone may write already.
_OPEN = ("/tmp", "/var/tmp", "/dev/shm")
# Folders that belong to the system: never given to the app's user.
_SYSTEM = frozenset(
    {
        "/",
        "/bin",
        "/boot",
        "/etc",
        "/home",
        "/lib",
        "/lib64",
        "/root",
        "/run",
        "/sbin",
        "/usr",
        "/usr/bin",
        "/usr/lib",
        "/usr/local",
        "/usr/local/bin",
        "/usr/local/lib",
        "/usr/sbin",
        "/usr/share",
        "/var",
        "/var/cache",
        "/var/lib",
        "/var/log",
        "/var/run",
        "/var/spool",
    }
)
_KERNEL = ("/proc", "/sys", "/dev")


@dataclass
class Writable:
    path: str
    why: list[str] = field(default_factory=list)


@dataclass
class Writes:
    """The folders the runtime user must own, and what could not be prepared in the image."""

    folders: list[Writable] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)  # VOLUME paths among the folders
    refused: list[str] = field(default_factory=list)  # notes: system folders, unknown values

    @property
    def paths(self) -> list[str]:
        """The folders, each parent before what is below it."""
        return sorted(f.path for f in self.folders)

    def add(self, path: str, why: str) -> None:
        path = posixpath.normpath(path)
        for f in self.folders:
            if f.path == path:
                if why not in f.why:
                    f.why.append(why)
                return
        self.folders.append(Writable(path, [why]))


def stage_env(stage: Stage, start: dict[str, str] | None = None) -> list[tuple[str, str | None, int]]:
    """(name, value with earlier variables filled in or None when one is unknown, line) of every ENV."""
    values = dict(start or {})
    out: list[tuple[str, str | None, int]] = []
    for ins in stage.instructions:
        if ins.keyword == "ARG":
            for item in ins.args:
                key, eq, value = item.partition("=")
                if eq:
                    values.setdefault(key, value.strip("\"'"))
        if ins.keyword != "ENV":
            continue
        for key, raw in env_pairs(ins):
            value = shell.substitute(raw.strip("\"'"), values)
            out.append((key, value, ins.line))
            if value is not None:
                values[key] = value
    return out


def is_write_name(name: str) -> bool:
    return bool(_WRITE_NAME.search(name.upper()))


def folder_of(name: str, value: str) -> str | None:
    """The folder an ENV value makes the app write, or None when it names no absolute path."""
    value = value.strip()
    if not value.startswith("/") or any(c in value for c in ":;, $") or "//" in value:
        return None
    value = posixpath.normpath(value)
    if name.upper().endswith("_FILE") or _FILE_SUFFIX.search(value):
        value = posixpath.dirname(value)
    return value


def find(
    stage: Stage,
    workdir: str,
    *,
    workdir_reason: str | None,
    code_folders: Iterable[tuple[str, str]] = (),
    env_reads: Iterable[tuple[str, str]] = (),
    start_env: dict[str, str] | None = None,
    ctx=None,
    start_workdir: str = "/",
) -> Writes:
    """The folders the runtime user must own. `workdir_reason` says why the app writes in its working directory
    (None: it does not); `code_folders` are (absolute folder, where the code names it); `env_reads` are
    (variable, where the code reads it) for write-like variables, which need a value known at build time; `ctx`,
    when given, is looked through for compose files that bind-mount host folders over those folders."""
    writes = Writes()
    candidates: list[tuple[str, str]] = []
    if workdir_reason:
        candidates.append((workdir, workdir_reason))
    set_names: set[str] = set()
    env = stage_env(stage, start_env)
    for name, value, line in env:
        set_names.add(name)
        if not is_write_name(name):
            continue
        if value is None:
            writes.refused.append(
                f"ENV {name} (line {line}) names a folder the app may write, known only at run time: the runtime "
                "user must be able to write it (or use --keep-root)"
            )
            continue
        folder = folder_of(name, value)
        if folder is not None:
            candidates.append((folder, f"ENV {name} on line {line}"))
    for ins in stage.find("VOLUME"):
        for raw in _volume_paths(ins):
            path = shell.substitute(raw, {k: v for k, v, _ in env if v is not None})
            if path is None or not path.startswith("/"):
                writes.refused.append(
                    f"VOLUME {raw} (line {ins.line}) is only known at run time: the runtime user must be able to "
                    "write it (or use --keep-root)"
                )
                continue
            candidates.append((path, f"VOLUME on line {ins.line}"))
            writes.volumes.append(posixpath.normpath(path))
    candidates += list(code_folders)
    if ctx is not None and ctx.known:
        candidates += config_folders(ctx, stage, workdir, start_workdir, start_env)
    made = made_folders(stage, start_workdir, start_env)
    for name, where in env_reads:
        if name not in set_names:
            writes.refused.append(
                f"the app writes where ${name} points ({where}), which no ENV sets: that folder is only known at "
                "run time, so the image cannot give it to the runtime user; make it writable by that user (a "
                "named volume, or chown on the host) or use --keep-root"
            )
    for path, why in candidates:
        path = posixpath.normpath(path)
        if path.startswith(_OPEN) and any(path == o or path.startswith(o + "/") for o in _OPEN):
            continue
        if path in _SYSTEM or any(path == k or path.startswith(k + "/") for k in _KERNEL):
            writes.refused.append(
                f"the app writes to {path} ({why}), a system folder the runtime user cannot write and dockrewrite "
                "does not give away: point it at a folder of the app's own, or use --keep-root"
            )
            continue
        writes.add(path, why)
    for path, line in made:
        # A folder the original made at build time belonged to the user the app ran as; it still does. System
        # folders a RUN prepares (config, logs of a service) are left as they are: nothing says the app writes.
        if not (path in _SYSTEM or _under(path, _KERNEL) or _under(path, _OPEN) or _under(path, _SYSTEM_TREES)):
            writes.add(path, f"made by RUN mkdir on line {line}")
    bind_mounts(ctx, writes)
    return writes


# Trees whose subfolders belong to the system or its services, not to the app (made there by a RUN, they stay).
_SYSTEM_TREES = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/root", "/var/lib/apt", "/var/cache")


def _under(path: str, roots) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _walk(stage: Stage, start_workdir: str, start_env: dict[str, str] | None):
    """(instruction, the WORKDIR it runs in, the variable values) for each instruction but WORKDIR, its $VARS
    taken from the base image's ENV and the stage's ENV/ARG defaults."""
    values = dict(start_env or {})
    for name, value, _line in stage_env(stage, start_env):
        if value is not None:
            values[name] = value
    workdir = start_workdir
    for ins in stage.instructions:
        if ins.keyword == "WORKDIR" and ins.args:
            target = shell.substitute(ins.args[0].strip("\"'"), values)
            workdir = shell.resolve(workdir, target) if target else workdir
        elif ins.keyword != "WORKDIR":
            yield ins, workdir, values


def made_folders(
    stage: Stage, start_workdir: str = "/", start_env: dict[str, str] | None = None
) -> list[tuple[str, int]]:
    """(absolute folder, line) for each folder a RUN's `mkdir` makes, resolved against the WORKDIR of its time."""
    out: list[tuple[str, int]] = []
    for ins, workdir, values in _walk(stage, start_workdir, start_env):
        if ins.keyword == "RUN" and not ins.json:
            cwd = workdir
            for segment in shell.segments(ins.shell):
                words = shell.env_prefix(segment.words())[1]
                if words[:1] == ["cd"] and len(words) == 2:
                    cwd = shell.resolve(cwd, words[1])
                if words[:1] != ["mkdir"]:
                    continue
                for word in words[1:]:
                    if word.startswith("-"):
                        if word in ("-m", "--mode"):
                            break  # a mode makes the folder as asked: left to the original's wording
                        continue
                    path = shell.substitute(word, values)
                    if path and not any(ch in path for ch in "*?[{$`"):
                        out.append((shell.resolve(cwd, path), ins.line))
    return out


# `mkdir` where a command starts: after RUN, &&, ||, ; or a pipe (continuation lines included).
_MKDIR = re.compile(r"((?:^RUN|&&|\|\||;|\|)[ \t]*(?:\\\n[ \t]*)?)mkdir(?=[ \t])", re.MULTILINE)


def tolerant_mkdir(text: str) -> str:
    """A replayed RUN's `mkdir X` as `mkdir -p X`: the rewrite may have made X already (owned by the runtime
    user), and `mkdir` without -p would then fail the build. The original built, so X did not exist there
    and -p changes nothing else."""

    def add(m: re.Match) -> str:
        rest = re.split(r"&&|\|\||;|\||\n", text[m.end() :], maxsplit=1)[0]
        if re.search(r"(?:^|\s)(?:-[a-zA-Z]*p[a-zA-Z]*|--parents)\b", rest):
            return m.group(0)
        return m.group(1) + "mkdir -p"

    return _MKDIR.sub(add, text)


def _compose_services(ctx):
    """(compose file, service name, service) of the compose files beside the Dockerfile, read safely (never run)."""
    from dockrewrite.deployments import yaml_documents

    for name in ctx.entries if ctx is not None and ctx.known else ():
        if not COMPOSE_NAMES.match(name):
            continue
        docs = yaml_documents(ctx.read_text(name, limit=300_000) or "")
        services = docs[0].get("services") if docs and isinstance(docs[0], dict) else None
        for service_name, service in services.items() if isinstance(services, dict) else ():
            if isinstance(service, dict):
                yield name, str(service_name), service


def compose_mounts(ctx) -> list[tuple[str, str, str, str, str]]:
    """(compose file, service, kind, source, target) of every mount the services declare that is not read-only,
    in the short (`./data:/data:ro`, `data:/data`) and the long syntax (`type: bind`, `source`, `target`,
    `read_only`); kind is "bind" (a host path) or "volume" (a named volume)."""
    out = []
    for file_name, name, service in _compose_services(ctx):
        image = service.get("image")
        if isinstance(image, str) and "/" not in image and not service.get("build"):
            continue  # an official image (node:latest with the sources mounted, redis), not this app's own (user/app)
        volumes = service.get("volumes")
        for volume in volumes if isinstance(volumes, list) else ():
            if isinstance(volume, str):
                parts = volume.split(":")
                if len(parts) < 2 or (len(parts) > 2 and "ro" in parts[2].split(",")):
                    continue  # an anonymous volume, or read-only: the app does not write there
                source, target = parts[0], parts[1]
                # a host path, possibly through a variable (`${DATA_DIR}:/data`), or a volume's name
                kind = "bind" if source.startswith((".", "/", "~", "$")) else "volume"
            elif isinstance(volume, dict):
                kind, source, target = volume.get("type"), volume.get("source"), volume.get("target")
                if kind not in ("bind", "volume") or volume.get("read_only") or not isinstance(target, str):
                    continue
                source = str(source or "")
            else:
                continue
            if target.startswith("/"):
                out.append((file_name, name, kind, source, posixpath.normpath(target)))
    return out


def compose_environment(ctx) -> list[tuple[str, str]]:
    """(name, value) of the environment the compose files beside the Dockerfile give the services they build
    from this folder (`build: .`), in list (`- KEY=value`) or mapping form."""
    out: list[tuple[str, str]] = []
    for _file, _name, service in _compose_services(ctx):
        build = service.get("build")
        context = build.get("context", ".") if isinstance(build, dict) else build
        if not isinstance(context, str) or posixpath.normpath(context) != ".":
            continue
        env = service.get("environment")
        if isinstance(env, dict):
            out += [(str(k), str(v)) for k, v in env.items() if v is not None]
        elif isinstance(env, list):
            out += [tuple(str(item).split("=", 1)) for item in env if "=" in str(item)]
    return out


def bind_mounts(ctx, writes: Writes) -> None:
    """Host folders (or files) and named volumes that the compose files beside the Dockerfile mount over a path
    the app writes: the image's ownership does not reach a host path, and a named volume the original already
    filled keeps its files owned by the original's root, so a note names each (the runtime user's uid must be
    able to write there, or --keep-root)."""
    for name, service, kind, source, target in compose_mounts(ctx):
        # over a written folder, a path inside one (`./.db:/app/.db` under the app's own folder), or a folder
        # that holds one (the mount replaces the whole tree)
        if not any(_under(target, [w]) or _under(w, [target]) for w in writes.paths):
            continue
        if kind == "bind":
            writes.refused.append(
                f"{name} bind-mounts the host path {source} over {target}, which the app writes: the image's "
                "ownership does not reach a host path (Docker creates a missing one as a folder owned by root), "
                "so it must be writable by the runtime user's uid (chown it on the host) or use --keep-root"
            )
        else:
            writes.refused.append(
                f"{name}: service {service} mounts the named volume {source or '(anonymous)'} over {target}, "
                "which the app writes: a new volume starts with the image's files and their owner, but one the "
                "original already filled keeps them owned by root, which the runtime user cannot write: chown "
                "it once (`docker compose run --rm --user root "
                f"{service} chown -R <uid> {target}`) or use --keep-root"
            )


def _volume_paths(ins) -> list[str]:
    if ins.json:
        return [a for a in ins.args if a]
    words: list[str] = []
    for arg in ins.args:
        words += shell.split_words(arg) if " " in arg else [arg]
    return [w for w in words if w]


def own_folders(paths: list[str], owner: str) -> str:
    """Shell commands that make folders and give them to the user the runtime runs as."""
    quoted = " ".join(shlex.quote(p) for p in paths)
    return f"mkdir -p {quoted} && chown {owner} {quoted}"


def staged(path: str) -> str:
    return STAGING + path


def _tops(paths: list[str]) -> list[str]:
    """The folders not below another of them: copying a folder brings the empty ones below it, owned alike."""
    return [p for p in paths if not any(p.startswith(q.rstrip("/") + "/") for q in paths if q != p)]


def build_step(paths: list[str]) -> ops.Op:
    """The build stage's step that makes the empty folders a shell-less runtime copies in with their owner."""
    paths = [p for p in paths if not any(q.startswith(p.rstrip("/") + "/") for q in paths)]  # mkdir -p makes parents
    quoted = " ".join(shlex.quote(staged(p)) for p in paths)
    made = ops.step(
        f"RUN mkdir -p {quoted}",
        ("# Empty folders the app writes, copied into the runtime owned by its user (no shell there to make them)",),
    )
    made.floats = True
    return made


def with_build_step(stage: list[ops.Op], paths: list[str]) -> list[ops.Op]:
    """A build stage with the folder-making step in it: as late as it can go without standing next to another RUN
    (hadolint's DL3059 asks to merge those, and the stage's own RUNs are the user's), else last."""
    return ops.place_apart(stage, build_step(paths))


def copy_steps(paths: list[str], owner: str, stage: str) -> list[ops.Op]:
    """The runtime's COPY lines that create the folders with their owner (scratch, distroless)."""
    from dockrewrite.providers.common import copy_text

    steps = [ops.step(copy_text(f"--from={stage} --chown={owner} ", [staged(p)], p)) for p in _tops(paths)]
    if steps:
        steps[0].comments = (COMMENT,)
    return steps


def notes(writes: Writes, owner: str) -> list[str]:
    """What the notes say about the folders: who owns them and why, and what the image could not prepare."""
    out: list[str] = []
    if writes.folders:
        shown = "; ".join(f"{f.path} ({', '.join(f.why)})" for f in writes.folders)
        out.append(f"folders the app writes, owned by {owner}, who runs it: {shown}")
    if writes.volumes:
        shown = ", ".join(writes.volumes)
        out.append(
            f"VOLUME {shown}: a named volume starts as a copy of the image's folder, owner included, so it is "
            f"writable by {owner}; a host folder bind-mounted there must be writable by that uid (or use --keep-root)"
        )
    out += writes.refused
    return out


def _context_copies(stage: Stage, start_workdir: str, start_env: dict[str, str] | None):
    """(context source, absolute destination) of each COPY/ADD from the context, resolved like made_folders."""
    out: list[tuple[str, str]] = []
    for ins, workdir, values in _walk(stage, start_workdir, start_env):
        if ins.keyword in ("COPY", "ADD") and ins.flag("from") is None and len(ins.args) > 1:
            dest = shell.substitute(ins.args[-1], values)
            if dest is None:
                continue
            for src in ins.args[:-1]:
                src = posixpath.normpath(src.strip("\"'")).lstrip("/")
                out.append(("" if src == "." else src, shell.resolve(workdir, dest)))
    return out


def config_folders(
    ctx, stage: Stage, workdir: str, start_workdir: str = "/", start_env: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """(folder, why) for the folders inside the app that carried configuration files name for writing. A relative
    value is taken from the working directory, the way `os.Getwd()` + value or open(value) reach it; a key under a
    root key of the same section (`RuntimeRootPath` + `LogSavePath`) is joined to it when the context has that
    folder, or has neither and both are plainly folders. Only folders strictly inside the app count, and only those
    the context holds, or whose value ends in `/`, or that hold a named file (`logs/app.log`)."""
    if workdir in ("/", "") or "$" in workdir:
        return []
    copies = _context_copies(stage, start_workdir, start_env)

    def carried(rel: str) -> bool:
        return any(src == "" or rel == src or rel.startswith(src + "/") for src, _ in copies)

    def held(path: str) -> bool:  # a folder of the context that the original copied to `path`
        for src, dest in copies:
            if path == dest or path.startswith(dest.rstrip("/") + "/"):
                rel = posixpath.normpath(posixpath.join(src, posixpath.relpath(path, dest)))
                if (src == "" or ctx.is_dir(src)) and ctx.is_dir(rel):
                    return True
        return False

    def place(base: str, value: str) -> tuple[str | None, bool]:
        """The folder a value names from `base`, and whether it is plainly a folder; None when it is no
        folder strictly inside the app."""
        if not value or any(c in value for c in "$%{}[]()<>|*?,;:=\"'\\ \t") or value.startswith("~"):
            return None, False
        plain = value.endswith("/")
        path = posixpath.normpath(value if value.startswith("/") else posixpath.join(base, value))
        if _FILE_SUFFIX.search(path):
            path, plain = posixpath.dirname(path), True
        if path == workdir or not path.startswith(workdir.rstrip("/") + "/"):
            return None, False
        if writes_config.READ_FOLDERS.match(posixpath.basename(path).lower()):
            return None, False
        return path, plain

    out: list[tuple[str, str]] = []
    settings = writes_config.write_settings(ctx, carried)
    by_section: dict[tuple[str, tuple[str, ...]], list[writes_config.Setting]] = {}
    for s in settings:
        by_section.setdefault((s.file, s.section), []).append(s)
    for group in by_section.values():
        roots = [s for s in group if writes_config.is_root_key(s) and not s.value.startswith("/")]
        root = roots[0] if len(roots) == 1 else None
        root_path, root_plain = place(workdir, root.value) if root else (None, False)
        for s in group:
            path, plain = place(workdir, s.value)
            why = f"{s.key} in {s.file} on line {s.line}"
            under_root = posixpath.normpath(s.value).startswith(posixpath.normpath(root.value) + "/") if root else True
            if root_path and s is not root and not s.value.startswith("/") and not under_root:
                joined, _ = place(root_path, s.value)
                inside = root_path if root_plain or held(root_path) else None
                if inside and joined and (held(joined) or (plain and not (path and held(path)))):
                    path, plain = joined, True
                    why = f"{root.key} + {s.key} in {s.file}, lines {root.line} and {s.line}"
            if path and (plain or held(path)):
                out.append((path, why))
    return out


# -- files loaded at start ----------------------------------------------------------------------------------------
def env_files(ctx, names: Iterable[str], copied) -> list[str]:
    """Of the env files a loader reads (`.env`, `.env.production` …, relative to the app folder), those in the
    build context that the original copied into the image (`copied(name)`), in order."""
    out: list[str] = []
    for name in names:
        name = name[2:] if name.startswith("./") else name
        if name and name not in out and ctx.exists(name) and not ctx.is_dir(name) and copied(name):
            out.append(name)
    return out


def baked_note(files: list[str], why: str) -> str:
    shown = ", ".join(files)
    return (
        f"{shown} is loaded at start ({why}) and was copied into the original image: the runtime carries it as "
        "before, so its values stay baked into the image; to pass them at run time instead, leave it out of "
        f"the image (.dockerignore) and use `docker run --env-file {files[0]}` or ENV"
    )
