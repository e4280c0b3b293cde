"""Convert many files; every file becomes one Result, whatever goes wrong with it."""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import resource_tracker
from pathlib import Path

from dockrewrite import interrupts, source
from dockrewrite.context import BuildContext
from dockrewrite.notes import ignored, note
from dockrewrite.plan import Options
from dockrewrite.results import CHANGED, FAILED, SKIPPED, UNCHANGED, FileEdit, Result
from dockrewrite.transform import convert_text

MAX_BYTES = 1 << 20  # no real Dockerfile is this large; such a file is not read
# Starting the pool costs 0.4-1.0 s of CPU (fork server, resource tracker, and in each worker the imports,
# the Go parser's runtime and the templates before its first file); a file costs 2-5 ms, and discovery and
# the builder-pattern scan stay in the main process. Measured on 2 CPUs: 2 workers cost 0.9-1.0 s more CPU
# than one process for 400 files, which their halving of the conversions does not win back; for 1000 files
# they save about a fifth. Below this many files per worker, the default converts in this process.
FILES_PER_WORKER = 500


@dataclass(frozen=True)
class Job:
    path: Path
    context: Path | None
    options: Options
    write: bool = False
    root: Path | None = None  # the folder the file was found under: --write never leaves it
    compose: bool = False  # also point compose services that build it at the develop target


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
        try:
            result.dockerignore = _dockerignore(job, context, text, result)
        except Exception as exc:  # a bug of ours in the optional extra must not lose the rewrite or show a traceback
            result.warnings.append(
                note("DR701", f"no .dockerignore proposed (internal error {type(exc).__name__}: {exc})")
            )
    if result.dockerignore and job.write and result.status == CHANGED:
        path, content = result.dockerignore
        result.edits.append(
            FileEdit(path, content.encode("utf-8"), "", content, done=note("DR701", f"wrote {path}"), create_only=True)
        )
    if job.compose and result.status == CHANGED:
        compose_edits(job, result)
    if job.write and result.status == CHANGED:
        write_result(job, result)
    return without_ignored(result, job.options)


def without_ignored(result: Result, options: Options) -> Result:
    """The result without the notes whose codes the configuration or --ignore leave out."""
    if options.ignore:
        result.warnings = [w for w in result.warnings if not ignored(w, options.ignore)]
        if any("DR004".startswith(s) for s in options.ignore):
            result.secrets = []
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


def compose_edits(job: Job, result: Result) -> None:
    """The compose-file edits that point development services at the develop target, worked out and encoded
    before anything is written; a file that needs the change and cannot take it fails the Dockerfile too."""
    from dockrewrite import compose

    try:
        edits, notes = compose.prepare(job.path, job.root or job.path.parent)
    except compose.ComposeError as exc:
        result.status, result.output = FAILED, None
        result.reason = f"{exc}; neither it nor the Dockerfile was written" if job.write else str(exc)
        return
    result.warnings += [note("DR801", text) for text in notes]
    result.edits += [FileEdit(e.path, e.data, e.old, e.new) for e in edits]


def write_result(job: Job, result: Result) -> None:
    """Replace the file atomically, together with the files its result carries (a .dockerignore, compose
    files, removals): all of them or none. Through a symlink only when its target stays inside the root."""
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
    edits = [e for e in result.edits if not (e.create_only and e.path.exists())]
    try:
        changes = [(target, source.encode(result.output, result.encoding))] + [(e.path, e.data) for e in edits]
        written = source.write_together(changes)
    except (OSError, source.SourceError) as exc:
        result.status = FAILED
        result.reason = f"cannot write: {exc}" + ("; nothing was written" if edits else "")
        return
    result.warnings += [note("DR011", text) for text in written] + [e.done for e in edits if e.done]


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity mask, and a cgroup CPU quota (a CI container limited to
    two CPUs on a 64-core host sees 64 in os.cpu_count())."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


def worker_count(requested: int, files: int) -> int:
    """Processes for `files` files: `requested` (0: one per usable CPU), never more than the usable CPUs
    (more only add memory: each worker holds its own interpreter and Go runtime) nor than the files;
    by default only as many as have FILES_PER_WORKER files each. 1 means in this process."""
    cpus = usable_cpus()
    if requested > 0:
        return max(1, min(requested, cpus, files))
    return max(1, min(cpus, files // FILES_PER_WORKER))


class Results(Iterator[Result]):
    """The results of a run, in input order. close() (also on leaving a `with` block, at the end, or when
    an exception such as interrupts.Interrupted stops the reading) tells the workers to start no other
    file, waits for the files they are on, and stops them: no write is cut short, no process is left."""

    def __init__(self, results: Iterator[Result], pool: ProcessPoolExecutor | None = None, stop=None):
        self._results, self._pool, self._stop = results, pool, stop

    def __next__(self) -> Result:
        try:
            return next(self._results)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with interrupts.deferred():
                self._stop.set()
                pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Results:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run(jobs: list[Job], workers: int = 0) -> Results:
    """Convert (and with job.write, write) the files; results in input order.

    workers: at most this many processes (0: one per usable CPU when there are enough files to pay for
    starting them; see worker_count). The work is handed to the processes at once (the caller may do
    other things before it reads the results). Several names of one file (links) are converted once.
    """
    jobs, same = _one_job_per_file(jobs)
    count = worker_count(workers, len(jobs))
    if count <= 1:
        return Results(_in_order((run_one(job) for job in jobs), same))
    # Not fork: BuildKit's parser is Go code, and a Go runtime the parent has started does not survive a
    # fork (the child hangs in its first parse). A fork server starts from a clean interpreter.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["dockrewrite.runner"])
    pool = None
    try:
        with interrupts.held():  # the fork server, the resource tracker and the workers start deaf to signals
            resource_tracker.ensure_running()
            interrupts.block()  # the tracker's start unblocked SIGINT and SIGTERM: not for the fork server
            stop = context.Event()
            pool = ProcessPoolExecutor(
                max_workers=count, mp_context=context, initializer=_start_worker, initargs=(stop,)
            )
            chunk = max(1, min(16, len(jobs) // (count * 8)))
            results = pool.map(_run_unless_stopped, jobs, chunksize=chunk)
    except BaseException:
        if pool is not None:
            with interrupts.deferred():
                stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
        raise
    return Results(_in_order(results, same), pool, stop)


def _one_job_per_file(jobs: list[Job]) -> tuple[list[Job], dict[int, Result]]:
    """Two names of one file in a run (hard links, or symlinks to one target) would be written by two
    workers at once, each converting against its own folder's context: the first name is converted, the
    others get a result saying so (keyed by their index in jobs)."""
    first: dict[tuple[int, int], Path] = {}
    kept, same = [], {}
    for index, job in enumerate(jobs):
        if job.write:
            try:
                info = job.path.stat()
            except OSError:
                info = None
            if info is not None:
                key = (info.st_dev, info.st_ino)
                if key in first:
                    reason = f"the same file as {first[key]}: converted there"
                    same[index] = Result(str(job.path), UNCHANGED, reason=reason)
                    continue
                first[key] = job.path
        kept.append(job)
    return kept, same


def _in_order(results: Iterator[Result], same: dict[int, Result]) -> Iterator[Result]:
    index = 0
    for result in results:
        while index in same:
            yield same.pop(index)
            index += 1
        yield result
        index += 1
    yield from (same[i] for i in sorted(same))


_stop_event = None  # in a worker: set by the main process when the run is stopped


def _start_worker(stop) -> None:
    global _stop_event
    interrupts.ignore_in_worker()
    _stop_event = stop
    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    if sentinel is not None:
        threading.Thread(target=_exit_with_parent, args=(sentinel,), name="dockrewrite-parent", daemon=True).start()


def _exit_with_parent(sentinel: int) -> None:
    """A worker whose main process died (SIGKILL, a crash) would wait for work forever, holding the output
    pipes of whoever ran the tool: it ends, though never in the middle of a write."""
    from multiprocessing.connection import wait

    wait([sentinel])
    with interrupts.write_lock():
        os._exit(1)


def _run_unless_stopped(job: Job) -> Result:
    if _stop_event is not None and _stop_event.is_set():
        return Result(str(job.path), SKIPPED, reason="not converted: the run was stopped")
    return run_one(job)
