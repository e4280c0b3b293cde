#!/usr/bin/env python3
"""Size and build-time benchmark: one Markdown table row per fixture app (fixtures/apps/*).

For each app: original and rewritten image size, ratio, the payload floor (the Go binary; the Python
runtime with its packages and the app; the node binary with the app and its production node_modules;
a static site's files with the nginx binary), rewritten/floor, the size of a hand-written expert multi-stage
file (the app's expert.Dockerfile.txt, built in the same context) and rewritten/expert, cold build time of each
(--no-cache), and the rebuild time of the original and the rewrite after a one-line source change (a comment
appended to a source file in a temporary copy of the context, so the dependency layers may stay cached).
Stand-in base image sizes are printed below.

Usage: python bench/size.py [APP ...] [--network host] [--runtime NAME]     (needs a Docker engine and the stand-ins:
tests/e2e/images/ensure.sh). Images it builds are removed afterwards.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import posixpath
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dockrewrite import source  # noqa: E402
from dockrewrite.context import BuildContext  # noqa: E402
from dockrewrite.plan import Options  # noqa: E402
from dockrewrite.results import CHANGED  # noqa: E402
from dockrewrite.transform import convert_text  # noqa: E402
from dockrewrite.verify.engine import Docker, EngineError, build_error, find_docker, inspect_image  # noqa: E402

APPS = ROOT / "fixtures" / "apps"
BASES = (
    "golang:1.22",
    "python:3.11",
    "python:3.11-slim",
    "node:20",
    "node:20-slim",
    "nginx:alpine",
    "debian:bookworm-slim",
    "alpine:3.20",
    "gcr.io/distroless/static-debian12:nonroot",
    "gcr.io/distroless/base-debian12:nonroot",
    "gcr.io/distroless/cc-debian12:nonroot",
    "gcr.io/distroless/nodejs20-debian12:nonroot",
)
# Not a Dockerfile name, so dockrewrite's discovery never takes the expert's file for an input to convert.
EXPERT = "expert.Dockerfile.txt"
COLUMNS = 14


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def build(docker: Docker, dockerfile: Path, context: Path, tag: str, no_cache: bool = False) -> float:
    ok, lines, seconds = docker.build(dockerfile, context, tag, 1800, extra=["--no-cache"] if no_cache else [])
    if not ok:
        raise RuntimeError(f"{dockerfile.name} does not build: {build_error(lines)}")
    return seconds


def file_size_in_image(docker: Docker, image: str, path: str) -> int | None:
    """Size of one regular file inside an image (docker create + docker cp, works without a shell)."""
    cid = docker.cmd(["create", image], 60, check=True).stdout.strip()
    try:
        proc = subprocess.run([docker.binary, "cp", "-L", f"{cid}:{path}", "-"], capture_output=True, timeout=120)
        if proc.returncode != 0:
            return None
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
            member = next((m for m in tar.getmembers() if m.isfile()), None)
            return member.size if member else None
    finally:
        docker.cmd(["rm", "-f", cid], 60)


def tree_size_in_image(docker: Docker, image: str, path: str) -> int:
    """Bytes of the regular files under path inside an image (0 when it is not there)."""
    cid = docker.cmd(["create", image], 60, check=True).stdout.strip()
    try:
        proc = subprocess.run([docker.binary, "cp", "-L", f"{cid}:{path}", "-"], capture_output=True, timeout=300)
        if proc.returncode != 0:
            return 0
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
            return sum(m.size for m in tar.getmembers() if m.isfile())
    finally:
        docker.cmd(["rm", "-f", cid], 60)


def _program(docker: Docker, image: str) -> tuple[str, int] | None:
    """The program the image runs: resolved from ENTRYPOINT/CMD, WORKDIR and PATH. When a start script runs
    it (ENTRYPOINT script, CMD binary), the largest file the command names is the program."""
    facts = inspect_image(docker, image, history=False)
    if facts is None or not facts.command:
        return None
    found: list[tuple[int, str]] = []
    for program in [w for w in facts.command if w and not w.startswith("-")]:
        if "/" in program:
            candidates = [posixpath.normpath(posixpath.join(facts.working_dir or "/", program))]
        else:
            path = facts.env.get("PATH", "/usr/local/bin:/usr/bin:/bin")
            candidates = [posixpath.join(d, program) for d in path.split(":") if d]
        for candidate in candidates:
            size = file_size_in_image(docker, image, candidate)
            if size:
                found.append((size, candidate))
                break
    if not found:
        return None
    size, path = max(found)
    return path, size


def payload_floor(docker: Docker, image: str, kind: str) -> tuple[str, int] | None:
    """What the app cannot do without, by kind of app: the Go binary; the interpreter, its packages and the
    app (Python: /usr/local and the app folder; Node: the node binary, where the base keeps it, and the app
    folder with node_modules); a static site's files plus the nginx binary."""
    if kind == "go":
        return _program(docker, image)
    facts = inspect_image(docker, image, history=False)
    workdir = facts.working_dir or "/"
    if kind == "static":
        paths = ["/usr/sbin/nginx", "/usr/share/nginx/html"]
    elif kind == "node":
        paths = ["/usr/local/bin/node", "/nodejs/bin/node", workdir]  # the node image, distroless nodejs
    else:
        paths = ["/usr/local", "/opt/venv", "/home/app/.local"] + ([workdir] if workdir != "/" else [])
    total = sum(tree_size_in_image(docker, image, p) for p in paths)
    return (" + ".join(paths), total) if total else None


def app_kind(app: Path, runtime: str | None) -> str:
    if (app / "go.mod").is_file():
        return "go"
    if (app / "package.json").is_file():
        return "static" if runtime == "nginx" else "node"
    return "python"


# A Python app may have no module but its setup.py: its C extension source is the file a developer edits.
_SOURCES = {"go": (".go",), "python": (".py", ".c"), "node": (".js", ".ts"), "static": (".js", ".ts", ".html")}


def _source_file(ctx: Path, kind: str) -> Path:
    """A source file to edit for the rebuild measure (not a manifest, not installed packages)."""
    for path in sorted(ctx.rglob("*")):
        if path.suffix in _SOURCES[kind] and "node_modules" not in path.parts and path.name != "setup.py":
            return path
    raise RuntimeError(f"no {kind} source file to edit in {ctx}")


def bench_app(docker: Docker, app: Path, runtime: str | None = None) -> str:
    text, fmt = source.decode((app / "Dockerfile").read_bytes())
    spec = json.loads((app / "smoke.json").read_text()) if (app / "smoke.json").is_file() else {}
    options = Options(runtime=runtime or spec.get("runtime", "auto"))
    converted = convert_text(text, BuildContext(app), options, str(app / "Dockerfile"))
    if converted.status != CHANGED:
        return f"| {app.name} | {converted.status}: {converted.reason} |" + " |" * (COLUMNS - 2)
    work = Path(tempfile.mkdtemp(prefix="dockrewrite-bench-"))
    tags = {w: f"dockrewrite-bench/{app.name}:{w}-{uuid.uuid4().hex[:8]}" for w in ("original", "rewrite", "expert")}
    try:
        ctx = work / "ctx"
        shutil.copytree(app, ctx)
        files = {"original": work / "original.Dockerfile", "rewrite": work / "rewrite.Dockerfile"}
        files["original"].write_text(text)
        files["rewrite"].write_bytes(source.encode(converted.output, fmt))
        cold = {w: build(docker, f, ctx, tags[w], no_cache=True) for w, f in files.items()}
        sizes = {w: inspect_image(docker, tags[w], history=False).size for w in files}
        if (app / EXPERT).is_file():
            cold["expert"] = build(docker, ctx / EXPERT, ctx, tags["expert"], no_cache=True)
            sizes["expert"] = inspect_image(docker, tags["expert"], history=False).size
        kind = app_kind(app, converted.runtime)
        floor = payload_floor(docker, tags["rewrite"], kind)
        edited = _source_file(ctx, kind)
        comment = "#" if edited.suffix == ".py" else "<!--" if edited.suffix == ".html" else "//"
        with edited.open("a") as handle:
            handle.write(f"\n{comment} bench edit {time.time()}{' -->' if comment == '<!--' else ''}\n")
        rebuild = {w: build(docker, f, ctx, tags[w]) for w, f in files.items()}
    finally:
        subprocess.run([docker.binary, "image", "rm", *tags.values()], capture_output=True, timeout=120)
        shutil.rmtree(work, ignore_errors=True)
    ratio = sizes["original"] / sizes["rewrite"]
    floor_cells = f"{mb(floor[1])} (`{floor[0]}`) | {sizes['rewrite'] / floor[1]:.2f}x" if floor else "- | -"
    expert = sizes.get("expert")
    expert_cells = f"{mb(expert)} | {sizes['rewrite'] / expert:.2f}x" if expert else "- | -"
    expert_cold = f"{cold['expert']:.1f} s" if expert else "-"
    return (
        f"| {app.name} | {converted.runtime} | {mb(sizes['original'])} | {mb(sizes['rewrite'])} | {ratio:.1f}x | "
        f"{floor_cells} | {expert_cells} | {cold['original']:.1f} s | {cold['rewrite']:.1f} s | {expert_cold} | "
        f"{rebuild['original']:.1f} s | {rebuild['rewrite']:.1f} s ({rebuild['rewrite'] / rebuild['original']:.2f}x) |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("apps", nargs="*", help="fixture app names (default: every folder in fixtures/apps)")
    parser.add_argument("--network", default="host", help="network for RUN steps (default: host)")
    parser.add_argument(
        "--runtime", default=None, help="convert with this --runtime (default: the app's smoke.json, else auto)"
    )
    args = parser.parse_args()
    try:
        docker = find_docker(network=args.network or None)
    except EngineError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    apps = [APPS / a for a in args.apps] if args.apps else sorted(p for p in APPS.iterdir() if p.is_dir())
    print(f"Measured {date.today()} on {platform.machine()}, {_cpus()} CPUs, Docker {docker.version}, stand-in bases.")
    print()
    print(
        "| app | runtime | original | rewritten | ratio | payload floor | rewritten/floor | expert | rewritten/expert "
        "| cold build original | cold build rewritten | cold build expert | rebuild original | rebuild rewritten |"
    )
    print("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    failed = 0
    for app in apps:
        try:
            print(bench_app(docker, app, args.runtime), flush=True)
        except (RuntimeError, EngineError) as exc:
            failed += 1
            print(f"| {app.name} | error: {exc} |" + " |" * (COLUMNS - 2), flush=True)
    print()
    print("Stand-in base images (leaner than the official ones, so ratios read lower):")
    print()
    print("| image | size |")
    print("|---|---:|")
    for base in BASES:
        facts = inspect_image(docker, base, history=False)
        print(f"| {base} | {mb(facts.size) if facts else 'missing'} |")
    return 1 if failed else 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
