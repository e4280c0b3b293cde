"""What Go tells the features: the module and build caches, go.mod and go.sum, its .dockerignore entries and
its test stage.

Where the go command keeps its caches (root unless the stage's USER says otherwise):
  modules      $GOMODCACHE, else $GOPATH/pkg/mod (golang images: /go/pkg/mod), else $HOME/go/pkg/mod
  build cache  $GOCACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/go-build
"""

from __future__ import annotations

import posixpath
import re

from dockrewrite.context import BuildContext
from dockrewrite.ops import Op, Run
from dockrewrite.plan import BuildPlan
from dockrewrite.providers.base import CacheSite, CacheUse, Hooks, uses

# go subcommands that compile, and so use the build cache.
_GO_BUILDS = frozenset({"build", "install", "test", "vet", "run", "generate", "get", "list", "tool"})
_MOD_DOWNLOADS = frozenset({"download", "tidy", "vendor", "verify", "graph", "why"})
# Programs that may run `go` themselves: once a stage keeps its modules in a cache mount, they need it too.
_MAY_RUN_GO = frozenset({"make", "mage", "task", "just", "goreleaser", "sh", "bash", "ash"})


class GoHooks(Hooks):
    language = "go"
    # --pin: the official image's versions, newest first (a snapshot; see features/pins.py)
    pin_versions = {"golang": ("1.25.3", "1.24.9", "1.23.12", "1.22.12", "1.21.13", "1.20.14", "1.19.13", "1.18.10")}
    image_env = {"golang": {"GOPATH": "/go"}}
    managers = frozenset({"go"})
    manifests = re.compile(r"^go\.(mod|sum|work|work\.sum)$")

    def caches(self, words: list[str], text: str, site: CacheSite) -> CacheUse | None:
        if not (posixpath.basename(words[0]) == "go" or words[0].endswith("/go")):
            return None
        sub = words[1] if len(words) > 1 else ""
        gopath = (site.env.get("GOPATH") or f"{site.home}/go").split(":")[0]
        mod = None
        if site.builder_reused:
            site.note(
                "no cache mount for the Go module cache: the --targets stages start from the builder and need "
                "its modules in the image"
            )
        else:
            mod = site.cache(site.env.get("GOMODCACHE") or f"{gopath}/pkg/mod")
        if sub == "mod" and len(words) > 2 and words[2] in _MOD_DOWNLOADS:
            return uses("go", mod)
        if sub in _GO_BUILDS:
            gocache = site.env.get("GOCACHE")
            build = None if gocache == "off" else site.cache(gocache or f"{site.cache_home}/go-build")
            return uses("go", mod, build)
        return None

    def runs_tools(self, program: str) -> tuple[str, ...]:
        if posixpath.basename(program) in _MAY_RUN_GO or program.startswith("./") or program.endswith(".sh"):
            return ("go",)
        return ()

    def reads_manifests(self, words: list[str], names: set[str]) -> bool:
        return posixpath.basename(words[0]) == "go" and words[1:3] == ["mod", "download"] and bool(names & {"go.mod"})

    def writes_manifests(self, words: list[str]) -> bool:
        if posixpath.basename(words[0]) != "go":
            return False
        sub = words[1] if len(words) > 1 else ""
        return sub == "get" or words[1:3] in (["mod", "tidy"], ["mod", "edit"], ["mod", "init"])

    def ignored(self, ctx: BuildContext, built: str) -> tuple[list[str], set[str]]:
        return ["coverage.out", "*.prof"], set()

    def test(self, plan: BuildPlan, ctx: BuildContext, base: str) -> list[Op] | str | None:
        return [Run(body="go test ./...")]


HOOKS = GoHooks()
