"""`--compose`: point development services of docker-compose files at the `develop` target.

Only services that build the converted Dockerfile and look like development setups (the compose
file's name says dev/override/local, or the service bind-mounts its source) are changed; the YAML
keeps its comments, order and quoting (ruamel.yaml round-trip).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

COMPOSE_NAMES = re.compile(r"^(docker-)?compose([.-][\w.-]+)?\.ya?ml$")
_DEV_FILE = re.compile(r"dev|override|local", re.IGNORECASE)


def compose_files(dockerfile: Path, root: Path) -> list[Path]:
    """Compose files in the Dockerfile's folder and its parents, up to root."""
    found: list[Path] = []
    folder = dockerfile.resolve().parent
    top = root.resolve()
    while True:
        found += sorted(p for p in folder.iterdir() if p.is_file() and COMPOSE_NAMES.match(p.name))
        if folder == top or folder.parent == folder or not folder.is_relative_to(top):
            break
        folder = folder.parent
    return found


def retarget(compose: Path, dockerfile: Path, target: str = "develop") -> tuple[str | None, list[str]]:
    """(new text of the compose file, or None when nothing changes; notes for the user)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    text = compose.read_text(encoding="utf-8")
    yaml.indent(**_indentation(text))
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        return None, [f"{compose}: not valid YAML, left as is ({str(exc).splitlines()[0]})"]
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        return None, []
    notes: list[str] = []
    changed = False
    for name, service in services.items():
        if not isinstance(service, dict) or "build" not in service:
            continue
        build = service["build"]
        context, file_ = (
            (build, "Dockerfile")
            if isinstance(build, str)
            else (build.get("context", "."), build.get("dockerfile", "Dockerfile"))
        )
        if not isinstance(context, str) or not isinstance(file_, str):
            continue
        built = (compose.parent / context / file_).resolve()
        if built != dockerfile.resolve():
            continue
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
