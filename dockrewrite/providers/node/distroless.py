"""When `auto` may run a Node server on distroless (nodejs, or static with the builder's own node), and why not."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dockrewrite import images, ops
from dockrewrite.compose import compose_files
from dockrewrite.model import Command
from dockrewrite.paths import repository_root
from dockrewrite.providers import linked
from dockrewrite.providers.common import healthcheck_command, healthcheck_exec
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node import package as npkg
from dockrewrite.providers.node import sources as nsrc
from dockrewrite.providers.node.runtime import has_programs
from dockrewrite.results import Skip
from dockrewrite.runtimes import distroless, select
from dockrewrite.runtimes.base import Runtime

# Native addons that bundle or build their own libraries and need no more than distroless cc has (glibc,
# libgcc, libstdc++, OpenSSL).
SELF_CONTAINED_ADDONS = frozenset(
    {
        *("bcrypt", "argon2", "sqlite3", "better-sqlite3", "sharp", "node-sass", "sodium-native", "bufferutil"),
        *("utf-8-validate", "libxmljs", "libxmljs2", "re2", "cpu-features", "grpc", "leveldown", "serialport"),
        *("@serialport/bindings-cpp", "isolated-vm", "deasync", "farmhash", "lmdb", "msgpackr-extract", "esbuild"),
        *("@swc/core", "hiredis"),
    }
)
# Addons whose every run-time need beyond distroless nodejs is a shared library they link (DT_NEEDED), which the
# builder's loader finds and the rewrite copies (providers/linked.py), with no program, plugin or data file:
# - libpq (pg-native's binding, pg-native itself only JS over it): `-lpq` from pg_config's libdir. libpq5 links
#   GSSAPI, LDAP and OpenSSL; its GSSAPI uses credentials already in a cache (no password login, so none of
#   Kerberos' preauthentication plugins), its LDAP service lookup binds anonymously (no SASL plugins), and
#   ~/.pgpass and pg_service.conf are the app's, as on slim;
# - zeromq: libzmq built into its own folder (prebuilt or from its vendored source); usb: libusb built from its
#   own source (v2) or the system's libudev (v1), both linked.
LINKED_ADDONS = frozenset({"libpq", "pg-native", "zeromq", "usb"})
# The other addons need what no link shows, so distroless cannot be checked to have it; slim can install it.
NEEDS_MORE = {
    # checkPassword logs in with a password: libkrb5-3 opens its SPAKE preauthentication plugin
    # (krb5/plugins/preauth/spake.so) when the KDC offers it, a file the gathered libraries leave behind
    "kerberos": "logs in through MIT Kerberos, which opens its preauthentication plugins itself (dlopen)",
    "canvas": "reads fontconfig's configuration and the fonts it draws text with, which distroless does not have",
    "node-pty": "starts a shell in the terminals it opens, and distroless has none",
    "oracledb": "opens Oracle's client library itself (dlopen, thick mode), which no link shows",
    "odbc": "opens the ODBC drivers odbcinst.ini names itself (dlopen), which no link shows",
    "ibm_db": "its CLI driver opens further libraries itself (dlopen), which no link shows",
    "node-rdkafka": "librdkafka's SASL opens its mechanism plugins itself (dlopen), which no link shows",
    "@tensorflow/tfjs-node": "TensorFlow opens device and kernel libraries itself (dlopen), which no link shows",
    "@prisma/client": "Prisma picks its engine by running `openssl version` through a shell, which distroless lacks",
    "prisma": "Prisma picks its engine by running `openssl version` through a shell, which distroless lacks",
}
NODEJS_RELEASE = distroless.NODEJS_CODENAME  # what a builder gathering libraries for the nodejs image must be
NODE_BINARY = "/usr/local/bin/node"  # the node images' own, whose loader the builder lists the addons' needs with
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
    """Whether `auto` puts a Node server on distroless (nodejs, or static with the builder's node where the nodejs
    image cannot serve): only when the analysis shows that nothing at run
    time needs a shell, npm, a package manager or a program distroless lacks. The distroless plan itself refuses
    (raises Skip for) commands that are not plain node, RUN steps and packages in the runtime, global CLIs and
    wrappers; these methods add what it would carry without complaint but what would then behave differently."""

    def _distroless_out_of_reach(self) -> bool:
        """What rules distroless out from the start, with nothing worth telling: the builder's C library, a tag
        that names no Node major (node:lts), or a context that cannot be read (stdin). A major with no nodejs
        image goes to static with the builder's own node (_static_reason)."""
        return not self.ctx.known or self.facts.alpine or self.facts.major is None

    def _static_reason(self) -> str | None:
        """Why the distroless nodejs image cannot serve this Node where distroless static with the builder's own
        node can (a pinned release, a major with no nodejs image, a Node version from a build argument, addons
        built on trixie or whose libraries come from a builder of another Debian release than the nodejs image's),
        or None: then the nodejs image is the choice."""
        if self.facts.alpine or self.facts.major is None:
            return None
        if _PINNED.match(images.tag_of(self.facts.resolved)):
            return (
                f"{self.facts.resolved} pins a Node release, and the distroless nodejs image is the newest Node "
                f"{self.facts.major}"
            )
        nodejs = select.for_language("distroless", "node")
        if nodejs is None or nodejs.image("node", self.stage.image, self.facts.major) is None:
            return f"distroless publishes no nodejs image of Node {self.facts.major}"
        text = self.stage.image.split("@", 1)[0]
        name, _, tag = text.partition(":")
        if "$" in tag and "$" not in name and "alpine" not in tag:
            # the builder's node follows a different --build-arg; a whole image from an argument could be alpine
            return f"{text} follows a build argument, and the nodejs images are one per major"
        if "trixie" in images.tag_of(self.facts.resolved) and self.facts.native:
            return "native addons built on Debian trixie need its glibc, newer than the nodejs image's (Debian 12)"
        if self._gather_refusal(static=False) and not self._gather_refusal(static=True):
            return (
                f"{self._linked_need()} shared libraries, and {self.facts.resolved} is not of the nodejs image's "
                f"Debian release ({NODEJS_RELEASE}), so its glibc travels with them"
            )
        return None

    def _distroless_variant(self) -> Runtime | None:
        """The distroless Runtime for this Node: static with the builder's own node where the nodejs image cannot
        serve, else the nodejs image."""
        return distroless.NODE_STATIC if self.static_node else select.for_language("distroless", "node")

    def _distroless_blocker(self) -> str | None:
        """Why a distroless plan that could be written would not behave as the original, or None."""
        stage = self.stage
        text = stage.image.split("@", 1)[0]
        if "$" in text and not self.static_node:
            return (
                f"{text} follows a build argument, and distroless images are one per Node major, so the runtime "
                "would not follow a different --build-arg"
            )
        tag = images.tag_of(self.facts.resolved)
        if _PINNED.match(tag) and not self.static_node:
            return (
                f"{self.facts.resolved} pins a Node release, and distroless publishes one image per major "
                f"(the newest Node {self.facts.major}), which would change it"
            )
        if "trixie" in tag and self.facts.native and not self.static_node:
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
        native = self._unbundled_addon() or self._gather_refusal(static=bool(self.static_node))
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
        other = [d for d in known if d not in SELF_CONTAINED_ADDONS and d not in LINKED_ADDONS]
        if other:
            why = NEEDS_MORE.get(other[0], "needs system libraries or programs distroless does not have")
            return f"the native addon {other[0]} {why}"
        if not known:
            return f"an addon is compiled ({self.facts.native}) and what it links is not known"
        return None

    def _linked_need(self) -> str | None:
        """What links libraries the runtime needs from the build, with its verb ("the native addon libpq links"):
        the addons built against the -dev packages the original installs, or an addon that links system
        libraries; None when nothing does."""
        dev = self._dev_packages()
        if dev:
            return f"the native addons built against {', '.join(dev)} link"
        linked = sorted(d for d in self.facts.pkg.deps() if d in LINKED_ADDONS)
        return f"the native addon {linked[0]} links" if linked else None

    def _gather_refusal(self, static: bool = False) -> str | None:
        """Why the libraries the addons link cannot be gathered for distroless, or None (also when none are
        needed). On static (`static`) the builder's glibc travels with them, so no Debian release must match."""
        need = self._linked_need()
        if need is None:
            return None
        refused = self._unbundled_addon()
        if refused:
            return refused
        dev = self._dev_packages()
        if dev and not any(d in LINKED_ADDONS for d in self.facts.pkg.deps()):
            # an addon that bundles its library but builds against the system's when one is there may open
            # more than it links (sharp on a global libvips opens vips' loader modules)
            return (
                f"{', '.join(dev)} {'is' if len(dev) == 1 else 'are'} installed for an addon not known to need only "
                "the libraries it links"
            )
        release = images.family(self.facts.resolved)
        if release != NODEJS_RELEASE and not static:
            named = f"names Debian {release}" if release else "names no Debian release"
            return (
                f"{need} shared libraries that distroless gets from the builder, whose Debian release must be the "
                f"runtime's ({NODEJS_RELEASE}): the tag of {self.facts.resolved} {named} (an explicit "
                f"-{NODEJS_RELEASE} tag such as node:{self.facts.major}-{NODEJS_RELEASE} lets it go distroless)"
            )
        return None

    def _linked_steps(
        self, rt: Runtime, image: str, first: list[ops.Op], setup: list[ops.Op], standalone: bool
    ) -> tuple[list[ops.Op], list[ops.Op]]:
        """On a base that cannot install packages: the first build stage gathers the libraries the addons in
        node_modules link that the base lacks, and the runtime copies them. Refused with the reason when they
        cannot be gathered; on `auto` the blocker says it and the slim plan is written instead."""
        static = rt is distroless.NODE_STATIC
        if has_programs(rt) or (self._linked_need() is None and not static):
            return first, setup
        refusal = self._gather_refusal(static=static)
        if refusal:
            if self.auto_distroless:
                return first, setup
            raise Skip(f"{refusal}; use --runtime slim", self.stage.from_.line)
        modules = self._at(".next/standalone" if standalone else "node_modules")
        repository = images.split_ref(image)[0]
        stage = "builder" if standalone else "deps"
        if static:
            return self._static_steps(modules, repository, stage, first, setup)
        gather = linked.gather(
            (modules,),
            NODE_BINARY,
            NODEJS_RELEASE,
            repository,
            rt.libraries,
            (
                f"# The shared libraries the native addons in {modules} link that {repository.rsplit('/', 1)[-1]}",
                f"# lacks, copied under {linked.LIBS_TREE} at their own paths. The loader lists what each ELF file",
                "# needs as the runtime will look for it (no ld.so.cache), and a library it cannot find fails the",
                "# build, as does a builder of another Debian release than the runtime's. Left out: what that folder",
                "# holds (it travels with it) and what the runtime has (glibc, libgcc_s, libstdc++, OpenSSL)",
            ),
            keep_out=(modules,),
        )
        self.note(
            "DR602",
            f"{self._linked_need()} shared libraries {rt.name} {rt.variant} lacks: the builder gathers them with the "
            f"loader ({linked.LIBS_TREE}) and the runtime copies them, in place of the packages slim would install; a "
            "library an addon opens itself (dlopen) is not linked, so not found",
        )
        copy = linked.copy(stage, ("# The shared libraries the native addons link, at their own paths",))
        return [*first, gather], [*setup, copy]

    def _static_steps(
        self, modules: str, repository: str, stage: str, first: list[ops.Op], setup: list[ops.Op]
    ) -> tuple[list[ops.Op], list[ops.Op]]:
        """On distroless static: the first build stage gathers every library the builder's node and the addons
        link, glibc and its loader included; the runtime copies them and the node binary to their own paths."""
        gather = linked.gather(
            (NODE_BINARY, modules),
            NODE_BINARY,
            None,
            repository,
            (),
            (
                f"# Every shared library the builder's node and any native addons in {modules} link, glibc and",
                f"# its loader included, copied from this builder under {linked.LIBS_TREE} at their own paths, so node",
                "# runs on the very libraries it was built with and distroless static needs no Debian release of",
                "# its own. The loader lists what each ELF file needs as the runtime will look for it (no",
                "# ld.so.cache), and a library it cannot find fails the build. Added: what glibc opens itself",
                "# (libgcc_s for thread exit, the NSS modules). Left out: what that folder holds (it travels with it)",
            ),
            keep_out=(modules,),
        )
        self.note(
            "DR501",
            f"distroless static runs the builder's own node ({NODE_BINARY} of {self.facts.resolved}), copied to "
            "the same path, so the Node version is the original's exactly, with the builder's glibc, so no Debian "
            f"release has to match: {self.static_node}",
        )
        self.note(
            "DR602",
            f"the builder lists the shared libraries node and the addons in {modules} link (ld.so, as the runtime's "
            "loader finds them) and the runtime gets every one, glibc included; a library an addon opens itself "
            "(dlopen) is not linked, so not found",
        )
        node = ops.step(
            f"COPY --from={stage} {NODE_BINARY} {NODE_BINARY}",
            ("# The builder's own node, at its own path (on PATH, as in the node images)",),
        )
        copy = linked.copy(stage, ("# The shared libraries node and the native addons link, at their own paths",))
        return [*first, gather], [*setup, node, copy]

    def _static_commands(self, rt: Runtime, out: dict[str, str | None]) -> dict[str, str | None]:
        """On distroless static node is on PATH as in the node images, so the commands keep it, but with no shell
        and no other program there, what runs must be node itself in exec form: the command and the health
        check."""
        nodes = ("node", NODE_BINARY)  # not `nodejs`, a link of the node images the runtime does not get
        for keyword, item in (("ENTRYPOINT", self.facts.entry), ("CMD", self.facts.cmd)):
            if item is None or not item.args:
                continue
            if keyword == "CMD" and self.facts.entry is not None:
                if keyword not in out and not item.json:
                    raise Skip(f"a shell-form CMD is run by /bin/sh, which {rt.name} static has not", item.line)
                continue  # arguments to the node entrypoint
            if out.get(keyword):
                argv = json.loads(out[keyword].split(None, 1)[1])
            else:
                simple = Command.of(item).as_simple_argv()
                if simple is None:
                    raise Skip(f"{keyword} needs a shell, and {rt.name} has none", item.line)
                argv = list(simple)
                if not item.json:
                    out[keyword] = f"{keyword} " + json.dumps(argv)
            if argv[0] not in nodes:
                raise Skip(
                    f"`{argv[0]}` cannot run on {rt.name} static, which has only node ({NODE_BINARY})", item.line
                )
        hc = self.stage.last("HEALTHCHECK")
        if hc is not None and hc.args and hc.args[0].upper() == "CMD":
            simple = healthcheck_command(hc).as_simple_argv()
            if simple is None:
                raise Skip(f"this HEALTHCHECK needs a shell, and {rt.name} has none", hc.line)
            if not hc.json and simple[0] in nodes:
                out["HEALTHCHECK"] = healthcheck_exec(hc, list(simple))
                self.note(
                    "DR601",
                    f"HEALTHCHECK (line {hc.line}) runs `{' '.join(simple)}` in exec form: {rt.name} static has no "
                    "shell",
                )
        return out

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
