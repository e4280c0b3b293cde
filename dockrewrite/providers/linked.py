"""The builder step that gathers the shared libraries a build linked, for a runtime base that cannot install
packages (distroless), and the runtime's COPY of them: found with the loader, never from a table."""

from __future__ import annotations

from collections.abc import Sequence

from dockrewrite import ops

LIBS_TREE = "/runtime-libs"  # the shared libraries the runtime lacks, at their own paths below this folder


def gather(
    elf_roots: Sequence[str],
    probe: str,
    codename: str | None,
    runtime_image: str,
    libraries: Sequence[str],
    comments: tuple[str, ...],
    keep_out: Sequence[str] = (),
    present_in: Sequence[str] = (),
) -> ops.Op:
    """The builder RUN that copies under LIBS_TREE every library the ELF files under `elf_roots` need and the
    runtime lacks (`libraries`: file-name patterns of what it has). The loader is the one `probe` (an ELF
    file of the builder) names, so nothing names an architecture; it resolves as the runtime will (no
    ld.so.cache). A file's own folder counts, where a wheel's bundled libraries find each other; only when that
    is not enough do the folders of every library under `elf_roots` count too (one a package loads first is
    found by its name), so a vendored copy named like a system library (mysql-connector's libssl) never stands
    in for the system's.
    A library only the builder's cache finds fails the build, as does a builder of another Debian release
    than the runtime's (`codename`). A file that cannot load in the builder either (an optional module whose
    library the image never had) is left as it is, with a warning: the original could not load it. Libraries
    under `keep_out` travel with those folders; one whose path exists under a `present_in` folder is there
    already.

    With no `libraries` the runtime has no C library (distroless static) and `codename` is None: the builder's
    own glibc travels too, so the runtime needs no release of its own. Then the loader goes at the path the
    ELF files name, and with it what glibc opens by itself rather than links: libgcc_s (thread exit and
    cancellation unwind through it) and the NSS modules (a glibc before 2.34 opens them for users and hosts)."""
    release = (
        f"    grep -qx 'VERSION_CODENAME={codename}' /etc/os-release \\\n"
        f"      || {{ echo 'the builder is not Debian {codename}, the release of {runtime_image}' >&2; exit 1; }}; \\\n"
        if codename
        else ""
    )
    half = len(libraries) // 2
    has = (
        '      case "${lib##*/}" in '
        + "|".join(libraries[:half])
        + "| \\\n        "
        + "|".join(libraries[half:])
        + ") continue ;; esac; \\\n"
        if libraries
        else ""
    )
    glibc = (
        ""
        if libraries
        else f'    mkdir -p "{LIBS_TREE}${{loader%/*}}" && cp -L "$loader" "{LIBS_TREE}$loader"; \\\n'
        '    libc=$(awk \'$1 ~ "^libc[.]so" && $2 == "=>" {print $3; exit}\' /tmp/linked.txt); \\\n'
        '    for lib in "${libc%/*}"/libgcc_s.so.1 "${libc%/*}"/libnss_files.so.2 "${libc%/*}"/libnss_dns.so.2; do \\\n'
        '      if [ -e "$lib" ]; then echo "${lib##*/} => $lib"; fi; \\\n'
        "    done >> /tmp/linked.txt; \\\n"
    )
    skip_trees = (
        f'      case "$lib" in {"|".join(f"{root}/*" for root in keep_out)}) continue ;; esac; \\\n' if keep_out else ""
    )
    present = "".join(f'      [ -e "{tree}$lib" ] && continue; \\\n' for tree in present_in)
    made = ops.step(
        "RUN set -eu; \\\n" + release + f"    mkdir {LIBS_TREE}; \\\n"
        f'    loader=$(ldd {probe} | awk \'$1 ~ "^/" && $2 != "=>" {{print $1; exit}}\'); \\\n'
        f"    own=$(find {' '.join(elf_roots)} -type f -name '*.so*' -printf '%h\\n' | sort -u | paste -sd:); \\\n"
        f"    find {' '.join(elf_roots)} -type f \\( -name '*.so*' -o -perm -u+x \\) | while read -r elf; do \\\n"
        '      "$loader" --verify "$elf" >/dev/null 2>&1 || [ $? = 2 ] || continue; \\\n'
        '      path="${elf%/*}${own:+:$own}"; \\\n'
        '      if ! needs=$("$loader" --inhibit-cache --library-path "${elf%/*}" --list "$elf" 2>&1) \\\n'
        '        && ! needs=$("$loader" --inhibit-cache --library-path "$path" --list "$elf" 2>&1); then \\\n'
        '        if ! "$loader" --library-path "$path" --list "$elf" >/dev/null 2>&1; then \\\n'
        '          echo "warning: $elf cannot load in the original either: $needs" >&2; continue; \\\n'
        "        fi; \\\n"
        '        echo "$elf: a library it links is found only through ld.so.cache: $needs" >&2; exit 1; \\\n'
        "      fi; \\\n"
        '      case "$needs" in *"not found"*) echo "$elf: $needs" >&2; exit 1 ;; esac; \\\n'
        '      echo "$needs"; \\\n'
        "    done > /tmp/linked.txt; \\\n"
        + glibc
        + '    awk \'$2 == "=>" && $3 ~ "^/" {print $3}\' /tmp/linked.txt | sort -u | while read -r lib; do \\\n'
        + skip_trees
        + has
        + present
        + '      dir=$(readlink -f "${lib%/*}"); \\\n'
        f'      mkdir -p "{LIBS_TREE}$dir" && cp -L "$lib" "{LIBS_TREE}$dir/"; \\\n'
        "    done; \\\n"
        "    rm /tmp/linked.txt",
        (*comments, "# hadolint ignore=DL4006"),
    )
    made.context_free = True
    return made


def copy(source: str, comments: tuple[str, ...] = ()) -> ops.Op:
    """The runtime's COPY of what `gather` made in the stage `source`."""
    return ops.step(f"COPY --from={source} {LIBS_TREE}/ /", comments)
