"""Everything that depends on the runtime base (scratch, distroless, alpine, slim): which image per builder,
what it provides (shell, CA certificates, time zone data, C library, users), how packages are installed on it."""

from __future__ import annotations

from collections.abc import Mapping

from dockrewrite import images, syslibs, tools
from dockrewrite.plan import Step
from dockrewrite.providers.common import DEFAULT_PATH, Planner, package_step
from dockrewrite.providers.go.analyse import GoFacts
from dockrewrite.providers.go.sources import GoSources
from dockrewrite.results import Skip

# The bases that have /bin/sh, a package manager and /etc/passwd with the usual system users.
_WITH_SHELL = ("alpine", "slim")


def has_shell(runtime: str) -> bool:
    """Whether the runtime base has /bin/sh (and so can run shell-form commands and RUN lines)."""
    return runtime in _WITH_SHELL


def on_path(directory: str) -> bool:
    """Whether the runtime base looks up bare program names in this folder."""
    return directory in DEFAULT_PATH


def default_user() -> tuple[str, str]:
    """(USER line, note) for an original without USER: the distroless images' nonroot uid, which needs no
    /etc/passwd entry on any base."""
    note = (
        f"no USER in the original: the runtime runs as the non-root uid {images.NONROOT_UID} (--keep-root keeps root)"
    )
    return f"USER {images.NONROOT}", note


def nobody_user(runtime: str) -> str | None:
    """The USER line for `USER nobody`, or None where the base's /etc/passwd has nobody and the line stays."""
    return None if has_shell(runtime) else "USER 65534:65534"


def runtime_note(runtime: str, cgo: bool) -> str:
    """One line on what the chosen runtime base holds."""
    if cgo:
        libc = "musl, like the builder" if runtime == "alpine" else "glibc, like the builder"
        return f"{runtime} ({libc}) with the shared libraries the CGO binary links"
    if runtime == "distroless":
        return "distroless static: no shell or package manager, only the binary and its files"
    if runtime == "scratch":
        return "scratch: an empty image holding only the static binary and the files it reads"
    return f"{runtime} with the shell and tools the commands below call"


class RuntimeMixin(Planner):
    """The planner's choice of runtime base and the steps that prepare it."""

    def _runtime(self, facts: GoFacts) -> tuple[str, str, list[Step]]:
        """(runtime name, image, setup steps) for the binary and the tools the commands need."""
        src, cgo, cgo_reason, needed, family = facts.sources, facts.cgo, facts.cgo_reason, facts.needed, facts.family
        if cgo and facts.golang_image and family not in (None, "alpine") and family not in facts.tag:
            self.warnings.append(
                f"the builder's Debian release ({family}) is inferred from the Go version in {self.stage.image}; "
                f"the CGO binary needs a runtime with the same or a newer glibc: pin a tag such as -{family}"
            )
        requested = self.options.runtime
        line = self.stage.from_.line
        if cgo:
            if family is None:
                raise Skip(
                    f"the program links C code ({cgo_reason}) and the builder image {self.stage.image} does not say "
                    "which C library it has; pin a tag such as -bookworm or -alpine",
                    line,
                )
            libs = _runtime_libs(facts, family)
            if requested == "scratch" or (requested == "distroless" and (libs or needed)):
                lacks = " and ".join(
                    x for x, on in (("a C library", True), ("shared libraries", libs), ("tools", needed)) if on
                )
                raise Skip(
                    f"the program links C code ({cgo_reason}); {requested} lacks {lacks}; use --runtime slim", line
                )
            if family == "alpine":
                if requested not in ("auto", "alpine"):
                    raise Skip(
                        f"the program is linked against musl (alpine builder); --runtime {requested} would "
                        "not run it; use --runtime alpine",
                        line,
                    )
                return (
                    "alpine",
                    images.alpine_for(self.stage.image),
                    _apk_setup(libs, self._packages("alpine", needed), src),
                )
            if requested == "alpine":
                raise Skip(
                    f"the program is linked against glibc ({self.stage.image}); alpine has musl; use --runtime slim",
                    line,
                )
            packages = self._packages("slim", needed)
            if family == "ubuntu":
                base = "ubuntu:" + facts.tag
                return "slim", base, _apt_setup(libs, packages, src)
            distroless = images.distroless_base(family)
            if (requested == "distroless" or (requested == "auto" and not libs and not needed)) and distroless:
                return "distroless", distroless + ("" if self.options.keep_root else ":nonroot"), []
            if requested == "distroless":
                raise Skip(f"no distroless image matches the builder's Debian release ({family})", line)
            return "slim", images.debian_slim(family), _apt_setup(libs, packages, src)
        # A static binary runs anywhere; the runtime only has to provide the tools the commands call.
        if requested in ("scratch", "distroless") and needed:
            tool, at = next(iter(needed.items()))
            raise Skip(f"`{tool}` is needed here and {requested} does not have it; use --runtime alpine", at)
        if requested == "auto" and needed:
            requested = next((r for r in ("alpine", "slim") if all(tools.provided(r, t)[0] for t in needed)), None)
            if requested is None:
                tool, at = next((t, a) for t, a in needed.items() if not tools.provided("slim", t)[0])
                raise Skip(f"`{tool}` is needed here and no runtime image dockrewrite knows provides it", at)
            self.warnings.append(
                f"runtime {requested}: {', '.join(sorted(needed))} needed by line {min(needed.values())}, and "
                "distroless has no shell or tools"
            )
        if requested == "auto":
            requested = "distroless"
        if requested == "distroless":
            return "distroless", images.DISTROLESS_STATIC + ("" if self.options.keep_root else ":nonroot"), []
        if requested == "scratch":
            return "scratch", images.SCRATCH, self._scratch_setup(facts)
        packages = self._packages(requested, needed)
        if requested == "alpine":
            return "alpine", images.alpine_for(self.stage.image), _apk_setup([], packages, src)
        codename = family if family in images.DEBIAN_CODENAMES else "bookworm"
        return "slim", images.debian_slim(codename), _apt_setup([], packages, src)

    @staticmethod
    def _packages(runtime: str, needed: Mapping[str, int]) -> list[str]:
        out: list[str] = []
        for tool, at in needed.items():
            available, package = tools.provided(runtime, tool)
            if not available:
                raise Skip(f"`{tool}` is needed here and {runtime} does not provide it", at)
            if package and package not in out:
                out.append(package)
        return sorted(out)

    def _scratch_setup(self, facts: GoFacts) -> list[Step]:
        src = facts.sources
        steps = []
        if src.needs_certs:
            steps.append(Step("COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/"))
        if src.needs_tzdata:
            if not facts.golang_image:
                raise Skip(
                    "scratch has no time zone data and this builder is not a golang image to copy it from; use "
                    "--runtime distroless",
                    self.stage.from_.line,
                )
            steps.append(Step("COPY --from=builder /usr/local/go/lib/time/zoneinfo.zip /zoneinfo.zip"))
            steps.append(Step("ENV ZONEINFO=/zoneinfo.zip"))
        return steps


def _runtime_libs(facts: GoFacts, family: str) -> list[str]:
    """The runtime packages holding the shared libraries of the -dev packages the original installs."""
    libs: list[str] = []
    for ins, _manager, names in facts.packages:
        needed, unknown = syslibs.runtime_packages(names, "alpine" if family == "alpine" else "debian")
        if unknown:
            raise Skip(
                f"no known runtime package for {', '.join(unknown)}; the CGO binary would miss its shared libraries",
                ins.line,
            )
        libs += [n for n in needed if n not in libs]
    return libs


def _base_packages(src: GoSources) -> list[str]:
    """CA certificates and time zone data, where the program needs them."""
    return [p for p, needed in (("ca-certificates", src.needs_certs), ("tzdata", src.needs_tzdata)) if needed]


def _apk_setup(libs: list[str], extra: list[str], src: GoSources) -> list[Step]:
    packages = _base_packages(src) + libs + extra
    return [package_step(packages, "alpine")] if packages else []


def _apt_setup(libs: list[str], extra: list[str], src: GoSources) -> list[Step]:
    packages = _base_packages(src) + libs + extra
    return [package_step(packages, "debian")] if packages else []
