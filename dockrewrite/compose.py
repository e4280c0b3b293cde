"""`--compose`: point development services of docker-compose files at the `develop` target.

Only services that build the converted Dockerfile and look like development setups (the compose
file's name says dev/override/local, or the service bind-mounts its source) are changed; the YAML
keeps its comments, order and quoting (ruamel.yaml round-trip).
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

COMPOSE_NAMES = re.compile(r"^(docker-)?compose([.-][\w.-]+)?\.ya?ml$")
_DEV_FILE = re.compile(r"dev|override|local", re.IGNORECASE)


@dataclass(frozen=True)
class ComposeEdit:
    """One compose file's change, worked out and encoded before anything is written."""

    path: Path
    old: str
    new: str
    data: bytes  # `new` in the file's own encoding, BOM and line endings


class ComposeError(Exception):
    """A compose file that needs the change cannot take it; neither it nor the Dockerfile may be written."""


def prepare(dockerfile: Path, root: Path, target: str = "develop") -> tuple[list[ComposeEdit], list[str]]:
    """Every compose-file edit for this Dockerfile, read, decoded and encoded up front (so the caller can
    write the Dockerfile and the compose files, or neither); notes for the user. Raises ComposeError when a
    file that needs the change cannot be encoded back."""
    from dockrewrite import source

    edits: list[ComposeEdit] = []
    notes: list[str] = []
    try:
        paths = compose_files(dockerfile, root)
    except OSError as exc:
        return [], [f"compose files not searched: {exc.strerror or exc}"]
    for path in paths:
        try:
            old, fmt = source.read(path)
        except (OSError, source.SourceError) as exc:
            notes.append(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc}), left as is")
            continue
        new, found = _retarget_text(old, path, dockerfile, target)
        notes += found
        if new is None:
            continue
        try:
            data = source.encode(new, fmt)
        except source.SourceError as exc:
            raise ComposeError(f"{path}: {exc}") from None
        edits.append(ComposeEdit(path, old, new, data))
    return edits, notes


def compose_files(dockerfile: Path, root: Path) -> list[Path]:
    """Compose files in the Dockerfile's folder and its parents, up to root."""
    found: list[Path] = []
    folder = dockerfile.resolve().parent
    top = root.resolve()
    while True:
        with contextlib.suppress(OSError):  # a folder we may not list holds nothing we can read
            found += sorted(p for p in folder.iterdir() if COMPOSE_NAMES.match(p.name) and p.is_file())
        if folder == top or folder.parent == folder or not folder.is_relative_to(top):
            break
        folder = folder.parent
    return found


def retarget(compose: Path, dockerfile: Path, target: str = "develop") -> tuple[str | None, list[str]]:
    """(new text of the compose file, or None when nothing changes; notes for the user)."""
    from dockrewrite import source

    try:
        text, _ = source.read(compose)
    except (OSError, source.SourceError) as exc:
        return None, [f"{compose}: cannot be read ({getattr(exc, 'strerror', None) or exc}), left as is"]
    return _retarget_text(text, compose, dockerfile, target)


def _retarget_text(text: str, compose: Path, dockerfile: Path, target: str) -> tuple[str | None, list[str]]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(**_indentation(text))
    try:
        with warnings.catch_warnings():  # ruamel warns on stderr about reused anchors and the like
            warnings.simplefilter("ignore")
            data = yaml.load(text)
    except (YAMLError, ValueError, TypeError, RecursionError) as exc:
        # ruamel raises ValueError/TypeError on some malformed input (odd tags, unhashable keys)
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        return None, [f"{compose}: not valid YAML, left as is ({first})"]
    try:
        return _retarget_data(yaml, data, compose, dockerfile, target)
    except (YAMLError, ValueError, TypeError, RecursionError, OSError) as exc:
        return None, [f"{compose}: cannot be rewritten ({type(exc).__name__}: {exc}), left as is"]


def built_dockerfile(compose: Path, service) -> Path | None:
    """The Dockerfile a compose service builds (`build: dir` or `build: {context, dockerfile}`), resolved;
    None when the service builds nothing this way."""
    build = service.get("build") if isinstance(service, dict) else None
    if isinstance(build, str):
        context, file_ = build, "Dockerfile"
    elif isinstance(build, dict):
        context, file_ = build.get("context", "."), build.get("dockerfile", "Dockerfile")
    else:
        return None  # `build:` with no value or a list: not something that names a Dockerfile
    if not isinstance(context, str) or not isinstance(file_, str):
        return None
    try:
        return (compose.parent / context / file_).resolve()
    except (OSError, ValueError):  # a NUL byte or a loop in the path: no Dockerfile
        return None


def _retarget_data(yaml, data, compose: Path, dockerfile: Path, target: str) -> tuple[str | None, list[str]]:
    from ruamel.yaml.comments import CommentedMap

    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        return None, []
    notes: list[str] = []
    changed = False
    for name, service in services.items():
        if built_dockerfile(compose, service) != dockerfile.resolve():
            continue
        build = service["build"]
        if isinstance(build, dict) and "target" in build:
            notes.append(f"{compose}: service {name} already builds target {build['target']}; left as is")
            continue
        if not (_DEV_FILE.search(compose.name) or _mounts_source(service)):
            notes.append(
                f"{compose}: service {name} builds this Dockerfile but does not look like a development "
                "setup (no source bind mount, not a dev/override file); it keeps the production target"
            )
            continue
        if isinstance(build, str):
            mapping = CommentedMap()
            mapping["context"] = build
            mapping["target"] = target
            service["build"] = mapping
        else:
            build["target"] = target
        changed = True
        notes.append(f"{compose}: service {name} now builds target {target}")
    if not changed:
        return None, notes
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue(), notes


def _indentation(text: str) -> dict[str, int]:
    """The file's own mapping indent and list style, so a round trip does not re-indent it."""
    mapping, offset = 2, 0
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    steps = sorted(
        {
            len(b) - len(b.lstrip()) - (len(a) - len(a.lstrip()))
            for a, b in zip(lines, lines[1:], strict=False)
            if a.rstrip().endswith(":") and not b.lstrip().startswith("- ")
        }
        - {0}
    )
    if steps and steps[0] > 0:
        mapping = steps[0]
    for a, b in zip(lines, lines[1:], strict=False):
        if a.rstrip().endswith(":") and b.lstrip().startswith("- "):
            offset = max(0, (len(b) - len(b.lstrip())) - (len(a) - len(a.lstrip())))
            break
    return {"mapping": mapping, "sequence": offset + 2, "offset": offset}


def _mounts_source(service: dict) -> bool:
    """A bind mount from the host (`.:/app`, `./src:/app/src`, `type: bind`): the code is edited live."""
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            if ":" in volume and volume.split(":", 1)[0].startswith((".", "/", "~")):
                return True
        elif isinstance(volume, dict) and volume.get("type") == "bind":
            return True
    return False
