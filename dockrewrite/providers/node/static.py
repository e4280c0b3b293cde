"""Static front ends: the site built by Node and served by nginx on the port the original listened on."""

from __future__ import annotations

import posixpath
import re

from dockrewrite import ops, shell
from dockrewrite.contract import contract_steps
from dockrewrite.intents import CommandChanged, WorkdirChanged
from dockrewrite.plan import BuildPlan
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node import outputs as nout
from dockrewrite.providers.node import package as npkg
from dockrewrite.results import Skip
from dockrewrite.runtimes import nginx, select


class StaticSite:
    """A front end built by Node and served by nginx."""

    def _static_plan(self) -> BuildPlan:
        requested = self.options.runtime
        if requested != select.AUTO:
            raise Skip(
                f"a static front end is served by nginx; --runtime {requested} does not apply (use auto)",
                self._command_line(),
            )
        serve = self.serve_words or []
        add_build = None
        outputs = list(self.outputs)
        if not self._has_build():
            if "build" not in self.facts.pkg.scripts:
                raise Skip(
                    f"`{' '.join(serve[:2])}` serves a front end the image never builds, and package.json has no "
                    "build script",
                    self._command_line(),
                )
            add_build = self.manager.run("build")
            for words in npkg.script_commands(self.facts.pkg, "build"):
                outputs += [
                    o for o in nout.build_outputs(self.ctx, self.facts.pkg, npkg.unwrap(words)) if o not in outputs
                ]
            self.note(
                "DR604",
                f"the original served `{' '.join(serve[:2])}` without building; the builder runs `{add_build}` "
                "and nginx serves the result",
            )
        served = _served_dir(serve)
        if served:
            site = served
        elif len(outputs) == 1:
            site = outputs[0]
        else:
            raise Skip(
                "cannot tell which folder holds the built site"
                + (f" (the build writes {', '.join(outputs)})" if outputs else " (unknown build tool)"),
                self._command_line(),
            )
        vite_config = "".join(self.ctx.read_text(n) or "" for n in nout.VITE_CONFIGS) if serve[:1] == ["vite"] else ""
        honours = _honours_port(serve, vite_config)
        env_port = self.facts.env.get("PORT", "")
        port = env_port if honours and env_port.isdigit() else self._static_port(serve)
        builder = self._builder_stage(add_build)
        site_path = shell.resolve(self.facts.app_dir, site)
        image = nginx.NGINX.image("node")
        original_user = self.facts.user
        if original_user and int(port) < 1024:
            raise Skip(
                f"nginx under USER {original_user} cannot listen on port {port} (below 1024)", self._command_line()
            )
        setup = [self._nginx_setup(port, honours)]
        if honours and "PORT" not in self.facts.env:
            setup.append(ops.step(f"ENV PORT={port}", ("# The port nginx listens on unless the platform sets PORT",)))
        self.note(
            "DR604",
            (
                f"`{' '.join(serve[:3])}` listened on $PORT (default {port}): nginx does too, through the nginx "
                f"image's template mechanism (/etc/nginx/templates, rendered with envsubst at start; ENV PORT={port})"
                if honours
                else f"nginx listens on port {port}, as `{' '.join(serve[:3])}` did, whatever PORT is set to"
            )
            + "; nginx can run as any non-root user too (`docker run --user`, platforms that run containers "
            "unprivileged): its pid and temp files are under /tmp",
        )
        replace = self._nginx_runtime(setup, original_user)
        contract = contract_steps(self.stage, frozenset(), replace)
        self.rewritten |= {k for k in ("CMD", "ENTRYPOINT") if k in replace}
        self.declare(CommandChanged("static-site", ("nginx",), prefix=True))
        self.declare(WorkdirChanged(nginx.ROOT, "nginx's document root: the static files are served from there"))
        self.note(
            "DR604",
            f"static site: {site}/ is built by Node and served by nginx on port {port} "
            f"(replaces `{' '.join(serve[:3])}`)",
        )
        artifacts = [self._copy("", [site_path], ".", "builder")]
        return self._assemble(
            nginx.NGINX.name,
            image,
            builder=builder,
            extra=[],
            setup=setup,
            artifacts=artifacts,
            contract=contract,
            workdir=nginx.ROOT,
            note="nginx serves the static files the Node build produced; no Node at run time",
        )

    def _static_port(self, serve: list[str]) -> str:
        exposes = [a for ins in self.stage.find("EXPOSE") for a in ins.args]
        if exposes:
            raw = exposes[0]
            value = shell.substitute(raw, {**self.facts.args, **self.facts.env})
            m = re.fullmatch(r"(\d+)(/tcp)?", value or "")
            if not m:
                raise Skip(
                    f"EXPOSE {raw}: nginx needs a fixed TCP port to listen on", self.stage.find("EXPOSE")[0].line
                )
            return m.group(1)
        port = cmds.port_option(serve)
        if port:
            return port
        tool = serve[0] if serve else ""
        if tool == "vite":
            return "4173" if serve[1:2] == ["preview"] else "5173"
        return str(npkg.STATIC_SERVERS.get(tool) or npkg.FRONTEND_DEV_SERVERS.get(tool) or 80)


def _honours_port(words: list[str], config: str = "") -> bool:
    """Whether the static server listens on $PORT: a port option given $PORT (`-l tcp://0.0.0.0:$PORT`,
    `--port $PORT` in shell form); with no port option, `serve`, `http-server` and the react-scripts and vue-cli
    dev servers, which read PORT themselves, and vite when its config reads process.env.PORT."""
    if not words:
        return False
    flags = [i for i, w in enumerate(words) if re.fullmatch(r"(-l|--listen|-p|--port)(=.*)?", w)]
    if flags:
        i = flags[0]
        value = words[i].split("=", 1)[1] if "=" in words[i] else (words[i + 1] if i + 1 < len(words) else "")
        return bool(re.search(r"\$\{?PORT\b", value))
    dev = words[:1] in (["react-scripts"], ["react-app-rewired"], ["craco"], ["vue-cli-service"])
    if words[0] in ("serve", "http-server") or dev and words[1:2] in (["start"], ["serve"]):
        return True
    return words[0] == "vite" and "process.env.PORT" in config


def _served_dir(words: list[str]) -> str | None:
    """The folder `serve -s build` or `http-server ./dist -p 8080` serves."""
    if not words or words[0] not in npkg.STATIC_SERVERS:
        return None
    value_flags = {"-l", "--listen", "-p", "--port", "-a", "-c", "-C", "-K", "-P", "--proxy", "--config", "-e", "-t"}
    i = 1
    while i < len(words):
        w = words[i]
        if w in value_flags:
            i += 2
            continue
        if w.startswith("-"):
            i += 1
            continue
        out = posixpath.normpath(w)
        return out[2:] if out.startswith("./") else out
    return None
