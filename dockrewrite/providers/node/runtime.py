"""All that depends on the runtime base (slim, alpine, distroless, nginx): images, users, packages, tools."""

from __future__ import annotations

import json
import posixpath
import re

from dockrewrite import images, ops, syslibs, tools
from dockrewrite.model import Command, Instruction
from dockrewrite.notes import Note
from dockrewrite.providers import writes
from dockrewrite.providers.common import chain, healthcheck_command, healthcheck_exec
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node import package as npkg
from dockrewrite.results import Skip
from dockrewrite.runtimes import distroless, nginx, select
from dockrewrite.runtimes.base import Runtime

NODE_UID = "1000:1000"  # the `node` user of the official node images
# Build tools for native addons (node-gyp): they stay in the build stages.
NODE_BUILD_ONLY = syslibs.BUILD_ONLY | {"python3", "python", "python-is-python3", "py3-pip", "g++-multilib", "gyp"}


def has_programs(rt: Runtime) -> bool:
    """Whether the runtime base can install system packages and so gets the programs the commands call."""
    return rt.package_manager is not None


def has_npm(rt: Runtime) -> bool:
    """Whether the runtime base has npm and yarn to run package scripts and global installs (distroless has not)."""
    return rt.language_tools


def entrypoint_is_node(rt: Runtime) -> bool:
    """Whether the runtime image's entrypoint is node, so a CMD gives node's arguments (distroless)."""
    return bool(rt.entrypoint) and cmds.is_node(rt.entrypoint[0])


def app_owner(rt: Runtime) -> str:
    """The user:group that owns the app's files when the rewrite leaves root: the base's own unprivileged user
    where it ships one (distroless), else the node images' `node`."""
    return rt.users.get("nonroot", "node:node")


def major(resolved: str) -> int | None:
    m = re.match(r"v?(\d+)", images.tag_of(resolved))
    return int(m.group(1)) if m else None


def is_alpine(resolved: str) -> bool:
    return "alpine" in images.tag_of(resolved).lower()


class RuntimeBase:
    """The runtime image, its user, its packages and what the commands need from it."""

    def _runtime_image(self) -> tuple[Runtime, str]:
        requested = self.options.runtime
        line = self.stage.from_.line
        rt, image = self._runtime_kind_image(requested, line)
        pinned = self.stage.image
        if images.split_ref(pinned)[2]:
            if image == pinned.split("@", 1)[0]:
                return rt, pinned  # the same image as the builder: its digest pins it too
            self.note(
                "DR704", f"{pinned} is pinned by digest; the runtime image is referenced by tag: pin it by digest too"
            )
        return rt, image

    def _runtime_kind_image(self, requested: str, line: int) -> tuple[Runtime, str]:
        text = self.stage.image.split("@", 1)[0]
        if requested == select.AUTO:
            smallest = self._distroless_variant() if self.auto_distroless else None
            rt = smallest or select.like_builder(self.facts.alpine)
        else:
            found = self._distroless_variant() if requested == "distroless" else select.for_language(requested, "node")
            if found is None:
                raise Skip(f"--runtime {requested} has no Node; use slim, alpine or distroless", line)
            rt = found
        if rt.libc == "musl":
            if not self.facts.alpine and self.facts.native:
                raise Skip(
                    f"native addons ({self.facts.native}) are built against glibc here; alpine has musl; "
                    "use --runtime slim",
                    line,
                )
        elif self.facts.alpine and self.facts.native:
            raise Skip(
                f"native addons ({self.facts.native}) are built against musl on this alpine builder; --runtime "
                f"{requested} has glibc; use --runtime alpine",
                line,
            )
        image = rt.image("node", text, self.facts.major)
        if image is None and self.facts.major is None:
            raise Skip(f"{self.stage.image} does not say which Node major it has; {rt.name} images are per major", line)
        if image is None:
            raise Skip(f"there is no {rt.name} image for Node {self.facts.major}", line)
        if "$" in text and "$" not in image and rt is not distroless.NODE_STATIC:
            self.note(
                "DR501",
                f"the runtime pins Node {self.facts.major} ({rt.name} images are per major); "
                f"{text} follows the build argument",
            )
        # the unprivileged flavour unless root is kept on purpose; a named USER of the original becomes its uid
        suffix = "" if self.options.keep_root and not self.facts.user else rt.nonroot_tag
        return rt, image + suffix

    def _image_note(self, rt: Runtime) -> str:
        """What the runtime base is, said from what it provides (a base added later needs no entry here)."""
        if rt is distroless.NODE_STATIC:
            needs = ", none of which the app needs" if self.auto_distroless else ""
            return f"{rt.name} static with the builder's own node (no shell or npm{needs})"
        if not rt.shell and self.auto_distroless:
            return f"{rt.name} Node {self.facts.major} (entrypoint node, no shell or npm, none of which the app needs)"
        if not rt.shell:
            return f"{rt.name} Node (entrypoint node, no shell or npm)"
        if rt.libc == "musl":
            why = "musl, like the builder" if self.facts.alpine else "no native addons, so musl is fine"
            return f"the {rt.name} image of the same Node ({why})"
        return f"the {rt.name} image of the same Node"

    def _user(self, rt: Runtime) -> str | None:
        original = self.facts.user
        nonroot = rt.users.get("nonroot")
        if nonroot:
            if original and not original.split(":")[0].isdigit():
                self.note(
                    "DR202", f"USER {original} becomes {nonroot}: {rt.name} has no user named {original.split(':')[0]}"
                )
                return f"USER {nonroot}"
            if original is None and not self.options.keep_root:
                self.note(
                    "DR201", f"no USER in the original: the runtime runs as the {rt.name} nonroot user ({nonroot})"
                )
                return f"USER {nonroot}"
            return None
        if original is not None or self.options.keep_root:
            return None
        self.note(
            "DR201",
            f"the original ran as root: the runtime runs as the image's `node` user ({NODE_UID}; --keep-root "
            "keeps root); files the app writes must be writable by it",
        )
        return f"USER {NODE_UID}"

    def _chown(self, rt: Runtime, user: str | None) -> str:
        """--chown for the runtime's COPY lines: the original's (numeric on distroless), or the user the rewrite
        switches to, since the original's root could write the app's files and the app may (uploads, SQLite,
        caches such as .next/cache)."""
        original = next(
            (it.ins.flag("chown") for it in self.facts.items if it.source_copy and it.ins.flag("chown")), None
        )
        nonroot = rt.users.get("nonroot")
        if original:
            if nonroot and not original.split(":")[0].isdigit():
                return f"--chown={nonroot} "
            return f"--chown={original} "
        if user is not None and self.facts.user is None:
            return f"--chown={app_owner(rt)} "
        return ""

    def _name_node_user(self, contract: list[ops.Op]) -> None:
        """The comment on the USER the rewrite adds on the node images."""
        for step in contract:
            if step.text == f"USER {NODE_UID}" and not step.comments:
                step.comments = ("# node: the unprivileged user the official node images ship",)

    def _runtime_setup(
        self, rt: Runtime, replace: dict[str, str | None], user: str | None, chown: str, standalone: bool
    ) -> tuple[list[ops.Op], writes.Writes | None]:
        """The runtime stage's own steps: packages the app calls, the global CLIs it runs, and the folders the
        runtime user must own (with the writes found, which the build stage makes on a base without a shell)."""
        workdir = self.facts.workdir
        setup: list[ops.Op] = []
        packages = self._runtime_packages(rt)
        packages += [p for p in self._runtime_tools(rt, replace=replace) if p not in packages]
        if packages:
            if not has_programs(rt):
                raise Skip(
                    f"the runtime needs {', '.join(packages)} and {rt.name} cannot install packages; use "
                    "--runtime slim",
                    self.stage.from_.line,
                )
            setup.append(self._package_step(packages, rt))
        setup += self._runtime_globals(rt)
        found = self._writes(workdir) if user is not None and chown and self.facts.user is None else None
        owner = app_owner(rt)
        if found is not None and found.paths and rt.shell:
            # WORKDIR creates a missing folder owned by root (the legacy builder always does), so the app could not
            # create files beside itself as the original's root could
            comment = (
                "# The app folder belongs to the user that runs the app, as it belonged to root"
                if found.paths == [workdir]
                else writes.COMMENT
            )
            setup.append(ops.step(f"RUN {writes.own_folders(found.paths, owner)}", (comment,)))
        elif found is not None and found.paths:
            # distroless has no shell: the first build stage makes the folders, the runtime copies them owned
            setup += writes.copy_steps(found.paths, owner, "builder" if standalone else "deps")
        if found is not None:
            self.warnings += [
                Note("DR204", n) for n in writes.notes(found, owner if "nonroot" in rt.users else f"node ({NODE_UID})")
            ]
        return setup, found

    def _with_folders_made(self, first: list[ops.Op], rt: Runtime, found: writes.Writes | None) -> list[ops.Op]:
        """On a base without a shell the first build stage makes the folders the runtime copies owned."""
        if found is not None and found.paths and not rt.shell:
            return writes.with_build_step(first, found.paths)
        return first

    def _runtime_runs(self, rt: Runtime) -> list[ops.Op]:
        """mkdir/chown/useradd steps of the original, replayed in the runtime, in order, as one RUN (they stand
        together there, and hadolint asks for consecutive RUNs to be one)."""
        segs: list = []
        comments: tuple[str, ...] = ()
        for it in self.facts.items:
            own = [s for s in it.segments if s.kind == cmds.FS]
            if not own:
                continue
            if not rt.shell:
                raise Skip(
                    f"`{own[0].text.strip()}` must run in the runtime too and {rt.name} has no shell", it.ins.line
                )
            segs += own
            comments += it.ins.comments
        return [ops.step(writes.tolerant_mkdir(chain("RUN ", segs)), comments)] if segs else []

    def _runtime_packages(self, rt: Runtime) -> list[str]:
        family = rt.family
        packages: list[str] = []
        for it in self.facts.items:
            for seg in it.segments:
                if seg.kind != cmds.SYSTEM:
                    continue
                _, names = syslibs.installed_packages(seg.text)
                if not names:
                    continue
                if (family == "alpine") != (syslibs.installed_packages(seg.text)[0] == "apk"):
                    if any(n not in NODE_BUILD_ONLY for n in names):
                        raise Skip(
                            "the runtime's package manager differs from the builder's; install these packages "
                            "for it by hand",
                            it.ins.line,
                        )
                    continue
                virtual = "--virtual" in seg.words or "-t" in seg.words
                dev = [n for n in names if syslibs.is_dev(n) or virtual]
                # a base that cannot install packages gets the libraries the build linked instead (_linked_steps)
                needed, unknown = syslibs.runtime_packages(dev, family) if has_programs(rt) else ([], [])
                if unknown:
                    raise Skip(
                        f"no known runtime package for {', '.join(unknown)}; native addons built against it "
                        "would miss their shared library",
                        it.ins.line,
                    )
                plain = [n for n in names if n not in dev and n not in NODE_BUILD_ONLY]
                packages += [p for p in needed + plain if p not in packages]
        return packages

    def _dev_packages(self) -> list[str]:
        """The -dev packages the original installs with apt: what native addons build and link against."""
        found: list[str] = []
        for it in self.facts.items:
            for seg in it.segments:
                manager, names = syslibs.installed_packages(seg.text) if seg.kind == cmds.SYSTEM else (None, [])
                if manager == "apk":
                    continue
                found += [n for n in names if syslibs.is_dev(n) and n not in syslibs.BUILD_ONLY and n not in found]
        return found

    def _runtime_tools(self, rt: Runtime, served: bool = False, replace: dict | None = None) -> list[str]:
        """Packages for programs the command and healthcheck call that the runtime image lacks (`served`: a static
        site nginx serves with its own command)."""
        checks: list[tuple[Instruction, list[str]]] = []
        replace = replace or {}
        if not served:
            for ins in (self.facts.entry, self.facts.cmd):
                if ins is None or not ins.args:
                    continue
                if replace.get(ins.keyword):
                    argv = json.loads(replace[ins.keyword].split(None, 1)[1])
                    if entrypoint_is_node(rt) and ins.keyword == "CMD" and self.facts.entry is None:
                        argv = ["node", *argv]
                    checks.append((ins, tools.programs(Command(True, tuple(argv)))[0]))
                else:
                    checks.append((ins, tools.programs(Command.of(ins))[0]))
        hc = self.stage.last("HEALTHCHECK")
        if hc is not None and hc.args and hc.args[0].upper() == "CMD":
            checks.append((hc, tools.programs(healthcheck_command(hc))[0]))
        extra: list[str] = []
        installed = self._runtime_packages(rt) if not served else []
        for ins, programs in checks:
            for program in programs:
                name = posixpath.basename(program)
                if name in ("node", "nodejs", "npm", "npx", "yarn", "pnpm", "corepack", "docker-entrypoint.sh"):
                    if not served and not has_npm(rt) and name != "node" and name != "nodejs":
                        raise Skip(f"`{name}` is not in the {rt.name} Node image", ins.line)
                    if served and name in ("node", "nodejs"):
                        raise Skip("the served image has no node", ins.line)
                    continue
                if "/" in program and not program.startswith(("/usr/bin/", "/bin/", "/usr/local/bin/")):
                    continue  # a script or binary the app ships
                if name in npkg.STATIC_SERVERS or name in ("pm2", "pm2-runtime") or name in self.facts.global_bins:
                    continue
                if name in installed or name in tools.SHELL_BUILTINS:
                    continue
                if not has_programs(rt):
                    raise Skip(f"`{name}` is called here and {rt.name} has no such program", ins.line)
                available, package = rt.provides(name)
                if not available:
                    if name in self.facts.pkg.deps() or self._bin_of_dependency(name):
                        continue
                    raise Skip(f"`{name}` is called here and the {rt.name} image does not provide it", ins.line)
                if package and package not in extra:
                    extra.append(package)
        for package in self._script_packages(rt, installed) if not served and has_programs(rt) else []:
            if package not in extra:
                extra.append(package)
        if extra:
            self.note(
                "DR602",
                f"the runtime installs {', '.join(extra)}: the commands call {'it' if len(extra) == 1 else 'them'} "
                f"and the {rt.name} image lacks {'it' if len(extra) == 1 else 'them'}",
            )
        return extra

    def _script_packages(self, rt: Runtime, installed: list[str]) -> list[str]:
        """Packages for the shell and known tools a start script from the context calls (docker-entrypoint.sh).
        Names it calls that no package is known for are npm bins or functions more often than not: not refused."""
        out: list[str] = []
        for ins in (self.facts.entry, self.facts.cmd):
            found = self.entry_script(Command.of(ins)) if ins is not None and ins.args else None
            if found is None:
                continue
            for program in [found.script.interpreter] + [p for p, _ in found.script.programs]:
                name = posixpath.basename(program)
                if "/" in program or name in installed or name in tools.SHELL_BUILTINS:
                    continue
                available, package = rt.provides(name)
                if available and package and package not in out:
                    out.append(package)
        return out

    def _runtime_globals(self, rt: Runtime) -> list[ops.Op]:
        """Global CLIs the start command runs (pm2-runtime …): installed in the runtime as the original did."""
        used = {"pnpm"} if self.runs_pnpm else set()
        for words in self._start_programs():
            if words:
                used.add(posixpath.basename(words[0]))
        steps: list[ops.Op] = []
        for it in self.facts.items:
            for seg in it.segments:
                if seg.kind != cmds.GLOBAL or not seg.globals_:
                    continue
                bins = {g.rsplit("/", 1)[-1] for g in seg.globals_}
                if "pm2" in bins:
                    bins |= {"pm2-runtime", "pm2-docker"}
                if bins & used:
                    if not has_npm(rt):
                        raise Skip(
                            f"`{seg.text.strip()}` installs the start command, and {rt.name} has no npm", it.ins.line
                        )
                    steps.append(ops.step("RUN " + seg.text.strip(), ("# The global CLI the start command runs",)))
        return steps

    @staticmethod
    def _package_step(packages: list[str], rt: Runtime) -> ops.Op:
        comments = () if rt.family == "alpine" else ("# Shared libraries and tools the app needs at run time",)
        return rt.install(packages, comments)

    def _for_runtime(self, argv: list[str], rt: Runtime) -> list[str]:
        return argv[1:] if entrypoint_is_node(rt) and cmds.is_node(argv[0]) else argv

    def _entrypoint_commands(self, rt: Runtime, out: dict[str, str | None]) -> dict[str, str | None]:
        """The original's CMD and ENTRYPOINT on a base whose entrypoint is node (distroless): node leaves the CMD,
        and an ENTRYPOINT that runs node names the image's node."""
        if not entrypoint_is_node(rt):
            return out
        for keyword, item in (("ENTRYPOINT", self.facts.entry), ("CMD", self.facts.cmd)):
            if item is None or not item.args:
                continue
            command = Command.of(item)
            argv = command.as_simple_argv()
            if argv is None:
                raise Skip(f"{keyword} needs a shell, and {rt.name} has none", item.line)
            argv = list(argv)
            if keyword == "ENTRYPOINT":
                if not cmds.is_node(argv[0]) or len(argv) > 1 and self.facts.cmd is not None:
                    raise Skip(f"ENTRYPOINT {argv[0]} cannot run on {rt.name}, whose entrypoint is node", item.line)
                out[keyword] = "ENTRYPOINT " + json.dumps([rt.entrypoint[0], *argv[1:]])
                continue
            if self.facts.entry is not None:
                continue  # arguments to the node entrypoint stay as they are
            if not cmds.is_node(argv[0]):
                raise Skip(f"`{argv[0]}` cannot run on {rt.name}, whose entrypoint is node", item.line)
            out[keyword] = "CMD " + json.dumps(argv[1:])
            self.note("DR601", f"CMD (line {item.line}) drops `node`: the {rt.name} image's entrypoint is node")
        hc = self.stage.last("HEALTHCHECK")
        if hc is not None and hc.args and hc.args[0].upper() == "CMD":
            argv = healthcheck_command(hc).as_simple_argv()
            if argv is None:
                raise Skip(f"this HEALTHCHECK needs a shell, and {rt.name} has none", hc.line)
            argv = list(argv)
            if cmds.is_node(argv[0]):
                # the image has node only at its own path, which is not on PATH
                argv[0] = rt.entrypoint[0]
            if argv != list(hc.args[1:]) or not hc.json:
                out["HEALTHCHECK"] = healthcheck_exec(hc, argv)
                self.note(
                    "DR601",
                    f"HEALTHCHECK (line {hc.line}) runs `{' '.join(argv)}` in exec form: {rt.name} has no shell and "
                    f"node only at {rt.entrypoint[0]}",
                )
        return out

    def _nginx_runtime(self, setup: list[ops.Op], original_user: str | None) -> dict[str, str | None]:
        """The nginx image's own packages, user and command in place of the original's (setup gets the packages)."""
        packages = self._runtime_tools(nginx.NGINX, served=True)
        if packages:
            setup.insert(0, self._package_step(packages, nginx.NGINX))
        # nginx starts as root and serves as user nginx; an original USER becomes nginx's own uid
        uid = nginx.NGINX.users["nginx"]
        replace: dict[str, str | None] = {"USER": f"USER {uid}" if original_user else None}
        if original_user:
            self.note(
                "DR202",
                f"USER {original_user} becomes {uid}, the nginx image's own unprivileged user, which can read "
                "the site and write nginx's files under /tmp",
            )
        nginx_argv = ["nginx", "-g", "daemon off;"]
        if self.facts.entry is not None and self.facts.cmd is not None:
            replace["ENTRYPOINT"] = "ENTRYPOINT " + json.dumps(list(nginx.NGINX.entrypoint))
            replace["CMD"] = "CMD " + json.dumps(nginx_argv)
        elif self.facts.entry is not None:
            replace["ENTRYPOINT"] = "ENTRYPOINT " + json.dumps([*nginx.NGINX.entrypoint, *nginx_argv])
        else:
            replace["CMD"] = "CMD " + json.dumps(nginx_argv)
        hc = self.stage.last("HEALTHCHECK")
        missing = _missing_in_nginx(hc) if hc is not None else []
        if missing:
            raise Skip(f"the HEALTHCHECK runs {missing[0]}, which the nginx image does not have", hc.line)
        return replace

    def _nginx_setup(self, port: str, honours: bool) -> ops.Op:
        """The generated site config (a template with ${PORT} when the original honoured $PORT, rendered now
        with the default too), and nginx made able to start as any non-root user: the pid file under /tmp,
        and conf.d writable by group 0 (the group `docker run --user <uid>` gets) for the rendered template."""
        config = _nginx_config("${PORT}" if honours else port, self.options.templates)
        lines = "".join(f"    '{_single_quoted(line)}' \\\n" for line in config)
        if honours:
            body = (
                f"RUN mkdir -p {nginx.TEMPLATES} \\\n && printf '%s\\n' \\\n{lines}    > {nginx.TEMPLATE} \\\n"
                f" && PORT={port} envsubst '${{PORT}}' < {nginx.TEMPLATE} > {nginx.CONF} \\\n"
            )
            comment = f"# SPA config: listen on ${{PORT}} (default {port}), fall back to /index.html, gzip"
        else:
            body = f"RUN printf '%s\\n' \\\n{lines}    > {nginx.CONF} \\\n"
            comment = f"# SPA config: listen on {port}, fall back to /index.html, gzip"
        body += " && sed -i 's|^\\(\\s*\\)pid\\s.*|\\1pid /tmp/nginx.pid;|' /etc/nginx/nginx.conf"
        user = "# nginx can start as a non-root user: pid and temp files under /tmp"
        if honours:
            body += " \\\n && chown -R 101:0 /etc/nginx/conf.d \\\n && chmod -R g+w /etc/nginx/conf.d"
            user += ", conf.d writable by group 0 for the template"
        return ops.step(body, (comment, user, "# hadolint ignore=SC2016"))


def _nginx_config(port: str, templates: str | None) -> list[str]:
    """The server config from node/nginx.conf.j2: the built-in one, or the one in the --templates folder."""
    from dockrewrite.render import render_template

    return render_template("node/nginx.conf.j2", templates, port=port).rstrip("\n").split("\n")


def _single_quoted(line: str) -> str:
    """A line for printf's single-quoted argument: a quote closes, is escaped, and reopens."""
    return line.replace("'", "'\\''")


def _missing_in_nginx(hc: Instruction) -> list[str]:
    """Programs a HEALTHCHECK CMD runs that the nginx image neither has nor can install (node, npm, yarn …)."""
    if not hc.args or hc.args[0].upper() != "CMD":
        return []
    programs = tools.programs(healthcheck_command(hc))[0]
    return [p for p in programs if cmds.is_node(p) or not nginx.NGINX.provides(p)[0]]
