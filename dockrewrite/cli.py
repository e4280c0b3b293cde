"""Command line: flags, reading and writing files, printing, exit codes. No rewriting logic here."""

from __future__ import annotations

import dataclasses
import itertools
import os
import sys
from pathlib import Path

import typer

from dockrewrite import __version__
from dockrewrite.cli_common import (
    BIND_MOUNTS,
    CACHE_MOUNTS,
    CONFIG,
    IGNORE,
    KEEP_ROOT,
    NO_CONFIG,
    PIN,
    RUNTIME,
    STRATEGY,
    SYNTAX_LINE,
    TARGETS,
    TEMPLATES,
    Color,
    ConvertFormat,
    Format,
    Runtime,
    Strategy,
    config_for,
    err,
    rewrite_flags,
    usage,
)
from dockrewrite.cli_output import BULK, Progress, Repeats, annotate, emit, show
from dockrewrite.notes import note

app = typer.Typer(
    name="dockrewrite",
    help="Rewrite single-stage Dockerfiles into multi-stage builds that keep the image's runtime contract.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: loading rich's renderer would double the start-up time
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dockrewrite {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Rewrite single-stage Dockerfiles into multi-stage builds that keep the image's runtime contract.

    Exit codes: 0 nothing to do or all written, 1 changes pending (--check), 2 usage error or a file failed.
    """


def _collect(paths: list[Path]) -> tuple[list[Path], int, list[tuple[Path, str]]]:
    from dockrewrite.discover import discover

    files, problems, passed_over = discover(paths)
    for path, problem in problems:
        err(f"{path}: {problem}")
    return files, len(problems), passed_over


PATHS = typer.Argument(
    ...,
    help="Dockerfiles, or directories to search for Dockerfile, Dockerfile.*, *.Dockerfile and Containerfile.",
    show_default=False,
)
CONTEXT = typer.Option(
    None, "--context", help="Build context directory (default: each Dockerfile's folder).", file_okay=False
)


def _jobs(
    paths: list[Path],
    context: Path | None,
    flags: dict,
    write: bool,
    config_file: Path | None = None,
    no_config: bool = False,
    force_exclude: bool = False,
    compose: bool = False,
):
    """Jobs for the files found, with each file's options (defaults < config < overrides < flags), the
    files a config skips as results, and how many paths could not be used."""
    from dockrewrite.results import SKIPPED, Result
    from dockrewrite.runner import Job

    files, bad_paths, passed_over = _collect(paths)
    named = {p for p in paths if p.is_file()}  # discovery hands these back as given
    roots = [p for p in paths if p.is_dir()]
    jobs = []
    skipped = [Result(str(path), SKIPPED, reason=reason) for path, reason in passed_over]
    for path in files:
        cfg = config_for(path, config_file, no_config)
        if (force_exclude or path not in named) and not cfg.selected(path):
            continue
        options, skip = cfg.resolve(path, flags)
        if skip:
            skipped.append(Result(str(path), SKIPPED, reason=f"skipped by an override in {cfg.path}"))
            continue
        root = next((r for r in roots if path.is_relative_to(r)), path.parent)
        jobs.append(Job(path, context, options, write=write, root=root, compose=compose))
    return jobs, skipped, bad_paths


@app.command()
def convert(
    ctx: typer.Context,
    paths: list[Path] = PATHS,
    write: bool = typer.Option(
        False,
        "--write",
        help="Replace each file in place (atomically, keeping its bytes' encoding, BOM, line endings and mode).",
    ),
    check: bool = typer.Option(False, "--check", help="Print only the paths that would change; exit 1 if any."),
    output: str = typer.Option(
        None,
        "--output",
        "-o",
        help="With a single input, write the converted Dockerfile to this file ('-' for stdout).",
        show_default=False,
    ),
    context: Path = CONTEXT,
    runtime: Runtime = RUNTIME,
    keep_root: bool = KEEP_ROOT,
    python_strategy: Strategy = STRATEGY,
    templates: Path = TEMPLATES,
    targets: str = TARGETS,
    cache_mounts: bool = CACHE_MOUNTS,
    bind_mounts: bool = BIND_MOUNTS,
    pin: bool = PIN,
    syntax_line: bool = SYNTAX_LINE,
    ignore: str = IGNORE,
    dockerignore: bool = typer.Option(
        False,
        "--dockerignore",
        help="With --write, also write a .dockerignore fitted to the language when "
        "the context has none and the Dockerfile copies the whole context (never ignoring what it copies).",
    ),
    remove_builder_files: bool = typer.Option(
        False,
        "--remove-builder-files",
        help="With --write, delete the build Dockerfile and script of a builder-pattern pair once merged "
        "(otherwise they are only listed).",
    ),
    compose: bool = typer.Option(
        False,
        "--compose",
        help="Also point development services of docker-compose files (this folder and up) that build the "
        "Dockerfile at the develop target; written with --write, shown as a diff otherwise.",
    ),
    fmt: ConvertFormat = typer.Option(
        ConvertFormat.text,
        "--format",
        help="text: diffs and messages; json: one report object (schema: dockrewrite/schemas/); github: "
        "workflow annotations; sarif: SARIF 2.1.0 for code scanning; gitlab: GitLab Code Quality; junit: JUnit XML.",
    ),
    diff: bool = typer.Option(
        False, "--diff", help="Show the diff: with --check (exit 1 still), or for stdin instead of the Dockerfile."
    ),
    stdin_filename: str = typer.Option(
        None,
        "--stdin-filename",
        help="With PATH '-': where the Dockerfile read from stdin lives (its folder is the build context and "
        "where the configuration is looked up, unless --context / --config say otherwise).",
        show_default=False,
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print errors only (no notes, skips or summary)."),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Also print unchanged files and the signals behind each verdict."
    ),
    config_file: Path = CONFIG,
    no_config: bool = NO_CONFIG,
    force_exclude: bool = typer.Option(
        False,
        "--force-exclude",
        help="Apply the config's include/exclude to files named on the command line too (pre-commit names them).",
    ),
    color: Color = typer.Option(
        Color.auto,
        "--color",
        help="Colour the diff: auto (on a terminal; NO_COLOR/FORCE_COLOR honoured), always, never.",
    ),
    no_color: bool = typer.Option(False, "--no-color", help="Same as --color never."),
    jobs: int = typer.Option(
        0,
        "--jobs",
        "-j",
        help="At most this many worker processes, never more than the usable CPUs (0: one per CPU once there "
        "are enough files to pay for starting them).",
        min=0,
    ),
) -> None:
    """Convert Dockerfiles to multi-stage builds. By default prints a diff and writes nothing.

    Settings come from .dockrewrite.toml or [tool.dockrewrite] in pyproject.toml (nearest one upwards);
    flags beat them.
    """
    from dockrewrite import diff as diffs
    from dockrewrite import interrupts
    from dockrewrite.results import CHANGED, Report
    from dockrewrite.runner import run

    # SIGINT, SIGTERM and SIGHUP: writes in progress finish, workers stop, exit 128 + the signal's number.
    ctx.with_resource(interrupts.handled())
    modes = [m for m, on in (("--write", write), ("--check", check), ("--output", output is not None)) if on]
    if len(modes) > 1:
        usage(f"{' and '.join(modes)} cannot be used together")
    if quiet and verbose:
        usage("--quiet and --verbose cannot be used together")
    if config_file is not None and no_config:
        usage("--config and --no-config cannot be used together")
    if diff and (write or output is not None or fmt is not ConvertFormat.text):
        usage("--diff shows a diff on stdout: it goes with --check, stdin or nothing else")
    stdin = [p for p in paths if str(p) == "-"]
    if stdin and (len(paths) > 1 or write):
        usage("'-' reads one Dockerfile from stdin: give no other path, and no --write (use --output)")
    if stdin_filename is not None and not stdin:
        usage("--stdin-filename goes with the path '-'")
    switches = dict(
        cache_mounts=cache_mounts, bind_mounts=bind_mounts, pin=pin, syntax_line=syntax_line, dockerignore=dockerignore
    )
    flags = rewrite_flags(runtime, python_strategy, keep_root, templates, targets, ignore, **switches)
    if stdin:
        job_list, config_skipped, bad_paths = (
            [],
            [_stdin_result(stdin_filename, context, flags, config_file, no_config)],
            0,
        )
        if output is None and not check and not diff:
            output = "-"  # like a formatter: the Dockerfile in, the Dockerfile out
    else:
        job_list, config_skipped, bad_paths = _jobs(
            paths, context, flags, write, config_file, no_config, force_exclude, compose
        )
    if remove_builder_files and not write:
        usage("--remove-builder-files deletes files: use it with --write")
    if output == "-" and fmt is not ConvertFormat.text:
        usage(f"--output - and --format {fmt.value} both write to stdout: give --output a file")
    if output is not None and len(job_list) + len(config_skipped) != 1 or output is not None and bad_paths:
        usage(f"--output needs exactly one input Dockerfile, got {len(job_list) + len(config_skipped)}")
    if compose and not (targets and "develop" in targets):
        usage("--compose points services at the develop target: add --targets develop")
    if check or fmt not in (ConvertFormat.text, ConvertFormat.json):
        # None of these shows notes: skip the work that only produces them.
        job_list = [dataclasses.replace(j, options=dataclasses.replace(j.options, notes=False)) for j in job_list]
    if write:
        # A file of a builder-pattern pair must not be written on its own first.
        job_list, merged = _builder_pattern(job_list, paths, write=write, remove=remove_builder_files)
        pending = work = run(job_list, jobs)
        ctx.call_on_close(work.close)  # also when a signal ends the run
    else:
        # Nothing is written: the workers start at once and the pairs are looked for meanwhile.
        pending = work = run(job_list, jobs)
        ctx.call_on_close(work.close)
        _, merged = _builder_pattern(job_list, paths, write=False, remove=False)
        replaced = {r.path for r in merged}
        pending = (r for r in pending if r.path not in replaced)
    colored = fmt is ConvertFormat.text and _use_color(Color.never if no_color else color)
    progress = Progress(
        len(job_list), enabled=fmt is ConvertFormat.text and output is None and not quiet and sys.stderr.isatty()
    )
    loud = -1 if quiet else (1 if verbose else 0)
    repeats = Repeats() if len(job_list) >= BULK and not verbose else None

    report = Report()
    records = []
    for result in itertools.chain(config_skipped, merged, pending):
        report.add(result)
        shows_diff = fmt is ConvertFormat.json or (
            fmt is ConvertFormat.text and (diff or not (check or write or output))
        )
        changed = result.status == CHANGED
        diff_text = diffs.unified(result.path, result.original, result.output) if changed and shows_diff else None
        progress.hide()  # a message must not glue onto the counter
        if fmt is ConvertFormat.json:
            records.append(result.as_dict(diff_text))
        elif fmt in (ConvertFormat.sarif, ConvertFormat.gitlab, ConvertFormat.junit):
            records.append(result)
        elif fmt is ConvertFormat.github:
            annotate(result)
        else:
            show(result, diff_text, check=check, write=write, output=output, color=colored, loud=loud, repeats=repeats)
        progress.step()
        if output is not None:
            emit(result, output)
        if result.status == CHANGED and not write and output is None and not check and fmt is ConvertFormat.text:
            # what --write would also write (stdout holds one report in the other formats)
            shown_files = [(e.path, e.old, e.new) for e in result.edits if e.data is not None]
            if result.dockerignore:
                shown_files.append((result.dockerignore[0], "", result.dockerignore[1]))
            for path, old, new in shown_files:
                shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
                text = diffs.unified(shown, old, new)
                typer.echo(diffs.colorize(text) if colored else text, nl=False, color=colored)
    progress.done()
    if fmt is not ConvertFormat.text and fmt is not ConvertFormat.github:
        from dockrewrite import reports

        document = {
            ConvertFormat.json: lambda: reports.json_report(records, report),
            ConvertFormat.sarif: lambda: reports.sarif(records),
            ConvertFormat.gitlab: lambda: reports.gitlab(records),
            ConvertFormat.junit: lambda: reports.junit(records, check),
        }[fmt]()
        typer.echo(document)
    elif not quiet:
        if report.total == 0 and not bad_paths:
            err(f"warning: no Dockerfile found in {', '.join(str(p) for p in paths)}")
        for line in repeats.summary() if repeats else []:
            err(line)
        err(report.summary(written=write, check=check))
    code = report.exit_code(check)
    raise typer.Exit(2 if bad_paths else code)


def _stdin_result(stdin_filename: str | None, context: Path | None, flags: dict, config_file, no_config: bool):
    """The Result for a Dockerfile read from stdin, with the options its --stdin-filename's place would get."""
    from dockrewrite.context import BuildContext
    from dockrewrite.results import FAILED, Result
    from dockrewrite.runner import MAX_BYTES, convert_bytes, without_ignored

    shown = stdin_filename or "-"
    where = Path(stdin_filename) if stdin_filename else Path.cwd() / "Dockerfile"
    cfg = config_for(where, config_file, no_config)
    options, _ = cfg.resolve(where, flags)
    data = sys.stdin.buffer.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return Result(shown, FAILED, reason=f"stdin holds over {MAX_BYTES} bytes: files that large are not read")
    root = context if context is not None else (where.parent if stdin_filename else None)
    result = without_ignored(convert_bytes(data, BuildContext(root), options, shown), options)
    result.source_bytes = data
    return result


def _use_color(choice: Color) -> bool:
    if choice is Color.always:
        return True
    if choice is Color.never or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR") not in (None, "", "0"):
        return True
    return sys.stdout.isatty()


def _builder_pattern(job_list, paths: list[Path], *, write: bool, remove: bool):
    """Builder-pattern pairs (Dockerfile.build + Dockerfile + the script that docker-cp's between them)
    become one merged Dockerfile; the rest of the jobs are converted one by one as usual."""
    from dockrewrite import builder as builder_pattern
    from dockrewrite.results import CHANGED, UNCHANGED, FileEdit, Result
    from dockrewrite.runner import compose_edits, write_result

    if not job_list:
        return job_list, []
    roots = [p for p in paths if p.is_dir()]
    root = roots[0] if len(roots) == 1 else None
    found = builder_pattern.scan([j.path for j in job_list], root)
    # A runtime Dockerfile named on its own (`convert Dockerfile`) still merges the build file beside it.
    named = {p.resolve() for p in paths if p.is_file()}
    beside = _beside([j.path for j in job_list if j.path.resolve() in named])
    for rejected in found.rejected:
        err(f"{rejected.describe()}")
    by_path = {j.path.resolve(): j for j in job_list}
    beside_keys = {p.resolve() for p in beside}
    taken: set[Path] = set()
    results: list[Result] = []
    for pair in found.pairs:
        runtime, build = pair.runtime_file.resolve(), pair.build_file.resolve()
        if runtime not in by_path or build not in by_path.keys() | beside_keys or {runtime, build} & taken:
            continue
        taken |= {runtime, build}
        job = by_path[runtime]
        result = builder_pattern.merge(pair, job.options.templates)
        result.path = str(job.path)
        results.append(result)
        if build in by_path:  # named or found too: reported as merged (the runtime file's notes say so anyway)
            merged_note = f"merged as the builder stage of {job.path}"
            results.append(Result(str(by_path[build].path), UNCHANGED, reason=merged_note))
        if result.status != CHANGED:
            continue
        for path in pair.removable():
            if write and remove:  # deleted with the merged Dockerfile's write, or kept with it
                result.edits.append(FileEdit(path, None, done=note("DR010", f"deleted {path}")))
            else:
                result.warnings.append(
                    note("DR010", f"delete: {path} (no longer needed; --remove-builder-files does it)")
                )
        if job.compose:
            compose_edits(job, result)
        if write and result.status == CHANGED:
            write_result(job, result)
    return [j for j in job_list if j.path.resolve() not in taken], results


def _beside(named: list[Path]) -> list[Path]:
    """Dockerfile-named files in the folders of the files named on the command line (not those files)."""
    from dockrewrite.discover import is_dockerfile_name

    given = {p.resolve() for p in named}
    out: list[Path] = []
    for folder in sorted({p.parent for p in named}):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            path = Path(entry.path)
            if is_dockerfile_name(entry.name) and entry.is_file(follow_symlinks=False) and path.resolve() not in given:
                out.append(path)
    return out


@app.command()
def templates(
    list_: bool = typer.Option(False, "--list", help="List the built-in templates by name."),
    export: Path = typer.Option(
        None,
        "--export",
        help="Copy the built-in templates into this folder, to edit and use with --templates.",
        file_okay=False,
    ),
    force: bool = typer.Option(False, "--force", help="With --export, overwrite files that already exist."),
) -> None:
    """Show or copy the built-in templates; a folder given to --templates (or `templates = ...` in the
    config) overrides them by name."""
    from dockrewrite.render import builtin_templates, templates_dir

    names = builtin_templates()
    if export is None:
        if not list_:
            usage("give --list or --export DIR")
        for name in names:
            typer.echo(name)
        return
    root = templates_dir()
    # lexists: a dangling link is something that exists too, and writing to it would create its target.
    links = [n for n in names if _link_on_the_way(export, n)]
    if links:
        usage(f"{export / links[0]} is or goes through a symlink: not written through (remove the link)")
    existing = [n for n in names if os.path.lexists(export / n)]
    if existing and not force:
        usage(f"{export / existing[0]} exists (and {len(existing) - 1} more); use --force to overwrite")
    for name in names:
        target = export / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_NOFOLLOW: a link planted between the check and the write is refused, not followed.
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            usage(f"{target}: cannot write: {exc.strerror or exc}")
        with os.fdopen(fd, "wb") as out:
            out.write((root / name).read_bytes())
    err(f"{len(names)} templates copied to {export}")


def _link_on_the_way(folder: Path, name: str) -> bool:
    """Whether writing folder/name would pass through a symlink below folder (folder itself is the user's choice)."""
    path = folder
    for part in Path(name).parts:
        path = path / part
        if path.is_symlink():
            return True
    return False


@app.command()
def detect(
    paths: list[Path] = PATHS,
    context: Path = CONTEXT,
    runtime: Runtime = RUNTIME,
    python_strategy: Strategy = STRATEGY,
    fmt: Format = typer.Option(Format.text, "--format", help="text or json."),
    config_file: Path = CONFIG,
    no_config: bool = NO_CONFIG,
) -> None:
    """Show each Dockerfile's language, whether it is multi-stage, the signals behind the verdict, and what
    convert would do with it (runtime, strategy, notes, or why it would skip)."""
    from dockrewrite import source
    from dockrewrite.context import BuildContext
    from dockrewrite.parse import ParseError, parse
    from dockrewrite.providers import detect as run_detect
    from dockrewrite.transform import convert_text

    if config_file is not None and no_config:
        usage("--config and --no-config cannot be used together")
    flags = rewrite_flags(runtime, python_strategy, None, None)
    job_list, _, bad_paths = _jobs(paths, context, flags, False, config_file, no_config)
    records = []
    failed = bad_paths
    for job in job_list:
        path, options = job.path, job.options
        record = {"path": str(path), "language": None, "multistage": None, "signals": [], "error": None, "plan": None}
        try:
            text, _ = source.read(path)
            model = parse(text)
            ctx = BuildContext(context or path.parent)
            found = run_detect(model, ctx)
            record.update(language=found.language, multistage=model.is_multistage, signals=found.signals)
            if found.ambiguous:
                record["candidates"] = [e.language for e in found.candidates]
            result = convert_text(text, ctx, options, str(path))
            record["plan"] = {
                "status": result.status,
                "runtime": result.runtime,
                "reason": result.reason,
                "line": result.line,
                "warnings": result.warnings,
            }
        except ParseError as exc:
            if exc.empty:  # nothing to classify, as `convert` skips it: not an error
                record["language"], record["multistage"] = "unknown", False
                reason = f"{exc.message}"
                record["plan"] = {"status": "skipped", "runtime": None, "reason": reason, "line": None, "warnings": []}
            else:
                record["error"] = f"line {exc.line}: {exc.message}"
                failed += 1
        except source.TooLarge as exc:  # not read, as `convert` does not read it: a skip, not an error
            record["plan"] = {"status": "skipped", "runtime": None, "reason": str(exc), "line": None, "warnings": []}
        except (OSError, source.SourceError) as exc:
            record["error"] = str(exc)
            failed += 1
        except Exception as exc:  # a bug of ours: reported for this file, the others go on, no traceback
            record["error"] = f"internal error ({type(exc).__name__}: {exc}); please report this file"
            failed += 1
        records.append(record)
        if fmt is Format.text:
            _print_detection(path, record)
    if fmt is Format.json:
        import json

        typer.echo(json.dumps({"files": records}, indent=2))
    raise typer.Exit(2 if failed else 0)


def _print_detection(path: Path, record: dict) -> None:
    if record["error"]:
        err(f"{path}: error: {record['error']}")
        return
    if record["language"] is None:
        typer.echo(f"{path}: not read")
    else:
        stages = "multi-stage" if record["multistage"] else "single-stage"
        typer.echo(f"{path}: {record['language']} ({stages})")
    for signal in record["signals"]:
        typer.echo(f"  - {signal}")
    plan = record["plan"]
    if plan["status"] == "changed":
        typer.echo(f"  convert: runtime {plan['runtime']}")
        for note in plan["warnings"]:
            typer.echo(f"    - {note}")
    elif plan["reason"]:
        where = f" (line {plan['line']})" if plan["line"] else ""
        typer.echo(f"  convert: {plan['status']}{where}: {plan['reason']}")


from dockrewrite.cli_verify import register as _register_verify  # noqa: E402  (needs `app` defined above)

_register_verify(app)
