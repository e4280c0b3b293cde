"""CMD and ENTRYPOINT rewritten for the runtime: scripts run directly, pnpm left out, Next.js standalone."""

from __future__ import annotations

import json

from dockrewrite import ops, shell, tools
from dockrewrite.intents import CommandChanged
from dockrewrite.model import Command
from dockrewrite.providers.node import commands as cmds
from dockrewrite.providers.node import package as npkg
from dockrewrite.providers.node import runtime as bases
from dockrewrite.providers.node.commands import is_wrapper
from dockrewrite.results import Skip
from dockrewrite.runtimes import select
from dockrewrite.runtimes.base import Runtime


class CommandRewrites:
    """CMD and ENTRYPOINT for the runtime."""

    def _command_rewrites(self, rt: Runtime, standalone: bool) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        start = self.start
        ins = self.facts.cmd if self.facts.cmd is not None else self.facts.entry
        if standalone:
            if self.facts.no_command:
                raise Skip(
                    "no CMD or ENTRYPOINT: a Next.js standalone runtime starts `node server.js`, which would replace "
                    "the command the original leaves to compose or docker run",
                    self.stage.from_.line,
                )
            if self.facts.entry is not None and not is_wrapper(self.facts.entry):
                raise Skip(
                    "an ENTRYPOINT in front of a Next.js standalone server is not supported", self.facts.entry.line
                )
            argv = ["node", "server.js"]
            self.declare(CommandChanged("start-script", tuple(argv)))
            self.note(
                "DR101",
                f"Next.js standalone: `{' '.join(start.argv)}` becomes `node server.js` (line {ins.line}), the "
                "server `next build` writes to .next/standalone",
            )
            out["CMD"] = "CMD " + json.dumps(self._for_runtime(argv, rt))
            return out
        if start.compiled:
            if not bases.has_programs(rt) and start.wrapper:
                raise Skip(f"`{start.wrapper[0]}` is not in the distroless image", ins.line)
            wrapped = self.facts.entry is not None and is_wrapper(self.facts.entry)
            argv = self._for_runtime(start.compiled, rt)
            out["CMD"] = "CMD " + json.dumps(argv if wrapped else start.wrapper + argv)
            return out
        if start.kind == "script":
            wrapped = self.facts.entry is not None and is_wrapper(self.facts.entry)
            if start.resolved and self.facts.cmd is not None and (self.facts.entry is None or wrapped):
                if not bases.has_programs(rt) and (start.wrapper or wrapped):
                    raise Skip(
                        f"`{(start.wrapper or ['the init wrapper'])[0]}` is not in the distroless image", ins.line
                    )
                argv = self._for_runtime(start.resolved, rt)
                out["CMD"] = "CMD " + json.dumps(argv if wrapped else start.wrapper + argv)
                self.declare(CommandChanged("start-script", tuple(start.resolved)))
                self.note(
                    "DR101",
                    f"`{' '.join(start.argv)}` (line {ins.line}) runs `{' '.join(start.resolved)}` from package.json "
                    f"directly: no {start.argv[0]} process in front of node, which then gets the stop signals",
                )
                return out
            tool = start.argv[0]
            if not bases.has_npm(rt):
                raise Skip(
                    f"`{' '.join(start.argv)}` needs {tool} to run a script that is not a plain `node` command; "
                    "distroless has none; use --runtime slim",
                    ins.line,
                )
            if tool == "pnpm":
                direct = self._without_pnpm(start)
                if direct is not None:
                    out["CMD"] = "CMD " + json.dumps(direct)
                    self.declare(CommandChanged("start-script", tuple(direct)))
                    self.note(
                        "DR101",
                        f"`{' '.join(start.argv)}` (line {ins.line}) runs the script's own command, "
                        f"`{' '.join(direct)}`: the runtime needs no pnpm, which the node images do not ship",
                    )
                    return out
                if self.facts.pnpm_install:
                    self.runs_pnpm = True
                    self.note(
                        "DR107",
                        f"`{' '.join(start.argv)}` (line {ins.line}) still runs through pnpm (the script runs "
                        f"more than pnpm can be left out of); the runtime installs pnpm as the original did: "
                        f"`{self.facts.pnpm_install}`",
                    )
                    return out
            if tool == "pnpm" or (tool == "yarn" and self.manager.berry):
                raise Skip(
                    f"`{' '.join(start.argv)}` needs {tool} at run time, which the node images do not ship "
                    "ready to use; start the app with node",
                    ins.line,
                )
            script = self.facts.pkg.scripts.get(start.script or "", "")
            self.note(
                "DR107",
                f"`{' '.join(start.argv)}` (line {ins.line}) still runs through {tool}: the script "
                f"`{script}` is not a plain node command; the {rt.name} image has {tool}",
            )
            return out
        return self._entrypoint_commands(rt, out)

    def _without_pnpm(self, start: cmds.Start) -> list[str] | None:
        """`pnpm start` with a script that needs no pnpm: the script's own command, as the CMD. pnpm runs a script
        with `sh -c` and node_modules/.bin on PATH: one dependency bin (`next start`) becomes
        `node_modules/.bin/next start` in exec form; a shell script of system programs and node
        (`rm -rf *.mp3 && node build/index.js`) runs in `sh -c` as before. Scripts that run a package
        manager, use the npm_* variables, have pre/post scripts, or need a bin on PATH inside a shell keep pnpm."""
        script = start.script or ""
        text = self.facts.pkg.scripts.get(script)
        wrapped = self.facts.entry is not None and is_wrapper(self.facts.entry)
        if text is None or self.facts.cmd is None or (self.facts.entry is not None and not wrapped):
            return None
        if "pre" + script in self.facts.pkg.scripts or "post" + script in self.facts.pkg.scripts or "npm_" in text:
            return None
        args = npkg.script_args(start.argv)
        head = start.argv[1 : start.argv.index("--")] if "--" in start.argv else start.argv[1:]
        if head not in ([script], ["run", script], ["run-script", script]):
            return None  # words pnpm passes on to the script
        bins: list[str] = []
        for seg in shell.segments(text):
            env, words = shell.env_prefix(seg.words())
            while words and words[0] in ("exec", "command", "nohup"):
                words = words[1:]
            if not words:
                continue
            name = words[0]
            if name in ("npm", "npx", "pnpm", "pnpx", "yarn", "corepack") or npkg.unwrap(words)[:1] != [name]:
                return None
            system = "/" in name or cmds.is_node(name) or name in tools.SHELL_BUILTINS or name in self.facts.global_bins
            if not system and (
                not select.runtime("slim").provides(name)[0]
                or name in self.facts.pkg.deps()
                or self._bin_of_dependency(name)
            ):
                bins.append(name)
        segments = shell.segments(text)
        simple = Command(False, shell=text).as_simple_argv()
        if simple is not None and len(segments) == 1:
            argv = list(simple)
            if bins:
                argv[0] = "node_modules/.bin/" + argv[0]
                if self.facts.workdir != self.facts.app_dir:
                    argv[0] = self._at(argv[0])
            argv = argv + args
            return argv if wrapped else start.wrapper + argv
        if bins or args or wrapped or start.wrapper or "\n" in text:
            return None
        return ["sh", "-c", text.strip()]

    def _with_standalone_env(self, contract: list[ops.Op]) -> list[ops.Op]:
        """HOSTNAME=0.0.0.0 (Docker sets HOSTNAME to the container id) and `next start -p` as PORT."""
        env = self.facts.env
        pairs = [] if "HOSTNAME" in env else ["HOSTNAME=0.0.0.0"]
        port = next((cmds.port_option(w) for w in self._start_programs() if w[:2] == ["next", "start"]), None)
        if port and "PORT" not in env:
            pairs.append(f"PORT={port}")
        if not pairs:
            return contract
        step = ops.step("ENV " + " ".join(pairs), ("# The standalone server listens on $HOSTNAME:$PORT",))
        at = next((i for i, s in enumerate(contract) if s.text.split(None, 1)[0] == "EXPOSE"), 0)
        return contract[:at] + [step] + contract[at:]
