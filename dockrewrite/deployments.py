"""Other places that build and run this image: compose services, heroku.yml, a Procfile (Dokku runs its
lines in the image), Kubernetes manifests. When one of them replaces the command with a toolchain or a
dev server, or mounts the sources over the app, the new runtime stage no longer serves it: the note names
the file, the service and the fix. Files are read (bounded, never run); nothing here writes."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from dockrewrite import shell
from dockrewrite.compose import compose_files
from dockrewrite.paths import repository_root, stays_inside

MAX_BYTES = 256 * 1024
_MANIFEST_DIRS = ("k8s", "kubernetes", "kube", "deploy", "deployment", "deployments", "manifests", ".k8s")
_WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Pod", "Job", "CronJob", "ReplicaSet"})

# fmt: off
# Programs that only make sense with the toolchain or the dev dependencies, which stay in the builder.
_DEV_PROGRAMS = frozenset({
    "air", "reflex", "CompileDaemon", "gin", "modd", "nodemon", "ts-node", "ts-node-dev", "tsx", "ng", "vite",
    "webpack-dev-server", "watchmedo", "pytest", "pip", "pip3", "poetry", "pipenv", "uv", "make", "gcc",
})
# fmt: on
_GO_TOOL = frozenset({"run", "build", "test", "generate", "install", "vet"})
_SCRIPT_RUNNERS = frozenset({"npm", "yarn", "pnpm", "bun"})
_DEV_SCRIPT = re.compile(r"^(dev|develop|watch|serve|test|start:dev|start:debug|.*:watch)$")


def dev_override(words: list[str]) -> str | None:
    """Why a command (as words) needs the toolchain or dev dependencies, or None."""
    for segment in _commands(words):
        if not segment:
            continue
        program = posixpath.basename(segment[0])
        rest = segment[1:]
        if program == "go" and rest and rest[0] in _GO_TOOL:
            return f"`go {rest[0]}` (the Go toolchain stays in the builder)"
        if program in _SCRIPT_RUNNERS:
            script = rest[1] if rest[:1] == ["run"] and len(rest) > 1 else (rest[0] if rest else "")
            if _DEV_SCRIPT.match(script):
                return f"`{program} {' '.join(rest[:2])}` (a dev script; dev dependencies stay in the builder)"
        if program == "npx" and rest:
            return f"`npx {rest[0]}` (npx fetches or runs dev tools the runtime does not carry)"
        if program in ("next", "nuxt") and rest[:1] == ["dev"]:
            return f"`{program} dev` (a dev server)"
        if program == "flask" and rest[:1] == ["run"]:
            return "`flask run` (the development server)"
        if program.startswith("python") and rest[:2] == ["manage.py", "runserver"]:
            return "`manage.py runserver` (the development server)"
        if program.startswith("python") and rest[:2] == ["-m", "pytest"]:
            return "`python -m pytest` (tests and dev dependencies stay in the builder)"
        if program in ("uvicorn", "gunicorn", "hypercorn") and "--reload" in rest:
            return f"`{program} --reload` (reloads edited sources mounted into the container)"
        if program == "nest" and rest[:1] == ["start"]:
            return "`nest start` (compiles at start with the Nest CLI, a dev dependency)"
        if program in _DEV_PROGRAMS:
            return f"`{program}` (a development tool)"
    return None


def _commands(words: list[str]) -> Iterator[list[str]]:
    """The simple commands a command line runs, looking inside `sh -c "…"`."""
    if len(words) > 2 and posixpath.basename(words[0]) in ("sh", "bash", "ash") and words[1] in ("-c", "-ec", "-lc"):
        for segment in shell.segments(words[2]):
            yield shell.env_prefix(segment.words())[1]
        return
    yield shell.env_prefix(list(words))[1]


def _needs_shell(words: list[str]) -> bool:
    return bool(words) and posixpath.basename(words[0]) in ("sh", "bash", "ash", "dash")


def notes(
    dockerfile: Path,
    context_root: Path | None,
    workdir: str,
    has_shell: bool,
    develop_target: bool,
    original_workdir: str | None = None,
) -> list[str]:
    """One note per place that runs this image in a way the rewritten runtime stage cannot."""
    repo = repository_root(dockerfile.parent)
    fix = (
        "point it at the develop stage the rewrite adds (`build.target: develop`; --compose does it for dev files)"
        if develop_target
        else "`dockrewrite convert --targets develop --compose` adds a develop stage and points the service at it"
    )
    out: list[str] = []
    for path in compose_files(dockerfile, repo):
        for name, service in _services_building(path, dockerfile):
            where = f"{_shown(path, repo)}: service {name}"
            problems = []
            for key in ("command", "entrypoint"):
                words = _words(service.get(key))
                reason = dev_override(words) if words else None
                if reason:
                    problems.append(f"overrides {key} with {reason}")
                elif words and _needs_shell(words) and not has_shell:
                    out.append(
                        f"{where} runs `{words[0]}` as its {key}, and the runtime has no shell (--runtime alpine)"
                    )
            mount = _source_mount(service, workdir)
            if mount:
                problems.append(
                    f"mounts {mount} over {workdir}, where the runtime stage keeps only the built app and its "
                    "production dependencies"
                )
            elif original_workdir and original_workdir != workdir and _source_mount(service, original_workdir):
                # e.g. a dev server's live-reload mount over /app, while the runtime now serves files from nginx
                problems.append(
                    f"mounts {_source_mount(service, original_workdir)} over {original_workdir} for the original's "
                    f"live sources, which the runtime no longer runs from (it works in {workdir})"
                )
            if problems:
                out.append(f"{where} " + "; ".join(problems) + f": {fix}")
    root = context_root if context_root is not None else dockerfile.parent
    out += _heroku_notes(root, repo, has_shell)
    out += _manifest_notes(root, repo, has_shell)
    return out


def _heroku_notes(root: Path, repo: Path, has_shell: bool) -> list[str]:
    out: list[str] = []
    heroku = _load_yaml(root / "heroku.yml", repo)
    runs = heroku.get("run") if isinstance(heroku, dict) else None
    if isinstance(runs, dict):
        for process, value in runs.items():
            command = value.get("command") if isinstance(value, dict) else value
            words = _words(command)
            reason = dev_override(words) if words else None
            if reason:
                out.append(f"{_shown(root / 'heroku.yml', repo)}: process {process} runs {reason} in this image")
            elif isinstance(command, str) and not has_shell:
                out.append(
                    f"{_shown(root / 'heroku.yml', repo)}: process {process} is a string command, which Heroku "
                    "runs with /bin/sh -c, and the runtime has no shell (--runtime alpine or slim keeps one)"
                )
    text = _read(root / "Procfile", repo)
    for line in (text or "").splitlines():
        process, sep, command = line.partition(":")
        if not sep or not process.strip() or process.strip().startswith("#"):
            continue
        words = shell.split_words(command.strip())
        reason = dev_override(words) if words else None
        if reason:
            out.append(
                f"{_shown(root / 'Procfile', repo)}: process {process.strip()} runs {reason}; a platform "
                "that runs Procfile lines in the image (Dokku) cannot run it with the rewrite"
            )
    return out


def _manifest_notes(root: Path, repo: Path, has_shell: bool) -> list[str]:
    out: list[str] = []
    for path in _manifests(root, repo):
        for doc in _load_yaml_all(path, repo):
            for name, container in _containers(doc):
                words = _words(container.get("command")) + _words(container.get("args"))
                reason = dev_override(words) if words else None
                where = f"{_shown(path, repo)}: container {name}"
                if reason:
                    out.append(f"{where} runs {reason}; if it runs this image, the rewrite's runtime cannot")
                elif _needs_shell(_words(container.get("command"))) and not has_shell:
                    out.append(f"{where} runs a shell; if it runs this image, the rewrite's runtime has none")
    return out


def _containers(doc) -> Iterator[tuple[str, dict]]:
    if not isinstance(doc, dict) or doc.get("kind") not in _WORKLOADS:
        return
    spec = doc.get("spec") or {}
    for key in ("jobTemplate", "template"):  # CronJob -> Job -> Pod; Deployment -> Pod
        if isinstance(spec, dict) and isinstance(spec.get(key), dict):
            spec = spec[key].get("spec") or {}
    if isinstance(spec, dict) and isinstance(spec.get("template"), dict):
        spec = spec["template"].get("spec") or {}
    for container in (spec.get("containers") or []) if isinstance(spec, dict) else []:
        if isinstance(container, dict):
            yield str(container.get("name", "?")), container


def _manifests(root: Path, repo: Path, limit: int = 200) -> Iterator[Path]:
    count = 0
    for folder in _MANIFEST_DIRS:
        base = root / folder
        if not base.is_dir() or base.is_symlink() or not stays_inside(base, repo):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            if dirpath.count(os.sep) - str(base).count(os.sep) > 3:
                dirnames[:] = []
            for name in sorted(filenames):
                if name.endswith((".yaml", ".yml")):
                    yield Path(dirpath) / name
                    count += 1
                    if count >= limit:
                        return


def _services_building(compose: Path, dockerfile: Path) -> Iterator[tuple[str, dict]]:
    """Services of a compose file that build this Dockerfile, and not one of its targets."""
    from dockrewrite.compose import built_dockerfile

    data = _load_yaml(compose, repository_root(compose.parent))
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        return
    target = dockerfile.resolve()
    for name, service in services.items():
        build = service.get("build") if isinstance(service, dict) else None
        if built_dockerfile(compose, service) == target and not (isinstance(build, dict) and "target" in build):
            yield str(name), service


def _source_mount(service: dict, workdir: str) -> str | None:
    """A host folder bind-mounted onto the app's folder (or one above or below it)."""
    for volume in service.get("volumes") or []:
        if isinstance(volume, str) and ":" in volume:
            source, _, rest = volume.partition(":")
            target = rest.split(":", 1)[0]
        elif isinstance(volume, dict) and volume.get("type") == "bind":
            source, target = str(volume.get("source", "")), str(volume.get("target", ""))
        else:
            continue
        if not source.startswith((".", "/", "~")) or not target.startswith("/"):
            continue
        a, b = posixpath.normpath(target), posixpath.normpath(workdir)
        if a == b or b.startswith(a.rstrip("/") + "/"):
            return source
    return None


def _words(value) -> list[str]:
    if isinstance(value, str):
        return shell.split_words(value)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    return []


def _shown(path: Path, repo: Path) -> str:
    try:
        return path.relative_to(repo).as_posix()
    except ValueError:
        return str(path)


def _read(path: Path, repo: Path) -> str | None:
    """A small file inside the repository, decoded leniently; None when absent, too big or a link out."""
    try:
        if not path.is_file() or not stays_inside(path, repo) or path.stat().st_size > MAX_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _load_yaml(path: Path, repo: Path):
    docs = _load_yaml_all(path, repo)
    return docs[0] if docs else None


def _load_yaml_all(path: Path, repo: Path) -> list:
    text = _read(path, repo)
    return [] if text is None else list(yaml_documents(text))


@lru_cache(maxsize=256)
def yaml_documents(text: str) -> tuple:
    """The documents of a YAML text read safely (never run), or none for a template or a broken file. Parsed
    once per text: in a monorepo every service's rewrite reads the same root compose file."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return tuple(YAML(typ="safe", pure=True).load_all(text))
    except (YAMLError, ValueError, TypeError, RecursionError):
        return ()  # a template (helm `{{ }}`) or a broken file: nothing to say about it
