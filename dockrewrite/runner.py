"""Convert many files; every file becomes one Result, whatever goes wrong with it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dockrewrite import source
from dockrewrite.context import BuildContext
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED, FAILED, SKIPPED, Result
from dockrewrite.transform import convert_text

MAX_BYTES = 1 << 20  # no real Dockerfile is this large; such a file is not read


@dataclass(frozen=True)
class Job:
    path: Path
    context: Path | None
    options: Options
    write: bool = False
    root: Path | None = None  # the folder the file was found under: --write never leaves it


def run_one(job: Job) -> Result:
    shown = str(job.path)
    try:
        size = job.path.stat().st_size
        if size > MAX_BYTES:
            return Result(path=shown, status=SKIPPED, reason=f"{size} bytes: files over {MAX_BYTES} bytes are not read")
        data = job.path.read_bytes()
    except OSError as exc:
        return Result(path=shown, status=FAILED, reason=f"cannot read: {exc.strerror or exc}")
    context = BuildContext(job.context if job.context is not None else job.path.parent)
    result = convert_bytes(data, context, job.options, shown)
    if result.encoding is None:
        return result
    text = result.original
    if job.options.dockerignore and result.status == CHANGED:
        result.dockerignore = _dockerignore(job, context, text, result)
    if job.write and result.status == CHANGED:
        write_result(job, result)
    return result


def convert_bytes(data: bytes, context: BuildContext, options: Options, shown: str) -> Result:
    """One file's bytes (read from disk or stdin) -> its Result; never raises."""
    try:
        text, fmt = source.decode(data)
    except source.SourceError as exc:
        return Result(path=shown, status=FAILED, reason=str(exc), line=1)
    try:
        result = convert_text(text, context, options, shown)
    except Exception as exc:  # a bug of ours must not stop the other files or show a traceback
        if os.environ.get("DOCKREWRITE_DEBUG"):
            traceback.print_exc()
        return Result(
            path=shown,
            status=FAILED,
            original=text,
            reason=f"internal error ({type(exc).__name__}: {exc}); please report this file",
        )
    result.encoding = fmt
    return result


def _dockerignore(job: Job, context: BuildContext, text: str, result: Result) -> tuple[Path, str] | None:
    from dockrewrite.features.dockerignore import dockerignore_for
    from dockrewrite.parse import parse

    content = dockerignore_for(parse(text), context, result.language or "", result.output, keep=result.loads)
    return (context.root / ".dockerignore", content) if content and context.root else None


def write_result(job: Job, result: Result) -> None:
    """Replace the file atomically; through a symlink only when its target stays inside the root."""
    target = job.path
    if job.path.is_symlink():
        target = job.path.resolve()
        root = (job.root or job.path.parent).resolve()
        if not target.is_relative_to(root):
            result.status = SKIPPED
            result.reason = f"a symlink to {target}, outside {root}: not written"
            return
    mode = target.stat().st_mode
    if not mode & 0o222:
        result.status, result.reason = FAILED, f"read-only file (mode {oct(mode & 0o777)}): not written"
        return
    try:
        source.write_atomic(target, source.encode(result.output, result.encoding))
    except (OSError, source.SourceError) as exc:
        result.status, result.reason = FAILED, f"cannot write: {exc}"


def run(jobs: list[Job], workers: int = 1) -> Iterator[Result]:
    """Yield results in input order; several processes when workers > 1 and there is enough work.

    The work is handed to the processes at once (the caller may do other things before it reads the
    results). On Ctrl-C the files not started are left alone and the ones in progress are finished:
    workers ignore SIGINT and the pool is shut down with its pending work cancelled, so no file is left
    half-written.
    """
    if workers <= 1 or len(jobs) < 8:
        return (run_one(job) for job in jobs)
    # Not fork: BuildKit's parser is Go code, and a Go runtime the parent has started does not survive a
    # fork (the child hangs in its first parse). A fork server starts from a clean interpreter.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["dockrewrite.runner"])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_ignore_interrupts)
    results = pool.map(run_one, jobs, chunksize=max(1, min(16, len(jobs) // (workers * 8))))

    def drain() -> Iterator[Result]:
        try:
            yield from results
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    return drain()


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
