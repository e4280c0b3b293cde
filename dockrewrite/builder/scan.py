"""Pair discovery: scripts and Makefiles near the Dockerfiles, read for the builder pattern (pairs, refusals)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from dockrewrite.builder.decide import decide
from dockrewrite.builder.make import DOCKER_CP, make_targets
from dockrewrite.builder.merge import unused_copies
from dockrewrite.builder.pairs import Pair, Rejected, Scan, norm_path, rel_path
from dockrewrite.builder.reader import Reader
from dockrewrite.discover import is_dockerfile_name
from dockrewrite.shell.lexer import Command, Lexer, Unreadable

MAX_SCRIPT_BYTES = 256 * 1024
_SCRIPT_DIRS = ("scripts", "script", "hack", "build", "ci", "bin", "tools")
_MAKEFILES = ("Makefile", "makefile", "GNUmakefile")

# --------------------------------------------------------------------------------------------
# finding scripts and reading them


def _read_script(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_SCRIPT_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\x00" in data:
        return None
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n")


# Extensionless files that are never shell scripts: not worth opening to look for a #! line.
_NOT_SCRIPTS = frozenset(
    {
        "LICENSE",
        "LICENCE",
        "README",
        "CODEOWNERS",
        "AUTHORS",
        "VERSION",
        "Procfile",
        "Gemfile",
        "Pipfile",
        "Jenkinsfile",
        "Vagrantfile",
        "Brewfile",
        "CHANGELOG",
        "NOTICE",
        "COPYING",
    }
)


def _scripts_in(folder: Path) -> list[Path]:
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    out = []
    for p in entries:
        if not p.is_file():
            continue
        if p.suffix in (".sh", ".bash") or p.name in _MAKEFILES or p.suffix == ".mk":
            out.append(p)
        elif (
            not p.suffix
            and not p.name.startswith(".")
            and p.name not in _NOT_SCRIPTS
            and not is_dockerfile_name(p.name)
        ):
            try:
                with p.open("rb") as handle:
                    head = handle.read(64)
            except OSError:
                continue
            if re.match(rb"#!\s*\S*/(?:env\s+)?(?:ba|da|k|z)?sh\b", head):
                out.append(p)
    return out


def _shell_units(text: str) -> list[list[Command]]:
    return [Lexer(text).lex()]


def _candidate_dirs(path: Path, root: Path | None) -> list[Path]:
    folder = norm_path(path.parent)
    top = norm_path(root) if root is not None else folder
    chain = [folder]
    if folder.is_relative_to(top):
        while chain[-1] != top and chain[-1].parent != chain[-1]:
            chain.append(chain[-1].parent)
    return chain


def scan(dockerfiles: list[Path], root: Path | None = None) -> Scan:
    """Pairs the scripts next to these Dockerfiles link, and the scripts that run docker cp but cannot be read.

    Scripts are looked for in each Dockerfile's folder and its parents up to `root` (the folder discovery
    started from), and in their scripts/, hack/, build/, ci/, bin/ and tools/ subfolders: `*.sh`, `*.bash`,
    shell scripts without an extension, Makefiles (each target separately). A script's relative paths are
    read from its own folder, or from the one folder where they name files that exist.
    """
    given = {norm_path(p): Path(p) for p in dockerfiles}
    relative = bool(dockerfiles) and not Path(dockerfiles[0]).is_absolute()
    chains: dict[Path, list[Path]] = {}  # folder to search -> the folders its scripts may run from
    for p in dockerfiles:
        chain = _candidate_dirs(Path(p), root)
        for n, folder in enumerate(chain):
            if folder in chains:
                break  # this folder and its parents are already listed
            for d in (folder, *(folder / s for s in _SCRIPT_DIRS)):
                chains.setdefault(d, chain[n:])
    folders = list(chains)
    found = Scan()
    seen: set[Path] = set()
    candidates: list[tuple[Pair | None, Rejected | None]] = []
    for folder in folders:
        for script in _scripts_in(folder):
            key = norm_path(script)
            if key in seen:
                continue
            seen.add(key)
            shown = Path(os.path.relpath(key)) if relative else key
            candidates += _analyze(key, shown, chains[folder], given)
    by_runtime: dict[Path, list[Pair]] = {}
    for pair, rejected in candidates:
        if rejected is not None:
            found.rejected.append(rejected)
        if pair is not None:
            by_runtime.setdefault(norm_path(pair.runtime_file), []).append(pair)
    for group in by_runtime.values():
        first = group[0]
        same = all(
            (p.build_file, p.artifacts_key(), p.build_context, p.runtime_context)
            == (first.build_file, first.artifacts_key(), first.build_context, first.runtime_context)
            for p in group
        )
        if not same:
            for p in group:
                found.rejected.append(
                    Rejected(
                        p.script,
                        p.lines[0],
                        f"{rel_path(p.runtime_file, p.script.parent)} is built differently by more than one script",
                        p.target,
                    )
                )
            continue
        others = tuple(p.script for p in group[1:] if p.script != first.script)
        found.pairs.append(_replace(first, others=others) if others else first)
    return found


def find_pairs(dockerfiles: list[Path], root: Path | None = None) -> list[Pair]:
    """The builder-pattern pairs among these Dockerfiles (see `scan` for the scripts that were not read)."""
    return scan(dockerfiles, root).pairs


def _replace(pair: Pair, **changes) -> Pair:
    import dataclasses

    return dataclasses.replace(pair, **changes)


def _analyze(
    script: Path, shown: Path, chain: list[Path], given: dict[Path, Path]
) -> list[tuple[Pair | None, Rejected | None]]:
    """script: its absolute path; shown: the path to report (relative when the Dockerfiles were given so)."""
    text = _read_script(script)
    if text is None or not DOCKER_CP.search(text):
        return []
    if script.name in _MAKEFILES or script.suffix == ".mk":
        try:
            targets = make_targets(text, script.parent)
        except Unreadable as exc:
            return [(None, Rejected(shown, exc.line, exc.reason))]
        out = []
        for name, line, units, names, problem in targets:
            if problem:
                out.append((None, Rejected(shown, line, problem, name)))
                continue
            out.append(_outcome(script, shown, [(units, script.parent)], names, given, name))
        return out
    try:
        units = _shell_units(text)
    except Unreadable as exc:
        return [(None, Rejected(shown, exc.line, f"the script cannot be read: {exc.reason}"))]
    cwds = [script.parent] + [c for c in chain if c != script.parent]
    return [_outcome(script, shown, [(units, cwd) for cwd in cwds], {}, given, None, text)]


def _outcome(
    script: Path,
    shown: Path,
    starts: list[tuple[list[list[Command]], Path]],
    names: dict[str, str],
    given: dict[Path, Path],
    target: str | None,
    text: str = "",
) -> tuple[Pair | None, Rejected | None]:
    results: list[dict] = []
    first_error: Unreadable | None = None
    for units, cwd in starts:
        reader = Reader(units, script.parent, cwd, names)
        try:
            decided = decide(reader.run(), reader)
        except Unreadable as exc:
            first_error = first_error or exc
            continue
        if decided is None:
            if cwd == starts[0][1]:
                return None, None
            continue
        if decided not in results:
            results.append(decided)
    if not results:
        if first_error is None:
            return None, None
        reason = first_error.reason
        broken = [n for n, line in enumerate(text.split("\n"), 1) if re.search(r"\\[ \t]+$", line)]
        if broken:
            reason += (
                f"; note: line {broken[0]} ends with a backslash followed by spaces, so the shell does not continue "
                "that line"
            )
        return None, Rejected(shown, first_error.line, reason, target)
    if len(results) > 1:
        return None, Rejected(
            shown,
            results[0]["lines"][0],
            "the script names different files depending on the folder it runs from",
            target,
        )
    d = results[0]
    runtime_key, build_key = d["runtime_file"], d["build_file"]
    if runtime_key not in given:
        if build_key in given:
            reason = f"its runtime Dockerfile {d['runtime_file']} is not among the files being converted"
            return None, Rejected(shown, d["lines"][1], reason, target)
        return None, None
    if d["build_target"] is not None:
        return None, Rejected(shown, d["lines"][0], "the first build picks a stage with --target", target)
    if d["platforms"][0] != d["platforms"][1] and d["platforms"][0] is not None:
        return None, Rejected(shown, d["lines"][0], "the two builds use different --platform values", target)

    def present(path: Path) -> Path:
        return path if shown.is_absolute() else Path(os.path.relpath(path))

    pair = Pair(
        build_file=given.get(build_key, present(build_key)),
        runtime_file=given[runtime_key],
        script=shown,
        artifacts=d["artifacts"],
        build_context=d["build_context"],
        runtime_context=d["runtime_context"],
        target=target,
        lines=d["lines"],
        build_args=d["build_args"],
        runtime_build_args=d["runtime_build_args"],
        command=d["command"],
        extra_steps=d["extra_steps"],
    )
    unused = unused_copies(pair)
    if unused:
        pair = _replace(pair, extra_steps=pair.extra_steps + unused)
    return pair, None
