#!/usr/bin/env python3
"""Monorepo-scale benchmark: files/second for `convert --check` and `--write`, peak memory, cold start,
and the dockerfile-parse-only baseline on the same files, as a ratio.

It generates (deterministically, from the fixtures and seed-style variations) a synthetic monorepo of
N Dockerfiles in nested service folders, each with its build context, then runs the installed
`dockrewrite` on it the way a CI job would.

Usage: python bench/bulk.py [--files 10000] [--jobs 0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
TEAMS = ["payments", "search", "identity", "growth", "infra", "data", "mobile", "platform"]


def _cases() -> list[Path]:
    """Fixture cases in a realistic mix: converted, unchanged, skipped, failed. The language fixtures come ten
    times each, builder-pattern setups (two Dockerfiles and a docker-cp script, rare in today's repos) once."""
    cases: list[Path] = []
    for dockerfile in sorted(FIXTURES.glob("*/*/Dockerfile")):
        kind = dockerfile.parent.parent.name
        if kind == "apps":
            continue
        cases += [dockerfile.parent] * (1 if kind == "builder-pattern" else 10)
    return cases


def _vary(text: str, rng: random.Random) -> str:
    """Seed-style variations users make to the same file: versions, ports, paths, comments, layout."""
    text = text.replace("golang:1.22", rng.choice(["golang:1.22", "golang:1.21", "golang:1.23-bookworm"]))
    text = text.replace("python:3.11", rng.choice(["python:3.11", "python:3.10", "python:3.12-bookworm"]))
    text = text.replace("8080", str(rng.choice([8080, 8000, 3000, 9090])))
    text = text.replace("/app", rng.choice(["/app", "/srv/app", "/opt/service"]))
    if rng.random() < 0.3:
        bom = "\ufeff" if text.startswith("\ufeff") else ""  # a BOM belongs at the very start
        text = f"{bom}# Service image, owned by the {rng.choice(TEAMS)} team\n" + text[len(bom) :]
    if rng.random() < 0.2:
        text = text.replace("\n", "\r\n")
    if rng.random() < 0.3:
        text = text.rstrip("\r\n")
    return text


def generate(target: Path, count: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    cases = _cases()
    made = []
    for i in range(count):
        case = cases[(i * 7919) % len(cases)]  # a fixed stride spreads each case over the tree
        folder = target / "services" / TEAMS[i % len(TEAMS)] / f"svc{i // len(TEAMS):04d}" / case.name
        shutil.copytree(case, folder, ignore=shutil.ignore_patterns("expected"))
        dockerfile = folder / "Dockerfile"
        text = dockerfile.read_bytes().decode("utf-8", errors="surrogateescape")
        dockerfile.write_bytes(_vary(text, rng).encode("utf-8", errors="surrogateescape"))
        made.append(dockerfile)
    return made


def _timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    return time.perf_counter() - start, proc


def _cold(cmd: list[str], runs: int = 7) -> float:
    return statistics.median(_timed(cmd)[0] for _ in range(runs))


def parse_only(files: list[Path]) -> float:
    from dockerfile_parse import DockerfileParser

    start = time.perf_counter()
    for path in files:
        # The baseline only measures; broken files cost what they cost.
        with contextlib.suppress(Exception):
            DockerfileParser(fileobj=io.BytesIO(path.read_bytes())).structure  # noqa: B018
    return len(files) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=0, help="--jobs for dockrewrite (0: one per core)")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = parser.parse_args()
    exe = shutil.which("dockrewrite") or str(Path(sys.executable).parent / "dockrewrite")

    work = args.keep or Path(tempfile.mkdtemp(prefix="dockrewrite-bulk-"))
    try:
        start = time.perf_counter()
        files = generate(work / "repo", args.files)
        made = time.perf_counter() - start

        version = _cold([exe, "--version"])
        help_ = _cold([exe, "--help"])
        check_s, check = _timed([exe, "convert", "--check", "--jobs", str(args.jobs), str(work / "repo")])
        summary = check.stderr.strip().splitlines()[-1] if check.stderr.strip() else "(no summary)"
        shutil.copytree(work / "repo", work / "repo-write")
        write_s, write = _timed([exe, "convert", "--write", "--jobs", str(args.jobs), str(work / "repo-write")])
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        baseline = parse_only(files)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    check_rate, write_rate = len(files) / check_s, len(files) / write_s
    print(
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; {len(files)} Dockerfiles generated in {made:.1f} s.\n"
    )
    print("| measure | value | target |")
    print("|---|---:|---:|")
    print(
        f"| `convert --check` | {check_rate:.0f} files/s ({check_s:.1f} s, exit {check.returncode}) | ≥ 500 files/s |"
    )
    print(f"| `convert --write` | {write_rate:.0f} files/s ({write_s:.1f} s, exit {write.returncode}) | |")
    print(f"| peak memory of one process | {peak_mb:.0f} MB | |")
    print(f"| `dockrewrite --version` cold start (median of 7) | {version * 1000:.0f} ms | < 250 ms |")
    print(f"| `dockrewrite --help` cold start (median of 7) | {help_ * 1000:.0f} ms | < 250 ms |")
    print(f"| dockerfile-parse alone, one core | {baseline:.0f} files/s | |")
    print(f"| pipeline cost vs parse-only (`--check`, all cores) | {baseline / check_rate:.1f}x | |")
    print(f"\nResult mix: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
