"""When `auto` may run a Node server on distroless nodejs (no shell, no npm, node as the entrypoint), and why not."""

from __future__ import annotations

import re
from pathlib import Path

from dockrewrite import images
from dockrewrite.compose import compose_files
from dockrewrite.paths import repository_root
from dockrewrite.providers.common import healthcheck_command
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node import package as npkg
from dockrewrite.providers.node import sources as nsrc
from dockrewrite.runtimes import distroless, select

# Native addons that bundle or build their own libraries and need no more than distroless cc has (glibc,
# libgcc, libstdc++, OpenSSL). The other NATIVE_PACKAGES link system libraries (canvas: cairo and pango;
# kerberos: libkrb5; oracledb, odbc, ibm_db: client libraries; node-rdkafka: libsasl2, zstd) or start
# programs (node-pty runs a shell; Prisma finds its engine by running `openssl version` through sh).
SELF_CONTAINED_ADDONS = frozenset(
    {
        *("bcrypt", "argon2", "sqlite3", "better-sqlite3", "sharp", "node-sass", "sodium-native", "bufferutil"),
        *("utf-8-validate", "libxmljs", "libxmljs2", "re2", "cpu-features", "grpc", "leveldown", "serialport"),
        *("@serialport/bindings-cpp", "isolated-vm", "deasync", "farmhash", "lmdb", "msgpackr-extract", "esbuild"),
        *("@swc/core", "hiredis"),
    }
)
# Packages whose purpose is to run other programs (a shell, a browser, ffmpeg, git), which distroless lacks and
# cannot install; on slim a maintainer can add them.
_PROCESS_PACKAGES = frozenset(
    {
        *("shelljs", "execa", "cross-spawn", "node-cmd", "shell-exec", "zx", "child-process-promise", "pm2"),
        *("puppeteer", "puppeteer-core", "playwright", "playwright-core", "fluent-ffmpeg", "simple-git"),
    }
)
_CHILD_PROCESS = re.compile(r"""(['"])(?:node:)?child_process\1""")
_PINNED = re.compile(r"^v?\d+\.\d+")


class DistrolessChoice:
    """Whether `auto` puts a Node server on distroless nodejs: only when the analysis shows that nothing at run
    time needs a shell, npm, a package manager or a program distroless lacks. The distroless plan itself refuses
    (raises Skip for) commands that are not plain node, RUN steps and packages in the runtime, global CLIs and
    wrappers; these methods add what it would carry without complaint but what would then behave differently."""

    def _distroless_out_of_reach(self) -> bool:
        """What rules distroless out from the start, with nothing worth telling: the builder's C library, no
        distroless image of that Node, or a context that cannot be read (stdin)."""
        nodejs = select.for_language("distroless", "node")
        published = nodejs is not None and nodejs.image("node", self.stage.image, self.facts.major) is not None
        return not self.ctx.known or self.facts.alpine or not published

    def _distroless_blocker(self) -> str | None:
        """Why a distroless plan that could be written would not behave as the original, or None."""
        stage = self.stage
        text = stage.image.split("@", 1)[0]
        if "$" in text:
            return (
                f"{text} follows a build argument, and distroless images are one per Node major, so the runtime "
                "would not follow a different --build-arg"
            )
        tag = images.tag_of(self.facts.resolved)
        if _PINNED.match(tag):
            return (
                f"{self.facts.resolved} pins a Node release, and distroless publishes one image per major "
                f"(the newest Node {self.facts.major}), which would change it"
            )
        if "trixie" in tag and self.facts.native:
            return "native addons built on Debian trixie need a newer glibc than distroless (Debian 12) has"
        user = self.facts.user
        if user and user.split(":")[0] not in ("nonroot", distroless.NONROOT_UID):
            return (
                f"the original runs as USER {user}, which distroless does not have: its nonroot user (65532) would "
                "not own what that user owns, such as files in volumes"
            )
        for ins in (self.facts.entry, self.facts.cmd):
            if ins is not None and ins.args and not ins.json:
                # exec form would change what the original did: no sh as PID 1, `docker run` arguments appended
                return (
                    f"the shell-form {ins.keyword} (line {ins.line}) runs through /bin/sh, which distroless does not "
                    "have (in exec form it could go there)"
                )
        if self.facts.no_command:
            return "there is no CMD: a command given from outside would be handed to distroless's node as arguments"
        hc = stage.last("HEALTHCHECK")
        if hc is not None and hc.args and hc.args[0].upper() != "NONE" and not _node_check(hc):
            return (
                f"the HEALTHCHECK (line {hc.line}) runs a program other than node, or a shell, and distroless has "
                "neither"
            )
        if "develop" in self.options.targets:
            return "--targets develop builds a development stage that keeps the runtime's command, written for node"
        native = self._unbundled_addon()
        if native:
            return native
        runs = self._runs_programs()
        if runs:
            return runs
        return deployment_override(self.ctx.root)

    def _unbundled_addon(self) -> str | None:
        """A native addon that may link a library or run a program distroless lacks."""
        if not self.facts.native:
            return None
        known = sorted(d for d in self.facts.pkg.deps() if d in npkg.NATIVE_PACKAGES)
        other = [d for d in known if d not in SELF_CONTAINED_ADDONS]
        if other:
            return f"the native addon {other[0]} needs system libraries or programs distroless does not have"
        if not known:
            return f"an addon is compiled ({self.facts.native}) and what it links is not known"
        return None

    def _runs_programs(self) -> str | None:
        """The app starts other programs (child_process, shelljs, puppeteer …): exec() runs /bin/sh, and the
        programs themselves are not in distroless either."""
        files, sources = self._start_sources()
        for rel, text in nsrc.local_modules(self.ctx, files, also=sources):
            if _CHILD_PROCESS.search(text):
                return f"{rel} starts other programs (child_process), and distroless has no shell or tools"
        loaded = sorted(p for p in self._loaded() if p in _PROCESS_PACKAGES)
        if loaded:
            return f"the app loads {loaded[0]}, which runs other programs, and distroless has no shell or tools"
        declared = sorted(p for p in self.facts.pkg.deps() if p in _PROCESS_PACKAGES)
        if declared:
            return f"the app depends on {declared[0]}, which runs other programs, and distroless has no shell or tools"
        return None


def deployment_override(root: Path) -> str | None:
    """A compose service, Procfile, heroku.yml or Kubernetes container that gives this image its own command,
    entrypoint or health check, or a user by a name: on distroless the command would become node's arguments,
    a shell or a program the check runs is not there, nor is a user named `node`. Compose services count when
    they build this context."""
    # the readers of the deployment notes: bounded, inside the repository, never run
    from dockrewrite.deployments import _containers, _load_yaml, _load_yaml_all, _manifests, _read, _shown

    repo = repository_root(root)
    here = root.resolve()
    for path in compose_files(root / "Dockerfile", repo):
        data = _load_yaml(path, repo)
        services = data.get("services") if isinstance(data, dict) else None
        for name, service in services.items() if isinstance(services, dict) else ():
            build = service.get("build") if isinstance(service, dict) else None
            context = build.get("context", ".") if isinstance(build, dict) else build
            if not isinstance(context, str) or (path.parent / context).resolve() != here:
                continue
            keys = [k for k in ("command", "entrypoint", "healthcheck") if service.get(k)]
            if keys:
                return f"{_shown(path, repo)}: service {name} sets its own {keys[0]}"
            user = str(service.get("user") or "").split(":")[0]
            if user and not user.isdigit() and user not in distroless.USERS:
                return f"{_shown(path, repo)}: service {name} runs as user {user}, whom distroless does not have"
    if (_read(root / "Procfile", repo) or "").strip():
        return f"{_shown(root / 'Procfile', repo)} gives the image its commands"
    heroku = _load_yaml(root / "heroku.yml", repo)
    if isinstance(heroku, dict) and heroku.get("run"):
        return f"{_shown(root / 'heroku.yml', repo)} gives the image its commands"
    for path in _manifests(root, repo):
        for doc in _load_yaml_all(path, repo):
            for name, container in _containers(doc):
                probes = ("livenessProbe", "readinessProbe", "startupProbe")
                exec_probe = any(isinstance(container.get(p), dict) and "exec" in container[p] for p in probes)
                if container.get("command") or container.get("args") or exec_probe:
                    return f"{_shown(path, repo)}: container {name} sets its own command or runs a check in it"
    return None


def _node_check(hc) -> bool:
    """Whether a HEALTHCHECK runs node on a script, with no shell: the distroless rewrite writes it in exec form
    with the image's own node."""
    if hc.args[0].upper() != "CMD":
        return False
    argv = healthcheck_command(hc).as_simple_argv()
    return bool(argv) and cmds.is_node(argv[0])
