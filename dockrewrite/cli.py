"""Command line: flags, reading and writing files, printing, exit codes. No rewriting logic here."""

from __future__ import annotations

import dataclasses
import itertools
import os
import sys
from pathlib import Path

import typer

from dockrewrite import __version__
from dockrewrite.cli_common import ConvertFormat, Format, Runtime, Strategy, err, usage

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


RUNTIME = typer.Option(
    None,
    "--runtime",
    help="Runtime base (default: the config's, else auto). auto picks per language and case: Go distroless "
    "static (alpine when a shell is needed, Debian slim or distroless base for CGO), Python and Node the slim "
    "image of the same version, static sites nginx.",
    show_default=False,
)
STRATEGY = typer.Option(
    None,
    "--python-strategy",
    help="Where Python packages are installed in the builder and copied from: prefix (/install onto "
    "/usr/local), user (~/.local), venv (/opt/venv); auto (default) picks per case.",
    show_default=False,
)
KEEP_ROOT = typer.Option(
    None, "--keep-root/--no-keep-root", help="Keep running as root when the original has no USER.", show_default=False
)
TEMPLATES = typer.Option(
    None, "--templates", help="Folder of templates that override the built-in ones by name.", file_okay=False
)


def _jobs(paths: list[Path], context: Path | None, flags: dict, write: bool):
    """Jobs for the files found, with each file's options (defaults < config < overrides < flags), the
    files a config skips as results, and how many paths could not be used."""
    from dockrewrite import config
    from dockrewrite.results import SKIPPED, Result
    from dockrewrite.runner import Job

    files, bad_paths = _collect(paths)
    named = {p for p in paths if p.is_file()}  # discovery hands these back as given
    roots = [p for p in paths if p.is_dir()]
    jobs, skipped = [], []
    for path in files:
        try:
            cfg = config.for_file(path)
        except config.ConfigError as exc:
            usage(str(exc))
        if path not in named and not cfg.selected(path):
            continue
        options, skip = cfg.resolve(path, flags)
        if skip:
            skipped.append(Result(str(path), SKIPPED, reason=f"skipped by an override in {cfg.path}"))
            continue
        root = next((r for r in roots if path.is_relative_to(r)), path.parent)
        jobs.append(Job(path, context, options, write=write, root=root))
    return jobs, skipped, bad_paths


def _flags(runtime, python_strategy, keep_root, templates, targets: str | None = None, **switches) -> dict:
    chosen = tuple(t.strip() for t in (targets or "").split(",") if t.strip())
    from dockrewrite.targets import KNOWN

    bad = [t for t in chosen if t not in KNOWN]
    if bad:
        usage(f"--targets: unknown target {bad[0]!r} (known: {', '.join(KNOWN)})")
    return {
        "runtime": runtime.value if runtime else None,
        "python-strategy": python_strategy.value if python_strategy else None,
        "keep-root": keep_root,
        "templates": str(templates) if templates else None,
        "targets": chosen or None,
        **{name.replace("_", "-"): (True if on else None) for name, on in switches.items()},
    }


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
    targets: str = typer.Option(
        None,
        "--targets",
        help="Extra named stages, comma-separated: develop (toolchain, dev dependencies, dev command) and test "
        "(runs go test / npm test / pytest at build time). The production runtime stays the default target.",
        show_default=False,
    ),
    cache_mounts: bool = typer.Option(
        False,
        "--cache-mounts",
        help="RUN --mount=type=cache for the Go module and build caches, pip/poetry/uv caches, npm/yarn/pnpm "
        "stores and apt in the build stages (BuildKit; Docker 20.10 and later).",
    ),
    bind_mounts: bool = typer.Option(
        False,
        "--bind-mounts",
        help="Bind-mount lockfiles into the install step instead of copying them, where nothing later needs the copy.",
    ),
    pin: bool = typer.Option(
        False,
        "--pin",
        help="Pin floating tags (latest, untagged, alpine:3.20) of the images the rewrite "
        "writes to exact versions; hadolint DL3006/DL3007.",
    ),
    syntax_line: bool = typer.Option(
        False,
        "--syntax-line",
        help="Write `# syntax=docker/dockerfile:1` (otherwise only when a feature "
        "needs it: the line makes the engine pull the frontend image, which fails offline).",
    ),
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
        help="text: diffs and messages; json: one report object; github: workflow annotations for CI.",
    ),
    no_color: bool = typer.Option(False, "--no-color", help="Never colour the diff (NO_COLOR is honoured too)."),
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
    switches = dict(
        cache_mounts=cache_mounts, bind_mounts=bind_mounts, pin=pin, syntax_line=syntax_line, dockerignore=dockerignore
    )
    job_list, config_skipped, bad_paths = _jobs(
        paths, context, _flags(runtime, python_strategy, keep_root, templates, targets, **switches), write
    )
    if remove_builder_files and not write:
        usage("--remove-builder-files deletes files: use it with --write")
    if output is not None and (len(job_list) != 1 or bad_paths or config_skipped):
        usage(f"--output needs exactly one input Dockerfile, got {len(job_list) + len(config_skipped)}")
    if compose and not (targets and "develop" in targets):
        usage("--compose points services at the develop target: add --targets develop")
    if check or fmt is ConvertFormat.github:
        # Neither shows notes: skip the work that only produces them.
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
    roots = {str(job.path): job.root for job in job_list}
    color = not no_color and fmt is ConvertFormat.text and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    progress = _Progress(len(job_list), enabled=fmt is ConvertFormat.text and output is None and sys.stderr.isatty())

    report = Report()
    records = []
    for result in itertools.chain(config_skipped, merged, pending):
        progress.step()
        report.add(result)
        shows_diff = fmt is ConvertFormat.json or (fmt is ConvertFormat.text and not (check or write or output))
        changed = result.status == CHANGED
        diff_text = diffs.unified(result.path, result.original, result.output) if changed and shows_diff else None
        if fmt is ConvertFormat.json:
            records.append(result.as_dict(diff_text))
        elif fmt is ConvertFormat.github:
            _annotate(result)
        else:
            _show(result, diff_text, check=check, write=write, output=output, color=color)
        if result.status == CHANGED and result.dockerignore and output is None and not check:
            _write_dockerignore(result, write=write, color=color)
        if compose and result.status == CHANGED:
            _retarget_compose(Path(result.path), roots.get(result.path), write=write, color=color)
    progress.done()
    if fmt is ConvertFormat.json:
        import json

        typer.echo(json.dumps({"files": records, "summary": report.as_dict()}, indent=2))
    else:
        err(report.summary(written=write))
    code = report.exit_code(check)
    raise typer.Exit(2 if bad_paths else code)


def _builder_pattern(job_list, paths: list[Path], *, write: bool, remove: bool):
    """Builder-pattern pairs (Dockerfile.build + Dockerfile + the script that docker-cp's between them)
    become one merged Dockerfile; the rest of the jobs are converted one by one as usual."""
    from dockrewrite import builder_pattern
    from dockrewrite.results import CHANGED, UNCHANGED, Result
    from dockrewrite.runner import write_result

    if not job_list:
        return job_list, []
    roots = [p for p in paths if p.is_dir()]
    root = roots[0] if len(roots) == 1 else None
    found = builder_pattern.scan([j.path for j in job_list], root)
    for rejected in found.rejected:
        err(f"{rejected.describe()}")
    by_path = {j.path.resolve(): j for j in job_list}
    taken: set[Path] = set()
    results: list[Result] = []
    for pair in found.pairs:
        runtime, build = pair.runtime_file.resolve(), pair.build_file.resolve()
        if runtime not in by_path or build not in by_path or {runtime, build} & taken:
            continue
        taken |= {runtime, build}
        job = by_path[runtime]
        result = builder_pattern.merge(pair)
        result.path = str(job.path)
        results.append(result)
        results.append(Result(str(by_path[build].path), UNCHANGED, reason=f"merged as the builder stage of {job.path}"))
        if result.status != CHANGED:
            continue
        if write:
            write_result(job, result)
        if result.status == CHANGED:
            for path in pair.removable():
                if write and remove:
                    path.unlink(missing_ok=True)
                    result.warnings.append(f"deleted {path}")
                else:
                    result.warnings.append(f"delete: {path} (no longer needed; --remove-builder-files does it)")
    return [j for j in job_list if j.path.resolve() not in taken], results


class _Progress:
    """`[120/10000]` on a terminal's stderr while a long run goes on."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.count = total, 0
        self.enabled = enabled and total >= 50

    def step(self) -> None:
        self.count += 1
        if self.enabled and (self.count % 25 == 0 or self.count == self.total):
            sys.stderr.write(f"\r[{self.count}/{self.total}]")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 24 + "\r")


def _show(result, diff_text: str | None, *, check: bool, write: bool, output: str | None, color: bool) -> None:
    from dockrewrite import diff as diffs
    from dockrewrite import source
    from dockrewrite.results import CHANGED, FAILED, SKIPPED

    if result.status == FAILED:
        err(f"{result.location}: error: {result.reason}")
    elif result.status == SKIPPED:
        err(f"{result.location}: skipped: {result.reason}")
    elif result.reason and not check and output is None:
        err(f"{result.location}: unchanged: {result.reason}")
    if result.status != CHANGED:
        return
    if check:
        typer.echo(result.path)
        return
    for warning in result.warnings:
        err(f"{result.path}: note: {warning}")
    if output == "-":
        sys.stdout.write(result.output)
    elif output is not None:
        try:
            source.write_atomic(Path(output), source.encode(result.output, result.encoding))
        except (OSError, source.SourceError) as exc:
            err(f"{output}: error: cannot write: {exc}")
            raise typer.Exit(2) from None
    elif not write:
        typer.echo(diffs.colorize(diff_text) if color else diff_text, nl=False)


def _write_dockerignore(result, *, write: bool, color: bool) -> None:
    from dockrewrite import diff as diffs
    from dockrewrite import source

    path, text = result.dockerignore
    if write:
        if not path.exists():  # never replace one that appeared since the conversion
            source.write_atomic(path, text.encode("utf-8"))
            err(f"{result.path}: note: wrote {path}")
    else:
        shown = diffs.unified(os.path.relpath(path), "", text)
        typer.echo(diffs.colorize(shown) if color else shown, nl=False)


def _retarget_compose(dockerfile: Path, root: Path | None, *, write: bool, color: bool) -> None:
    from dockrewrite import compose, source
    from dockrewrite import diff as diffs

    for path in compose.compose_files(dockerfile, root or dockerfile.parent):
        new, notes = compose.retarget(path, dockerfile)
        for note in notes:
            err(f"{dockerfile}: note: {note}")
        if new is None:
            continue
        if write:
            old_text, fmt = source.read(path)
            source.write_atomic(path, source.encode(new, fmt))
        else:
            old_text, _ = source.read(path)
            shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
            text = diffs.unified(shown, old_text, new)
            typer.echo(diffs.colorize(text) if color else text, nl=False)


def _annotate(result) -> None:
    """GitHub Actions workflow commands: one annotation per file that needs attention."""
    from dockrewrite.results import CHANGED, FAILED, SKIPPED

    def clean(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    where = f"file={result.path},line={result.line or 1}"
    if result.status == FAILED:
        typer.echo(f"::error {where},title=dockrewrite::{clean(result.reason or 'failed')}")
    elif result.status == SKIPPED:
        typer.echo(f"::notice {where},title=dockrewrite skipped::{clean(result.reason or '')}")
    elif result.status == CHANGED:
        message = (
            f"single-stage Dockerfile: `dockrewrite convert --write` makes it multi-stage ({result.runtime} runtime)"
        )
        typer.echo(f"::warning file={result.path},line=1,title=dockrewrite::{clean(message)}")


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
    import shutil

    from dockrewrite.render import builtin_templates, templates_dir

    names = builtin_templates()
    if export is None:
        if not list_:
            usage("give --list or --export DIR")
        for name in names:
            typer.echo(name)
        return
    root = templates_dir()
    existing = [n for n in names if (export / n).exists()]
    if existing and not force:
        usage(f"{export / existing[0]} exists (and {len(existing) - 1} more); use --force to overwrite")
    for name in names:
        target = export / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / name, target)
    err(f"{len(names)} templates copied to {export}")


@app.command()
def detect(
    paths: list[Path] = PATHS,
    context: Path = CONTEXT,
    runtime: Runtime = RUNTIME,
    python_strategy: Strategy = STRATEGY,
    fmt: Format = typer.Option(Format.text, "--format", help="text or json."),
) -> None:
    """Show each Dockerfile's language, whether it is multi-stage, the signals behind the verdict, and what
    convert would do with it (runtime, strategy, notes, or why it would skip)."""
    from dockrewrite import source
    from dockrewrite.context import BuildContext
    from dockrewrite.parse import ParseError, parse
    from dockrewrite.providers import detect as run_detect
    from dockrewrite.transform import convert_text

    job_list, _, bad_paths = _jobs(paths, context, _flags(runtime, python_strategy, None, None), write=False)
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
                "notes": result.warnings,
            }
        except ParseError as exc:
            if exc.empty:  # nothing to classify, as `convert` skips it: not an error
                record["language"], record["multistage"] = "unknown", False
                reason = f"{exc.message}"
                record["plan"] = {"status": "skipped", "runtime": None, "reason": reason, "line": None, "notes": []}
            else:
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
