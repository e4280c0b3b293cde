"""Fuzz run: convert N generated Dockerfiles, each with its own build context, options and encoding, the
way `convert --write` does (runner.run_one), and count what happened.

    nice python bench/fuzz.py [N] [--seed S] [--jobs J] [--show K]

Prints files, statuses, crashes (a traceback or an `internal error` result), safety-check failures,
behaviour problems (a CHANGED result that lost ENV, EXPOSE, its command or its user, or changes again when
converted), files that took over 2 s, and seconds. Exit 1 when anything but statuses was found.
The grammar is tests/grammar.py, the one the property tests use.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import grammar  # noqa: E402

from dockrewrite import source  # noqa: E402
from dockrewrite.context import BuildContext  # noqa: E402
from dockrewrite.results import CHANGED, UNCHANGED  # noqa: E402
from dockrewrite.runner import Job, run_one  # noqa: E402
from dockrewrite.transform import convert_text  # noqa: E402

SLOW = 2.0


def one(seed: int, workdir: Path) -> tuple[str, str | None, float]:
    """(status, problem kind + detail or None, seconds) for the file generated from this seed."""
    d = grammar.RandomDraw(random.Random(seed))
    p = grammar.project(d)
    data = grammar.encode(p.dockerfile, p.encoding) or p.dockerfile.encode("utf-8")
    ctx = workdir / f"ctx{seed}"
    ctx.mkdir()
    grammar.write_context(ctx, p.files)
    path = ctx / "Dockerfile"
    path.write_bytes(data)
    started = time.perf_counter()
    try:
        result = run_one(Job(path, ctx, p.options, write=True, root=ctx))
        problem = None
        reason = result.reason or ""
        if reason.startswith("internal error"):
            problem = "crash: " + reason
        elif reason.startswith("safety check"):
            problem = "safety: " + reason
        elif result.status == CHANGED:
            text, _ = source.decode(data)
            found = grammar.behaviour_problems(text, result, p.options)
            if found:
                problem = "behaviour: " + "; ".join(found)
            else:
                again = convert_text(result.output, BuildContext(ctx), p.options)
                if again.status != UNCHANGED:
                    problem = f"behaviour: converting the output again gives {again.status}: {again.reason}"
                written, _ = source.decode(path.read_bytes())
                if written.rstrip("\n") != result.output.rstrip("\n"):
                    problem = "write: the file on disk is not the output"
        elif path.read_bytes() != data:
            problem = "write: a file that did not convert was written"
        status = result.status
    except Exception:
        status, problem = "traceback", "crash: " + traceback.format_exc(limit=-3).replace("\n", " | ")
    seconds = time.perf_counter() - started
    shutil.rmtree(ctx, ignore_errors=True)
    return status, problem, seconds


def _worker(args: tuple[int, int]) -> list[tuple[int, str, str | None, float]]:
    start, count = args
    with tempfile.TemporaryDirectory(prefix="dockrewrite-fuzz-") as tmp:
        return [(s, *one(s, Path(tmp))) for s in range(start, start + count)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--show", type=int, default=3, help="examples shown per problem kind")
    a = parser.parse_args()
    t0 = time.perf_counter()
    chunk = 200
    batches = [(a.seed + i, min(chunk, a.n - i)) for i in range(0, a.n, chunk)]
    statuses: collections.Counter = collections.Counter()
    kinds: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
    slow: list[tuple[float, int]] = []
    done = 0
    if a.jobs > 1:
        pool = multiprocessing.get_context("forkserver").Pool(a.jobs)
        results = pool.imap_unordered(_worker, batches)
    else:
        pool, results = None, map(_worker, batches)
    for batch in results:
        for seed, status, problem, seconds in batch:
            statuses[status] += 1
            if problem:
                kinds[problem.split(":")[0]].append((seed, problem))
            if seconds > SLOW:
                slow.append((seconds, seed))
        done += len(batch)
        if done % 5000 < chunk:
            print(f"  {done} files, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    if pool is not None:
        pool.close()
    elapsed = time.perf_counter() - t0
    print(f"files: {done}")
    print("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    for kind in ("crash", "safety", "behaviour", "write"):
        found = kinds.get(kind, [])
        print(f"{kind}: {len(found)}")
        distinct: dict[str, int] = {}
        for seed, problem in found:
            key = problem[:160]
            if key not in distinct:
                distinct[key] = seed
        for key, seed in list(distinct.items())[: a.show]:
            print(f"  seed {seed}: {key}")
    slowest = ", ".join(f"{t:.1f} s (seed {seed})" for t, seed in sorted(slow, reverse=True)[:3])
    print(f"slow (> {SLOW:.0f} s): {len(slow)}" + (f", slowest {slowest}" if slow else ""))
    print(
        f"seconds: {elapsed:.0f} ({done / elapsed:.0f} files/s, {a.jobs} process(es), "
        f"seeds {a.seed}..{a.seed + done - 1})"
    )
    return 1 if any(kinds.values()) else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
