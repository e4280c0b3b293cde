"""Ctrl-C, SIGTERM and SIGHUP stop a run between writes, never in the middle of one.

The main process handles the three signals alike: a write in progress (`deferred()`) is finished first,
then `Interrupted` (a SystemExit with the shell's code, 128 + the signal number) unwinds the run, which
stops its worker processes and waits for the files they are on. A Python handler is needed for this:
BuildKit's parser runs Go threads that do not block signals, so a signal left to its default action
may land on one of them and kill the process between two system calls of a write, whatever the main
thread's signal mask says. With a handler, any thread may take the signal: Python runs the handler in
the main thread, where it is deferred during a write.

Worker processes ignore the three signals from birth (`held()` while the pool starts, then
`ignore_in_worker()`): a group signal from a terminal or `timeout` reaches them too, and only the main
process decides when they stop.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

_lock = threading.RLock()  # held during a write; a worker's watchdog takes it before ending the process
_depth = 0  # nesting of deferred() in the main thread
_pending: int | None = None  # the first signal received, once one is
_raised = False


class Interrupted(SystemExit):
    """The run was stopped by a signal; exits with 128 + its number (130 for SIGINT, 143 SIGTERM, 129 SIGHUP)."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum


@contextlib.contextmanager
def handled():
    """Handle the three signals in this (main) process until the block ends, then restore the previous
    handlers. Enter it before BuildKit's parser is first loaded: the Go runtime then marks the handlers to
    run on a signal stack on its own threads. A signal ignored when the program started (nohup, a
    background job of a non-interactive shell) stays ignored."""
    global _pending, _raised
    if not _is_main():
        yield
        return
    _pending, _raised = None, False
    previous = {}
    for sig in SIGNALS:
        current = signal.getsignal(sig)
        if current is not signal.SIG_IGN:
            previous[sig] = current
            signal.signal(sig, _handler)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def _handler(signum: int, frame) -> None:
    global _pending, _raised
    if _pending is None:
        _pending = signum
        name = signal.Signals(signum).name
        sys.stderr.write(f"\ndockrewrite: {name}: stopping; files being written are finished, the others left as is\n")
        sys.stderr.flush()
    if _depth == 0 and not _raised:
        _raised = True
        raise Interrupted(_pending)
    # Inside a write, or already unwinding: the write ends first, and a second signal does not cut the
    # clean-up short (the workers only finish the file they are on).


@contextlib.contextmanager
def deferred():
    """A section no signal interrupts (a file being replaced, the pool starting or stopping): a signal
    received meanwhile is acted on when it ends."""
    global _depth, _raised
    with _lock:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
    if _depth == 0 and _pending is not None and not _raised and _is_main():
        _raised = True
        raise Interrupted(_pending)


def stop_requested() -> bool:
    return _pending is not None


def _is_main() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def held():
    """Block the three signals in this thread while processes are started: a child inherits the mask across
    fork and exec, so worker processes and multiprocessing's helpers (fork server, resource tracker) are
    born deaf to them and a group signal cannot stop one half-started. In this process the signals stay
    pending until the block ends (or, taken by another thread, are deferred by the handler)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    with deferred():
        old = signal.pthread_sigmask(signal.SIG_BLOCK, set(SIGNALS))
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def block() -> None:
    """Block the three signals in this thread again inside held(): multiprocessing's resource tracker
    unblocks SIGINT and SIGTERM in the thread that starts it (after starting it with them blocked)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, set(SIGNALS))


def ignore_in_worker() -> None:
    """In a worker process: ignore the three signals (pending ones are dropped) and take them off the mask,
    so a Go runtime started later in the worker needs no special care either."""
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(SIGNALS))


@contextlib.contextmanager
def write_lock():
    """Held by a worker's watchdog before it ends an orphaned worker: never in the middle of a write."""
    with _lock:
        yield
