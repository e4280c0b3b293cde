"""Everything that depends on the runtime base (scratch, distroless, alpine, slim): which image per builder,
what it provides (shell, CA certificates, time zone data, C library, users), how packages are installed on it."""

from __future__ import annotations

from collections.abc import Mapping

from dockrewrite import images, ops, syslibs
from dockrewrite.providers.common import DEFAULT_PATH, Planner
from dockrewrite.providers.go import needs
from dockrewrite.providers.go.analyse import GoFacts
from dockrewrite.providers.go.sources import GoSources
from dockrewrite.results import Skip
from dockrewrite.runtimes import distroless, select, slim
from dockrewrite.runtimes.base import Runtime

NOBODY = "65534:65534"
# What the chosen base holds, for the note above the runtime stage, on the bases without a shell.
_NOTES = {
    "distroless": "distroless static: no shell or package manager, only the binary and its files",
    "scratch": "scratch: an empty image holding only the static binary and the files it reads",
}


def on_path(directory: str) -> bool:
    """Whether the runtime base looks up bare program names in this folder."""
    return directory in DEFAULT_PATH


def default_user() -> tuple[str, str]:
    """(USER line, note) for an original without USER: the distroless images' nonroot uid, which needs no
    /etc/passwd entry on any base."""
    note = (
        f"no USER in the original: the runtime runs as the non-root uid {distroless.NONROOT_UID} "
        "(--keep-root keeps root)"
    )
    return f"USER {distroless.NONROOT}", note


def nobody_user(rt: Runtime) -> str | None:
    """The USER line for `USER nobody`, or None on a base with a shell (its /etc/passwd has nobody), where the
    line stays."""
    return None if rt.shell else f"USER {NOBODY}"


def runtime_note(rt: Runtime, cgo: bool, reason: str | None = None) -> str:
    """One line on what the chosen runtime base holds, or why auto chose it."""
    if reason:
        return reason
    if cgo:
        return f"{rt.name} ({rt.libc}, like the builder) with the shared libraries the CGO binary links"
    return _NOTES.get(rt.name, f"{rt.name} with the shell and tools the commands below call")


class RuntimeMixin(Planner):
    """The planner's choice of runtime base and the steps that prepare it."""

    runtime_reason: str | None = None  # why auto chose the smallest base, for the note above the runtime stage
    # (base, image, Debian release) when the builder gathers the libraries the CGO binary links for a base
    # without a package manager (providers/linked.py)
    gather_libraries: tuple[Runtime, str, str] | None = None

    def _runtime(self, facts: GoFacts) -> tuple[Runtime, str, list[ops.Op]]:
        """(runtime base, image, setup steps) for the binary and the tools the commands need."""
        src, cgo, cgo_reason, needed, family = facts.sources, facts.cgo, facts.cgo_reason, facts.needed, facts.family
        if cgo and facts.golang_image and family not in (None, "alpine") and family not in facts.tag:
            self.note(
                "DR501",
                f"the builder's Debian release ({family}) is inferred from the Go version in {self.stage.image}; "
                f"the CGO binary needs a runtime with the same or a newer glibc: pin a tag such as -{family}",
            )
        requested = self.options.runtime
        line = self.stage.from_.line
        asked = None if requested == select.AUTO else select.for_language(requested, "go")
        if requested != select.AUTO and asked is None:
            raise Skip(f"--runtime {requested} has no image for a Go binary", line)
        if cgo:
            if family is None:
                raise Skip(
                    f"the program links C code ({cgo_reason}) and the builder image {self.stage.image} does not say "
                    "which C library it has; pin a tag such as -bookworm or -alpine",
                    line,
                )
            linked = _links_libraries(facts)
            # a Debian builder's libraries reach a base without a package manager through the loader (gathered in
            # the builder), so the table of runtime packages is needed only where they are installed
            gathered = family in images.DEBIAN_CODENAMES and not needed
            libs = _runtime_libs(facts, family, strict=not gathered)
            no_libc = asked is not None and not any(v.libc for v in select.variants(asked.name))
            bare_asked = asked is not None and asked.package_manager is None
            if no_libc or (bare_asked and needed) or (bare_asked and linked and not gathered):
                lacks = " and ".join(
                    x for x, on in (("a C library", True), ("shared libraries", libs), ("tools", needed)) if on
                )
                raise Skip(
                    f"the program links C code ({cgo_reason}); {requested} lacks {lacks}; use --runtime slim", line
                )
            if family == "alpine":
                if asked is not None and asked.libc != "musl":
                    raise Skip(
                        f"the program is linked against musl (alpine builder); --runtime {requested} would "
                        "not run it; use --runtime alpine",
                        line,
                    )
                rt = select.like_builder(musl=True)
                image = rt.image("go", self.stage.image, family)
                return rt, image, _setup(rt, libs, self._packages(rt, needed), src)
            if asked is not None and asked.libc == "musl":
                raise Skip(
                    f"the program is linked against glibc ({self.stage.image}); alpine has musl; use --runtime slim",
                    line,
                )
            rt = select.like_builder(musl=False)
            packages = self._packages(rt, needed)
            if family == "ubuntu":
                base = "ubuntu:" + facts.tag
                return rt, base, _setup(rt, libs, packages, src)
            # a base without a package manager in its glibc variant: the one asked for, or by default the smallest
            # with an image for the builder's release when the binary needs no shared library or tool installed
            if asked is not None and asked.package_manager is None:
                bare = select.variant(asked.name, "go", "glibc")
                image = bare.image("go", self.stage.image, family) if bare else None
                if bare and image:
                    if linked:
                        self.gather_libraries = (bare, image, family)
                    return bare, image + self._nonroot_tag(bare), []
                raise Skip(f"no {asked.name} image matches the builder's Debian release ({family})", line)
            if asked is None and not needed and (not linked or gathered):
                for bare in select.smallest_first("go", libc="glibc", package_manager=False):
                    image = bare.image("go", self.stage.image, family)
                    if image:
                        if linked:
                            self.gather_libraries = (bare, image, family)
                        return bare, image + self._nonroot_tag(bare), []
            libs = _runtime_libs(facts, family)
            return rt, rt.image("go", self.stage.image, family), _setup(rt, libs, packages, src)
        # A static binary runs anywhere; the runtime only has to provide the tools the commands call.
        rt = asked
        if rt is not None and rt.package_manager is None and needed:
            tool, at = next(iter(needed.items()))
            raise Skip(f"`{tool}` is needed here and {requested} does not have it; use --runtime alpine", at)
        if rt is None and needed:
            rt = select.with_programs(needed)
            if rt is None:
                tool, at = next((t, a) for t, a in needed.items() if not slim.SLIM.provides(t)[0])
                raise Skip(f"`{tool}` is needed here and no runtime image dockrewrite knows provides it", at)
            self.note(
                "DR601",
                f"runtime {rt.name}: {', '.join(sorted(needed))} needed by line {min(needed.values())}, and "
                "distroless has no shell or tools",
            )
        if rt is None:
            rt = self._static_base(facts)
        codename = family if family in images.DEBIAN_CODENAMES else "bookworm"
        image = rt.image("go", self.stage.image, codename)
        if rt.package_manager is None:
            # a base chosen because the binary needs nothing it lacks gets nothing copied in
            setup = [] if self.runtime_reason else self._copied_setup(rt, facts)
            return rt, image + self._nonroot_tag(rt), setup
        return rt, image, _setup(rt, [], self._packages(rt, needed), src)

    def _static_base(self, facts: GoFacts) -> Runtime:
        """The smallest base without a C library (by rank) that holds what the static binary needs; when part of
        the program is unseen it may need anything, so the base that holds every need."""
        found = needs.find(self.ctx, facts, self.stage)
        wanted = list(needs.WHAT) if found.unseen else [n for n, _ in found.needs]
        bases = select.smallest_first("go", libc=None)
        rt = next((b for b in bases if all(needs.provides(b, n) for n in wanted)), bases[-1])
        smaller = [b for b in bases if b.rank < rt.rank]
        if smaller and found.unseen is None:
            need, where = next((n, w) for n, w in found.needs if not needs.provides(smaller[0], n))
            self.note(
                "DR605",
                f"runtime {_label(rt)} rather than {_label(smaller[0])}: "
                f"the program needs {needs.WHAT[need][0]} ({where})",
            )
        elif rt.rank == bases[0].rank:
            lacks = [short for n, (_, short) in needs.WHAT.items() if not needs.provides(rt, n)]
            self.runtime_reason = f"{rt.name}: a static binary that needs no {', '.join(lacks[:-1])} or {lacks[-1]}"
        return rt

    def _nonroot_tag(self, rt: Runtime) -> str:
        return "" if self.options.keep_root else rt.nonroot_tag

    @staticmethod
    def _packages(rt: Runtime, needed: Mapping[str, int]) -> list[str]:
        out: list[str] = []
        for tool, at in needed.items():
            available, package = rt.provides(tool)
            if not available:
                raise Skip(f"`{tool}` is needed here and {rt.name} does not provide it", at)
            if package and package not in out:
                out.append(package)
        return sorted(out)

    def _copied_setup(self, rt: Runtime, facts: GoFacts) -> list[ops.Op]:
        """What the binary needs that a base without a package manager lacks, copied from the builder."""
        src = facts.sources
        steps = []
        if src.needs_certs and not rt.ca_certificates:
            steps.append(ops.step("COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/"))
        if src.needs_tzdata and not rt.tzdata:
            if not facts.golang_image:
                raise Skip(
                    f"{rt.name} has no time zone data and this builder is not a golang image to copy it from; use "
                    "--runtime distroless",
                    self.stage.from_.line,
                )
            steps.append(ops.step("COPY --from=builder /usr/local/go/lib/time/zoneinfo.zip /zoneinfo.zip"))
            steps.append(ops.step("ENV ZONEINFO=/zoneinfo.zip"))
        return steps


def _label(rt: Runtime) -> str:
    return rt.name if rt.variant == rt.name else f"{rt.name} {rt.variant}"


def _links_libraries(facts: GoFacts) -> bool:
    """Whether the original installs -dev packages, whose libraries the CGO binary then links."""
    return any(syslibs.is_dev(name) for _ins, _manager, names in facts.packages for name in names)


def _runtime_libs(facts: GoFacts, family: str, strict: bool = True) -> list[str]:
    """The runtime packages holding the shared libraries of the -dev packages the original installs (strict:
    a -dev package the table does not know is refused, since an install would miss its library)."""
    libs: list[str] = []
    for ins, _manager, names in facts.packages:
        needed, unknown = syslibs.runtime_packages(names, "alpine" if family == "alpine" else "debian")
        if unknown and strict:
            raise Skip(
                f"no known runtime package for {', '.join(unknown)}; the CGO binary would miss its shared libraries",
                ins.line,
            )
        libs += [n for n in needed if n not in libs]
    return libs


def _base_packages(src: GoSources) -> list[str]:
    """CA certificates and time zone data, where the program needs them."""
    return [p for p, needed in (("ca-certificates", src.needs_certs), ("tzdata", src.needs_tzdata)) if needed]


def _setup(rt: Runtime, libs: list[str], extra: list[str], src: GoSources) -> list[ops.Op]:
    """The install of what the binary needs on a base with a package manager (CA certificates and time zone data
    too, installed even where the base carries them, since the packages keep them updated)."""
    packages = _base_packages(src) + libs + extra
    if not packages:
        return []
    return [rt.install(packages)]
