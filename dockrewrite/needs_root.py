"""When the runtime must stay root although the original had no USER line.

The rewrites run as an unprivileged user by default. Some images only work as root: the app talks to the
Docker socket, the command starts system services, or the image is a GitHub Docker action (GitHub runs
those as root and documents that their Dockerfile must not set USER). Those keep root, with the reason.
"""

from __future__ import annotations

import json
import posixpath
import re

from dockrewrite import tools
from dockrewrite.context import BuildContext
from dockrewrite.model import Command, Stage

# Programs that start system daemons, which write under /run and /var/log and often bind low ports.
_SERVICES = frozenset(
    {"service", "systemctl", "supervisord", "cron", "crond", "sshd", "rsyslogd", "apache2ctl", "httpd", "nginx"}
)
_DOCKER_PACKAGES = re.compile(r"(?<![\w-])(docker\.io|docker-ce-cli|docker-cli|docker-ce|moby-cli)(?![\w-])")
_DOCKER_PYPI = re.compile(r"^\s*docker\s*([<>=!~;\[]|$)", re.MULTILINE | re.IGNORECASE)


def reason(stage: Stage, ctx: BuildContext, script_programs: list[str] = ()) -> str | None:
    """Why this image needs root at run time, or None."""
    action = _docker_action(ctx)
    if action:
        return f"{action} makes this a GitHub Docker action: GitHub runs it as root (its Dockerfile must not set USER)"
    for ins in stage.find("CMD", "ENTRYPOINT"):
        if not ins.args:
            continue
        for program in tools.programs(Command.of(ins))[0]:
            if _service(program):
                return f"{ins.keyword} (line {ins.line}) starts `{posixpath.basename(program)}`, a system service"
    for program in script_programs:
        if _service(program):
            return f"the start script runs `{posixpath.basename(program)}`, a system service"
    socket = _docker_socket(stage, ctx)
    if socket:
        return f"{socket}, and the Docker socket belongs to root"
    return None


def _service(program: str) -> bool:
    """A system daemon by name (an app's own binary that happens to be called httpd lives elsewhere)."""
    if "/" in program and not program.startswith(("/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/", "/etc/init.d/")):
        return False
    return posixpath.basename(program) in _SERVICES


def _docker_action(ctx: BuildContext) -> str | None:
    for name in ("action.yml", "action.yaml"):
        text = ctx.read_text(name) if ctx.known else None
        if text and re.search(r"^\s*using:\s*['\"]?docker['\"]?\s*$", text, re.MULTILINE):
            return name
    return None


def _docker_socket(stage: Stage, ctx: BuildContext) -> str | None:
    for ins in stage.instructions:
        if ins.keyword == "RUN" and _DOCKER_PACKAGES.search(ins.shell):
            return f"line {ins.line} installs the Docker CLI"
        if ins.keyword in ("VOLUME", "ENV") and "docker.sock" in ins.text:
            return f"line {ins.line} names docker.sock"
    if not ctx.known:
        return None
    for name in ctx.entries:
        if re.fullmatch(r"requirements[\w.-]*\.txt", name) and _DOCKER_PYPI.search(ctx.read_text(name) or ""):
            return f"{name} installs the Docker SDK"
    package = ctx.read_text("package.json")
    if package:
        try:
            data = json.loads(package)
        except ValueError:
            data = {}
        deps = data.get("dependencies") if isinstance(data, dict) else None
        if isinstance(deps, dict) and ("dockerode" in deps or "docker-modem" in deps):
            return "package.json depends on dockerode"
    gomod = ctx.read_text("go.mod") or ""
    if re.search(r"github\.com/docker/docker\b|github\.com/moby/moby\b", gomod):
        return "go.mod requires the Docker client"
    return None
