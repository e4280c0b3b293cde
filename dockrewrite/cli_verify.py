"""`dockrewrite verify`: build each Dockerfile and its rewrite on a real engine and compare them.

Only flags, printing and exit codes live here; the work is in dockrewrite.verify.
Exit codes: 0 every file built, kept its contract (or differs only as intended) and passed its smoke
run; 1 a rewrite failed verification (or there was no rewrite to verify); 2 usage error, no engine,
an original that does not build or pass its own smoke check, or a base image that cannot be pulled.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from pathlib import Path

import typer

from dockrewrite.cli_common import (
    BIND_MOUNTS,
    CACHE_MOUNTS,
    CONFIG,
    KEEP_ROOT,
    NO_CONFIG,
    PIN,
    RUNTIME,
    STRATEGY,
    SYNTAX_LINE,
    TARGETS,
    TEMPLATES,
    config_for,
    rewrite_flags,
)
from dockrewrite.cli_common import Format as _Format
from dockrewrite.cli_common import Runtime as _Runtime
from dockrewrite.cli_common import Strategy as _Strategy
from dockrewrite.cli_common import err as _err
from dockrewrite.cli_common import usage as _usage


def _pairs(items: list[str], flag: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _usage(f"{flag} wants KEY=VALUE, got {item!r}")
        out.append((key, value))
    return out


class _Progress:
    """One line on stderr while builds run: rewritten in place on a terminal, phase lines otherwise."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.enabled = total, 0, enabled
        self.tty = sys.stderr.isatty()
        self.lock = threading.Lock()
        self.last: dict[str, str] = {}

    def __call__(self, path: str, message: str) -> None:
        if not self.enabled:
            return
        step = message.startswith(("original: ", "rewrite: "))
        with self.lock:
            if self.tty:
                line = f"[{self.done}/{self.total}] {path}: {message}"
                sys.stderr.write("\r\033[K" + line[:150])
                sys.stderr.flush()
            elif not step and self.last.get(path) != message:
                self.last[path] = message
                sys.stderr.write(f"[{self.done}/{self.total}] {path}: {message}\n")
                sys.stderr.flush()

    def finished(self) -> None:
        with self.lock:
            self.done += 1
            if self.enabled and self.tty:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()


def register(app: typer.Typer) -> None:
    """Add the `verify` command to the dockrewrite Typer app."""

    @app.command()
    def verify(
        paths: list[Path] = typer.Argument(
            ..., help="Dockerfiles, or directories to search for them.", show_default=False
        ),
        context: Path = typer.Option(
            None, "--context", help="Build context directory (default: each Dockerfile's folder).", file_okay=False
        ),
        runtime: _Runtime = RUNTIME,
        keep_root: bool = KEEP_ROOT,
        python_strategy: _Strategy = STRATEGY,
        templates: Path = TEMPLATES,
        targets: str = TARGETS,
        cache_mounts: bool = CACHE_MOUNTS,
        bind_mounts: bool = BIND_MOUNTS,
        pin: bool = PIN,
        syntax_line: bool = SYNTAX_LINE,
        config_file: Path = CONFIG,
        no_config: bool = NO_CONFIG,
        builder: str = typer.Option(
            None, "--builder", help="docker buildx builder to build with (remote or clustered BuildKit)."
        ),
        network: str = typer.Option(
            None,
            "--network",
            envvar="DOCKREWRITE_BUILD_NETWORK",
            help="Network mode for RUN steps during builds (e.g. host).",
        ),
        jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Files verified at once."),
        smoke_cmd: str = typer.Option(
            None, "--smoke-cmd", help="Command for the smoke run instead of the image's CMD (ENTRYPOINT stays)."
        ),
        smoke_env: list[str] = typer.Option(
            [], "--smoke-env", help="KEY=VALUE for the smoke run (repeatable).", show_default=False
        ),
        smoke_http: str = typer.Option(
            None,
            "--smoke-http",
            help="PORT/PATH: also start the default command and poll this URL on 127.0.0.1 until it answers.",
        ),
        http_env: list[str] = typer.Option(
            [], "--http-env", help="KEY=VALUE for the HTTP check's container (repeatable).", show_default=False
        ),
        smoke_user: str = typer.Option(
            None,
            "--smoke-user",
            help="UID[:GID] or name: run both smoke checks as this user (docker run --user), as platforms that run "
            "containers unprivileged do.",
        ),
        timeout: float = typer.Option(20.0, "--timeout", min=1, help="Seconds each smoke run or HTTP wait may take."),
        build_timeout: float = typer.Option(1200.0, "--build-timeout", min=10, help="Seconds each build may take."),
        keep_images: bool = typer.Option(False, "--keep-images", help="Keep the built images (tags are printed)."),
        fmt: _Format = typer.Option(_Format.text, "--format", help="text: a table per file; json: one object."),
        report: Path = typer.Option(
            None, "--report", help="Also write a Markdown size table to this file.", dir_okay=False
        ),
        choose: bool = typer.Option(
            False,
            "--choose",
            help="Verify the rewrite on each runtime it can use (scratch, distroless, alpine, slim) and report the "
            "smallest whose image keeps the contract and passes the smoke checks.",
        ),
        write: bool = typer.Option(
            False, "--write", help="With --choose, write the chosen rewrite over each Dockerfile (as convert --write)."
        ),
    ) -> None:
        """Build each Dockerfile and its rewrite with Docker (BuildKit), compare contract and size, smoke-test both.

        Exit codes: 0 all verified, 1 a rewrite failed verification, 2 usage or engine error (or an original
        that does not build).
        """
        from dockrewrite import verify as v
        from dockrewrite.discover import discover
        from dockrewrite.verify import report as report_text

        env = _pairs(smoke_env, "--smoke-env")
        env_http = _pairs(http_env, "--http-env")
        if smoke_http:
            try:
                v.parse_http(smoke_http)
            except ValueError as exc:
                _usage(str(exc))
        if config_file is not None and no_config:
            _usage("--config and --no-config cannot be used together")
        if write and not choose:
            _usage("--write goes with --choose: plain verify only checks what convert would write")
        if choose and report is not None:
            _usage("--report and --choose cannot be used together")
        if report is not None and not report.parent.is_dir():
            _usage(f"--report {report}: the folder {report.parent} does not exist")  # known before any build
        flags = rewrite_flags(
            runtime,
            python_strategy,
            keep_root,
            templates,
            targets,
            cache_mounts=cache_mounts,
            bind_mounts=bind_mounts,
            pin=pin,
            syntax_line=syntax_line,
        )
        files, problems, passed_over = discover(paths)
        for path, problem in problems:
            _err(f"{path}: {problem}")
        for path, reason in passed_over:
            _err(f"{path}: skipped: {reason}")
        if problems or not files:
            _usage("no Dockerfile to verify" if not problems else "some paths cannot be read")
        try:
            v.find_docker(builder, network)
        except v.EngineError as exc:
            _err(f"dockrewrite: error: {exc}")
            raise typer.Exit(2) from None

        # What convert would write for each file: the same configuration, overrides and flags.
        per_file = {}
        for path in list(files):
            options, skip = config_for(path, config_file, no_config).resolve(path, flags)
            if skip:
                _err(f"{path}: skipped: skipped by an override in the configuration")
                files.remove(path)
            else:
                per_file[path] = options
        if not files:
            _usage("no Dockerfile to verify")
        progress = _Progress(len(files), enabled=True)

        def verify_one(path: Path, ctx_dir: Path | None, options):
            return v.verify_file(
                path,
                ctx_dir,
                options,
                builder=builder,
                network=network,
                smoke_cmd=smoke_cmd,
                smoke_env=env,
                smoke_http=smoke_http,
                http_env=env_http,
                smoke_user=smoke_user,
                timeout=timeout,
                build_timeout=build_timeout,
                keep_images=keep_images,
                progress=progress,
            )

        if choose:
            _choose(files, context, per_file, verify_one, progress, fmt, write, jobs)

        def one(path: Path):
            try:
                return verify_one(path, context, per_file[path])
            finally:
                progress.finished()

        results = []
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for result in pool.map(one, files):
                results.append(result)
                if fmt is _Format.text:
                    typer.echo(report_text.table(result))
                    for which, tag in result.images.items():
                        typer.echo(f"  kept {which}: {tag}")
                    typer.echo("")
        code = v.exit_code(results)
        counts = {s: sum(r.status == s for r in results) for s in (v.PASSED, v.FAILED, v.ERROR, v.SKIPPED)}
        if fmt is _Format.json:
            import json

            typer.echo(json.dumps({"files": [r.as_dict() for r in results], "summary": counts}, indent=2))
        else:
            _err(", ".join(f"{n} {s}" for s, n in counts.items()))
        if report is not None:
            try:
                report.write_text(report_text.markdown(results), encoding="utf-8")
            except OSError as exc:
                _err(f"{report}: error: cannot write: {exc.strerror or exc}")
                raise typer.Exit(2) from None
        raise typer.Exit(code)


def _choose(files, context, per_file, verify_one, progress, fmt, write: bool, jobs: int) -> None:
    """verify --choose: each file's candidates, the choice, and with --write the chosen rewrite written."""
    from concurrent.futures import ThreadPoolExecutor

    from dockrewrite.results import CHANGED
    from dockrewrite.runner import Job, run_one
    from dockrewrite.verify import choose as chooser

    def one(path: Path):
        try:
            return chooser.choose(path, context, per_file[path], verify_one)
        finally:
            progress.finished()

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        choices = list(pool.map(one, files))
    failed = 0
    for choice, path in zip(choices, files, strict=True):
        if choice.chosen is None:
            failed += 1
        elif write:
            options = dataclasses.replace(per_file[path], runtime=choice.chosen.runtime)
            written = run_one(Job(path, context, options, write=True, root=path.parent))
            if written.status != CHANGED:
                failed += 1
                _err(f"{path}: error: not written: {written.reason or written.status}")
            else:
                _err(f"{path}: wrote the {choice.chosen.runtime} rewrite")
        if fmt is _Format.text:
            typer.echo(chooser.table(choice))
    if fmt is _Format.json:
        import json

        typer.echo(json.dumps({"files": [chooser.as_dict(c) for c in choices]}, indent=2))
    raise typer.Exit(1 if failed else 0)
