"""One Pair -> a Result for the runtime file: the build file becomes the builder stage, its files COPY --from it."""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path
from typing import TYPE_CHECKING

from dockrewrite.builder.pairs import BUILDER, Pair, norm_path, rel_path
from dockrewrite.notes import Note

if TYPE_CHECKING:
    from dockrewrite.results import Result

# Docker passes these to every stage without an ARG line.
_PROXY_ARGS = frozenset(
    n for base in ("http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy") for n in (base, base.upper())
)
_ARCHIVE = re.compile(r"\.(tar|tgz|tbz2?|txz|tzst|tar\.(gz|bz2|xz|zst|lz|lzma))$", re.IGNORECASE)


class _NoMerge(Exception):
    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


def unused_copies(pair: Pair) -> tuple[str, ...]:
    """docker cp steps whose files the runtime file never copies: the script still produces them for someone."""
    from dockrewrite import source
    from dockrewrite.parse import ParseError, parse

    try:
        model = parse(source.read(pair.runtime_file)[0])
    except (OSError, source.SourceError, ParseError):
        return ()
    used: set[int] = set()
    for stage in model.stages:
        for ins in stage.instructions:
            if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None or ins.heredocs:
                continue
            for src in ins.args[:-1]:
                for n, art in enumerate(pair.artifacts):
                    rel = _context_rel(art.local_path, pair.runtime_context)
                    norm = _source_norm(src)
                    inside = norm == rel or norm.startswith(rel + "/")
                    if inside or norm == "." or rel.startswith(norm + "/") or _has_glob(src):
                        used.add(n)
    base = pair.script.parent
    return tuple(
        f"`docker cp` (line {a.line}) leaves {rel_path(a.local_path, base)} on the host, and "
        f"{rel_path(pair.runtime_file, base)} does not copy it"
        for n, a in enumerate(pair.artifacts)
        if n not in used
    )


def _context_rel(path: Path, context: Path) -> str:
    return Path(os.path.relpath(norm_path(path), norm_path(context))).as_posix()


def _source_norm(src: str) -> str:
    stripped = src.strip("/")
    return posixpath.normpath(stripped) if stripped else "."


def _has_glob(text: str) -> bool:
    return bool(re.search(r"[*?\[]", text))


def _gaps(model) -> tuple[list[tuple[list[str], object]], list[str]]:
    """[(lines between the previous instruction and this one, instruction)], footer lines; directives dropped."""
    from dockrewrite.model import DIRECTIVE_RE

    lines = [line.rstrip() for line in model.lines]
    skip = 0
    while skip < len(lines) and DIRECTIVE_RE.match(lines[skip]):
        skip += 1
    chunks = []
    prev = skip
    everything = [*model.global_args]
    for stage in model.stages:
        everything += [stage.from_, *stage.instructions]
    for ins in everything:
        chunks.append((lines[prev : ins.line - 1], ins))
        prev = ins.end_line
    footer = lines[prev:]
    return chunks, footer


def _directives(model) -> dict[str, str]:
    from dockrewrite.model import DIRECTIVE_RE

    out = {}
    for line in model.lines:
        m = DIRECTIVE_RE.match(line.strip())
        if not m:
            break
        out[m.group(1).lower()] = line.strip()
    return out


def _produced_files(stage) -> dict[str, str]:
    """Absolute paths the build stage writes as files with `go build -o`, resolved through WORKDIR -> how."""
    from dockrewrite import shell

    out: dict[str, str] = {}
    workdir: str | None = "/"
    for ins in stage.instructions:
        if ins.keyword == "WORKDIR":
            arg = ins.args[0] if ins.args else ""
            workdir = None if "$" in arg or workdir is None else shell.resolve(workdir, arg)
        if ins.keyword != "RUN" or workdir is None:
            continue
        cwd: str | None = workdir
        for seg in shell.segments(ins.shell):
            _, words = shell.env_prefix(seg.words())
            if words[:1] == ["cd"] and len(words) == 2 and cwd is not None:
                cwd = None if "$" in words[1] else shell.resolve(cwd, words[1])
            if words[:2] != ["go", "build"] or cwd is None:
                continue
            for n, w in enumerate(words):
                value = words[n + 1] if w == "-o" and n + 1 < len(words) else w[3:] if w.startswith("-o=") else None
                if value and "$" not in value and not value.endswith("/"):
                    out[shell.resolve(cwd, value)] = f"`go build -o {value}` (line {ins.line}) in WORKDIR {workdir}"
    return out


def _copy_text(keyword: str, flags: list[str], sources: list[str], dest: str, json_form: bool) -> str:
    import json

    head = " ".join([keyword, *flags])
    if json_form:
        return f"{head} {json.dumps([*sources, dest])}"
    return f"{head} {' '.join([*sources, dest])}"


def _rewrite_copies(stage, pair: Pair, produced: dict[str, str]) -> tuple[dict[int, str], list[str], set[int]]:
    """Runtime COPY/ADD of what the script copied out -> COPY --from=builder: (line -> text, notes, artifacts used)."""
    arts = []
    for n, a in enumerate(pair.artifacts):
        rel = _context_rel(a.local_path, pair.runtime_context)
        if rel == "." or rel.startswith("../"):
            raise _NoMerge(f"docker cp (script line {a.line}) writes the context folder itself, not a file in it")
        arts.append((n, rel, a.container_path))
    replaced: dict[int, str] = {}
    notes: list[str] = []
    used: set[int] = set()
    for ins in stage.instructions:
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None or ins.heredocs or len(ins.args) < 2:
            continue
        sources, dest = list(ins.args[:-1]), ins.args[-1]
        mapped: list[tuple[str, str | None]] = []
        for src in sources:
            hit = None
            if re.match(r"^[a-z][a-z0-9+.-]*://", src) or src.startswith("git@"):
                mapped.append((src, None))
                continue
            norm = _source_norm(src)
            for n, rel, cpath in arts:
                if _has_glob(src):
                    if _glob_hits(norm, rel):
                        raise _NoMerge(
                            f"`{ins.text}` (line {ins.line}) matches {rel} by a wildcard: which files it copies "
                            "cannot be told",
                            ins.line,
                        )
                    continue
                if norm == rel:
                    hit = (n, cpath, rel)
                elif norm.startswith(rel + "/"):
                    hit = (n, posixpath.join(cpath, norm[len(rel) + 1 :]), rel)
                elif norm == "." or rel.startswith(norm + "/"):
                    raise _NoMerge(
                        f"`{ins.text}` (line {ins.line}) copies the folder that holds {rel}, which the script copies "
                        "out of the container; split that COPY first",
                        ins.line,
                    )
            if hit is None:
                mapped.append((src, None))
                continue
            n, cpath, rel = hit
            used.add(n)
            if ins.keyword == "ADD" and (_ARCHIVE.search(cpath) or _ARCHIVE.search(norm)):
                raise _NoMerge(
                    f"`{ins.text}` (line {ins.line}) unpacks the archive {src}; COPY --from does not unpack", ins.line
                )
            dir_like = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
            if posixpath.basename(cpath) != posixpath.basename(norm) and dir_like:
                whole = norm == rel
                contents = whole and pair.artifacts[n].contents
                if whole and cpath in produced and not contents:
                    mapped.append((cpath, posixpath.join(dest, posixpath.basename(norm))))
                    continue
                if not contents:
                    raise _NoMerge(
                        f"the script renames {cpath} to {rel}, and `{ins.text}` (line {ins.line}) copies it into a "
                        "folder: whether it is a file or a folder decides the name, and that cannot be told",
                        ins.line,
                    )
            mapped.append((cpath, dest))
        if not any(target is not None for _, target in mapped):
            continue
        extra = [f for f in ins.flags if not re.match(r"--(chown|chmod|link)(=|$)", f, re.IGNORECASE)]
        if extra:
            raise _NoMerge(f"`{ins.text}` (line {ins.line}) uses {extra[0]}, which is not kept in a COPY --from")
        lines = _split_copy(ins, dest, mapped)
        replaced[ins.line] = "\n".join(lines)
        notes.append(f"`{ins.text}` (line {ins.line}) became `{' / '.join(lines)}`")
    return replaced, notes, used


def _split_copy(ins, dest: str, mapped: list[tuple[str, str | None]]) -> list[str]:
    """One COPY per run of sources: the context's as they were, the builder's as COPY --from (per destination)."""
    runs: list[list[tuple[str, str | None]]] = []
    for item in mapped:
        if runs and (runs[-1][-1][1] is None) == (item[1] is None):
            runs[-1].append(item)
        else:
            runs.append([item])
    lines: list[str] = []
    for items in runs:
        if items[0][1] is None:
            lines.append(_copy_text(ins.keyword, list(ins.flags), [s for s, _ in items], dest, ins.json))
            continue
        for target in dict.fromkeys(t for _, t in items):
            paths = [s for s, t in items if t == target]
            lines.append(_copy_text("COPY", [f"--from={BUILDER}", *ins.flags], paths, target, ins.json))
    return lines


def _glob_hits(pattern: str, rel: str) -> bool:
    """Whether a wildcard COPY source can match rel, a folder holding it, or something inside it."""
    import fnmatch

    parts = rel.split("/")
    if any(fnmatch.fnmatchcase("/".join(parts[:i]), pattern) for i in range(1, len(parts) + 1)):
        return True
    fixed = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    return fixed.startswith(rel + "/") or (rel + "/").startswith(fixed) and fixed != ""


def merge(pair: Pair, templates: str | None = None) -> Result:
    """One multi-stage Dockerfile for the pair, as a Result for the runtime file (the caller writes it),
    rendered through builder/merge.Dockerfile.j2 (a --templates folder may hold its own)."""
    from dockrewrite import source
    from dockrewrite.context import BuildContext
    from dockrewrite.parse import ParseError, parse
    from dockrewrite.plan import Options
    from dockrewrite.render import TemplateProblem
    from dockrewrite.results import CHANGED, FAILED, SKIPPED, UNCHANGED, Result
    from dockrewrite.safety import UnsafeOutput, check
    from dockrewrite.transform import SKIP_MARK, convert_text

    base = pair.runtime_file.parent
    build_name, runtime_name, script_name = (
        rel_path(p, base) for p in (pair.build_file, pair.runtime_file, pair.script)
    )
    result = Result(path=str(pair.runtime_file), status=UNCHANGED, signals=[pair.describe()])
    try:
        runtime_text, fmt = source.read(pair.runtime_file)
    except (OSError, source.SourceError) as exc:
        result.status, result.reason = FAILED, f"cannot read: {exc}"
        return result
    result.original, result.encoding = runtime_text, fmt
    try:
        build_text, _ = source.read(pair.build_file)
    except (OSError, source.SourceError) as exc:
        result.status, result.reason = FAILED, f"cannot read {build_name}: {exc}"
        return result

    def stop(status: str, reason: str, line: int | None = None) -> Result:
        result.status, result.reason, result.line = status, reason, line
        return result

    for text, name in ((runtime_text, None), (build_text, build_name)):
        m = SKIP_MARK.search(text)
        if m:
            where = f" in {name}" if name else ""
            line = text.count("\n", 0, m.start()) + 1
            return stop(SKIPPED, f"opted out with a `# dockrewrite: skip` comment{where}", line)
    try:
        runtime = parse(runtime_text)
    except ParseError as exc:
        return stop(SKIPPED if exc.empty else FAILED, exc.message, exc.line)
    try:
        build = parse(build_text)
    except ParseError as exc:
        return stop(SKIPPED, f"{build_name} line {exc.line}: {exc.message}", None)
    if runtime.is_multistage:
        result.reason = (
            f"already multi-stage ({len(runtime.stages)} stages): left alone, although {script_name} still builds it "
            f"with {build_name}"
        )
        result.line = runtime.stages[1].from_.line
        return result
    try:
        output, notes = _assemble(pair, build, runtime, build_name, runtime_name, script_name, templates)
    except _NoMerge as exc:
        return stop(SKIPPED, exc.reason, exc.line)
    except TemplateProblem as exc:
        return stop(FAILED, str(exc))
    try:
        check(runtime, output)
    except UnsafeOutput as exc:
        return stop(FAILED, f"safety check: {exc}")
    again = convert_text(output, BuildContext(pair.runtime_context), Options(), str(pair.runtime_file))
    if again.status != UNCHANGED:
        return stop(FAILED, "safety check: converting the merged Dockerfile again would change it")
    try:
        from dockrewrite.providers import detect

        result.language = detect(build, BuildContext(pair.build_context)).language
    except Exception:  # detection only labels the result
        result.language = None
    result.runtime = runtime.stages[-1].image
    result.status, result.output = CHANGED, output
    result.warnings = notes
    return result


def _assemble(
    pair: Pair, build, runtime, build_name: str, runtime_name: str, script_name: str, templates: str | None = None
):
    if len(build.stages) > 1:
        raise _NoMerge(
            f"{build_name} has {len(build.stages)} stages; only a single-stage build file becomes the builder stage",
        )
    for model, name in ((build, build_name), (runtime, runtime_name)):
        if model.escape != "\\":
            raise _NoMerge(f"{name} sets `# escape={model.escape}`; the two files cannot be merged safely")
    if norm_path(pair.build_context) != norm_path(pair.runtime_context):
        raise _NoMerge(
            f"{script_name} builds {build_name} with context {pair.build_context} and {runtime_name} with "
            f"{pair.runtime_context}; one Dockerfile has one context"
        )
    for f in (pair.build_file, pair.runtime_file):
        ignore = Path(f"{f}.dockerignore")
        if ignore.exists():
            raise _NoMerge(
                f"{ignore.name} gives {Path(f).name} its own ignore rules; the merged file could not keep them"
            )
    directives = _directives(build)
    for key, line in _directives(runtime).items():
        if directives.setdefault(key, line) != line:
            raise _NoMerge(f"the two files disagree on the `# {key}=` directive")
    bstage, rstage = build.stages[0], runtime.stages[0]
    if (rstage.name or "").lower() == BUILDER or rstage.image.lower() == BUILDER:
        raise _NoMerge(f"{runtime_name} already uses the name {BUILDER!r}", rstage.from_.line)
    for stage in (bstage, rstage):
        for ins in stage.instructions:
            if (ins.flag("from") or "").lower() == BUILDER or (
                ins.keyword == "RUN" and (ins.flag("mount") or "").lower().find(f"from={BUILDER}") >= 0
            ):
                raise _NoMerge(f"`{ins.text}` names an image called {BUILDER!r}", ins.line)
    globals_: dict[str, str] = {}
    for ins in (*build.global_args, *runtime.global_args):
        for arg in ins.args:
            name = arg.split("=", 1)[0]
            if globals_.setdefault(name, arg) != arg:
                raise _NoMerge(f"both files declare ARG {name} before FROM, with different defaults", ins.line)
    _check_build_args(pair, bstage, rstage, build, runtime)
    produced = _produced_files(bstage)
    replaced, copy_notes, used = _rewrite_copies(rstage, pair, produced)
    if not used:
        locals_ = ", ".join(_context_rel(a.local_path, pair.runtime_context) for a in pair.artifacts)
        raise _NoMerge(f"{runtime_name} never copies {locals_}, which {script_name} copies out of the container")

    from dockrewrite.ops import Verbatim
    from dockrewrite.render import render_template

    # Each instruction goes with the lines above it in its own file (comments, blank lines).
    bchunks, bfooter = _gaps(build)
    rchunks, rfooter = _gaps(runtime)
    global_args: list[Verbatim] = []
    seen_args: set[str] = set()
    for chunks in (bchunks, rchunks):
        for gap, ins in chunks:
            if ins in (*build.global_args, *runtime.global_args) and ins.text not in seen_args:
                seen_args.add(ins.text)
                global_args.append(Verbatim(line=ins.text, comments=tuple(gap)))
    builder: list[Verbatim] = []
    for gap, ins in bchunks:
        if ins in build.global_args:
            continue
        text = " ".join(["FROM", *ins.flags, bstage.image, "AS", BUILDER]) if ins is bstage.from_ else ins.text
        builder.append(Verbatim(line=text, comments=tuple(gap)))
    builder += [Verbatim(line=line) for line in bfooter]
    while builder and not builder[-1].line and not builder[-1].comments:
        builder.pop()  # one blank line between the stages, whatever the build file ended with
    stage: list[Verbatim] = []
    for gap, ins in rchunks:
        if ins in runtime.global_args:
            continue
        if ins is rstage.from_:
            while gap and not gap[0]:
                gap = gap[1:]
        stage.append(Verbatim(line=replaced.get(ins.line, ins.text), comments=tuple(gap)))
    stage += [Verbatim(line=line) for line in rfooter]
    output = render_template(
        "builder/merge.Dockerfile.j2",
        templates,
        header=list(directives.values()),
        global_args=global_args,
        builder=builder,
        runtime=stage,
    )
    output = output.strip("\n") + "\n"

    first = f"{build_name} is now the `{BUILDER}` stage: " + "; ".join(copy_notes)
    for a in pair.artifacts:
        how = produced.get(a.container_path)
        if how:
            first += f" ({a.container_path} is written by {how})"
    notes = [Note("DR020", first)]
    lines = f"lines {pair.lines[0]}-{pair.lines[1]}" if pair.lines[0] != pair.lines[1] else f"line {pair.lines[0]}"
    if pair.script_removable:
        notes.append(
            Note(
                "DR020",
                f"{build_name} and {script_name} are no longer needed (delete them, or convert with "
                f"--remove-builder-files); build with `{pair.command}`",
            )
        )
    elif pair.target is not None:
        notes.append(
            Note(
                "DR020",
                f"{build_name} is no longer needed; in {script_name}, target {pair.target}: replace {lines} with "
                f"`{pair.command}`",
            )
        )
    else:
        notes.append(
            Note(
                "DR020",
                f"{build_name} is no longer needed; keep {script_name}, which also runs "
                f"{', '.join(pair.extra_steps)}, and replace its {lines} with `{pair.command}`",
            )
        )
    if pair.build_args:
        names = list(dict.fromkeys(n for n, _ in pair.build_args))
        proxies = [n for n in names if n in _PROXY_ARGS]
        declared = {a.split("=", 1)[0] for ins in bstage.find("ARG") for a in ins.args}
        note = (
            f"{script_name} passes --build-arg {', '.join(names)} to the {build_name} build; the builder stage keeps "
            "its ARG lines as they are, so give the merged build the same --build-arg options (the command above does)"
        )
        if proxies:
            note += f"; {', '.join(proxies)} are predefined: every stage sees them without an ARG line"
        unused = [n for n in names if n not in declared and n not in _PROXY_ARGS]
        if unused:
            note += f"; {', '.join(unused)} has no ARG line in {build_name} and had no effect there"
        notes.append(Note("DR021", note))
    if pair.others:
        notes.append(
            Note(
                "DR022",
                f"{', '.join(rel_path(o, pair.runtime_file.parent) for o in pair.others)} run the same builder "
                "steps; change them the same way",
            )
        )
    return output, notes


def _check_build_args(pair: Pair, bstage, rstage, build, runtime) -> None:
    """A --build-arg given to both builds with different values cannot be kept apart in one build."""

    def declared(stage, model) -> set[str]:
        names = {a.split("=", 1)[0] for ins in stage.find("ARG") for a in ins.args}
        return names | _PROXY_ARGS

    mine = dict(pair.build_args)
    theirs = dict(pair.runtime_build_args)
    both = declared(bstage, build) & declared(rstage, runtime)
    for name in sorted(set(mine) & set(theirs) & both):
        if mine[name] != theirs[name]:
            raise _NoMerge(
                f"the two builds get different --build-arg {name} values ({mine[name]} and {theirs[name]}), and one "
                "build gives both stages one value"
            )
