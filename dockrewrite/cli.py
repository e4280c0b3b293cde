"""Command line: flags, reading and writing files, printing, exit codes. No rewriting logic here."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from dockrewrite import __version__
from dockrewrite.cli_common import Format, Runtime, Strategy, err, usage

app = typer.Typer(
    name="dockrewrite",
    help="Rewrite single-stage Dockerfiles into multi-stage builds that keep the image's runtime contract.",
    no_args_is_help=True,
    add_completion=False,
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


def _collect(paths: list[Path]) -> tuple[list[Path], int]:
    from dockrewrite.discover import discover

    files, problems = discover(paths)
    for path, problem in problems:
        err(f"{path}: {problem}")
    return files, len(problems)


PATHS = typer.Argument(
    ...,
    help="Dockerfiles, or directories to search for Dockerfile, Dockerfile.*, *.Dockerfile and Containerfile.",
    show_default=False,
)
CONTEXT = typer.Option(
    None, "--context", help="Build context directory (default: each Dockerfile's folder).", file_okay=False
)


@app.command()
def convert(
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
    runtime: Runtime = typer.Option(
        Runtime.auto,
        "--runtime",
        help="Runtime base: auto picks per language and "
        "case (Go: distroless static, alpine when a shell is needed, Debian slim "
        "or distroless base for CGO).",
    ),
    keep_root: bool = typer.Option(False, "--keep-root", help="Do not switch a root image to a non-root user."),
    python_strategy: Strategy = typer.Option(
        Strategy.auto,
        "--python-strategy",
        help="Where Python packages are installed in the builder and copied "
        "from: prefix (/install onto /usr/local), user (~/.local), venv (/opt/venv); auto picks per case.",
    ),
    fmt: Format = typer.Option(Format.text, "--format", help="text: diffs and messages; json: one report object."),
    no_color: bool = typer.Option(False, "--no-color", help="Never colour the diff."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Files converted in parallel (0: one per core).", min=0),
) -> None:
    """Convert Dockerfiles to multi-stage builds. By default prints a diff and writes nothing."""
    from dockrewrite import diff as diffs
    from dockrewrite import source
    from dockrewrite.plan import Options
    from dockrewrite.results import CHANGED, FAILED, SKIPPED, Report
    from dockrewrite.runner import Job, run

    modes = [m for m, on in (("--write", write), ("--check", check), ("--output", output is not None)) if on]
    if len(modes) > 1:
        usage(f"{' and '.join(modes)} cannot be used together")
    files, bad_paths = _collect(paths)
    if output is not None and (len(files) != 1 or bad_paths):
        usage(f"--output needs exactly one input Dockerfile, got {len(files)}")
    options = Options(runtime=runtime.value, keep_root=keep_root, python_strategy=python_strategy.value)
    job_list = [Job(p, context, options, write=write) for p in files]
    workers = jobs or os.cpu_count() or 1
    color = not no_color and fmt is Format.text and sys.stdout.isatty() and "NO_COLOR" not in os.environ

    report = Report()
    records = []
    for result in run(job_list, workers):
        report.add(result)
        diff_text = diffs.unified(result.path, result.original, result.output) if result.status == CHANGED else None
        if fmt is Format.json:
            records.append(result.as_dict(diff_text))
            continue
        if result.status == FAILED:
            err(f"{result.location}: error: {result.reason}")
        elif result.status == SKIPPED:
            err(f"{result.location}: skipped: {result.reason}")
        elif result.reason and not check and output is None:
            err(f"{result.location}: unchanged: {result.reason}")
        if result.status == CHANGED:
            for warning in result.warnings:
                if not check:
                    err(f"{result.path}: note: {warning}")
            if check:
                typer.echo(result.path)
            elif output is not None:
                if output == "-":
                    sys.stdout.write(result.output)
                else:
                    target = Path(output)
                    fmt_ = result.encoding
                    try:
                        source.write_atomic(target, source.encode(result.output, fmt_))
                    except (OSError, source.SourceError) as exc:
                        err(f"{output}: error: cannot write: {exc}")
                        raise typer.Exit(2) from None
            elif not write:
                typer.echo(diffs.colorize(diff_text) if color else diff_text, nl=False)
    if fmt is Format.json:
        import json

        typer.echo(json.dumps({"files": records, "summary": report.as_dict()}, indent=2))
    else:
        err(report.summary(written=write))
    code = report.exit_code(check)
    raise typer.Exit(2 if bad_paths else code)


@app.command()
def detect(
    paths: list[Path] = PATHS,
    context: Path = CONTEXT,
    runtime: Runtime = typer.Option(Runtime.auto, "--runtime", help="Runtime to plan for (see convert)."),
    python_strategy: Strategy = typer.Option(
        Strategy.auto, "--python-strategy", help="Python install strategy to plan for (see convert)."
    ),
    fmt: Format = typer.Option(Format.text, "--format", help="text or json."),
) -> None:
    """Show each Dockerfile's language, whether it is multi-stage, the signals behind the verdict, and what
    convert would do with it (runtime, strategy, notes, or why it would skip)."""
    from dockrewrite import source
    from dockrewrite.context import BuildContext
    from dockrewrite.parse import ParseError, parse
    from dockrewrite.plan import Options
    from dockrewrite.providers import detect as run_detect
    from dockrewrite.transform import convert_text

    files, bad_paths = _collect(paths)
    records = []
    failed = bad_paths
    options = Options(runtime=runtime.value, python_strategy=python_strategy.value)
    for path in files:
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
                "notes": result.warnings,
            }
        except ParseError as exc:
            record["error"] = f"line {exc.line}: {exc.message}"
            failed += 1
        except (OSError, source.SourceError) as exc:
            record["error"] = str(exc)
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
    stages = "multi-stage" if record["multistage"] else "single-stage"
    typer.echo(f"{path}: {record['language']} ({stages})")
    for signal in record["signals"]:
        typer.echo(f"  - {signal}")
    plan = record["plan"]
    if plan["status"] == "changed":
        typer.echo(f"  convert: runtime {plan['runtime']}")
        for note in plan["notes"]:
            typer.echo(f"    - {note}")
    elif plan["reason"]:
        where = f" (line {plan['line']})" if plan["line"] else ""
        typer.echo(f"  convert: {plan['status']}{where}: {plan['reason']}")


from dockrewrite.cli_verify import register as _register_verify  # noqa: E402  (needs `app` defined above)

_register_verify(app)
