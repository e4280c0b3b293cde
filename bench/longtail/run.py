#!/usr/bin/env python3
"""Long-tail evaluation runner (issue 11).

Reads repos.toml (repository, commit, dockerfile, context) next to this file and runs
`dockrewrite convert --format json` on each repository's Dockerfile, printing a table of
numbers (status, language, runtime, warning count). Verdicts live in VERDICTS.md, not here.

Rows may carry `prepare`: files a maintainer's working tree has but a clean checkout lacks
(["copy", ".env.example", ".env"] as the README instructs, or ["write", content, ".env"]);
they are made inside the checkout before converting, never in this project.

Nothing here touches the network. Checkouts are looked for in $LT_REPOS (default
/work/lt-repos/<owner>+<name>); when a checkout is missing but a local bare mirror exists in
$LT_MIRRORS (default /work/.mirror/<owner>+<name>/repo), the pinned commit is unpacked from it
(blobs absent from the mirror, e.g. files over 4 MiB, are skipped). Otherwise the row says
"missing".

usage: python bench/longtail/run.py [--tool PATH] [--json OUT] [--diffs DIR] [NAME-FILTER]

--tool defaults to the project's .venv/bin/dockrewrite; VERDICTS.md names the commit it was read
at (a `git archive` copy of that commit run with the venv's libraries gives the same outputs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent
REPOS = Path(os.environ.get("LT_REPOS", "/work/lt-repos"))
MIRRORS = Path(os.environ.get("LT_MIRRORS", "/work/.mirror"))


def git_dir(slug: str) -> Path | None:
    base = MIRRORS / slug / "repo"
    for cand in (base / ".git", base):
        if (cand / "HEAD").exists():
            return cand
    return None


def materialize(slug: str, commit: str, dest: Path) -> bool:
    """Unpack `commit` from the local mirror into dest, skipping blobs the mirror lacks."""
    gd = git_dir(slug)
    if gd is None:
        return False
    env = {**os.environ, "GIT_DIR": str(gd)}
    try:
        tree = subprocess.run(["git", "ls-tree", "-r", "-z", commit], env=env, capture_output=True, check=True).stdout
    except subprocess.CalledProcessError:
        return False
    entries = []
    for rec in tree.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind != b"blob":
            continue
        entries.append((mode.decode(), sha.decode(), path.decode("utf-8", "surrogateescape")))
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    proc = subprocess.Popen(["git", "cat-file", "--batch"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin and proc.stdout
    for mode, sha, path in entries:
        proc.stdin.write(sha.encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            continue
        data = proc.stdout.read(int(header[2]))
        proc.stdout.read(1)
        target = tmp / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            with contextlib.suppress(OSError):
                os.symlink(data.decode("utf-8", "surrogateescape"), target)
            continue
        target.write_bytes(data)
        if mode == "100755":
            target.chmod(0o755)
    proc.stdin.close()
    proc.wait()
    tmp.rename(dest)
    return True


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", default=str(HERE.parents[1] / ".venv" / "bin" / "dockrewrite"))
    ap.add_argument("--json", help="write the raw per-repository reports here")
    ap.add_argument("--diffs", help="write each rewrite's diff and warnings into this folder")
    ap.add_argument("filter", nargs="?", default="")
    args = ap.parse_args()

    cfg = tomllib.loads((HERE / "repos.toml").read_text())
    rows, raw = [], {}
    for r in cfg["repo"]:
        name = r["repository"]
        if args.filter and args.filter not in name:
            continue
        slug = name.replace("/", "+")
        dest = REPOS / slug
        if not dest.exists() and not materialize(slug, r["commit"], dest):
            rows.append((name, r["lang"], "missing", "-", "-", "-", ""))
            continue
        for step in r.get("prepare", []):
            # files the maintainer's working tree has and a clean checkout lacks (README: `cp .env.example .env`)
            kind, target = step[0], dest / step[-1]
            if target.exists():
                continue
            if kind == "copy":
                shutil.copyfile(dest / step[1], target)
            elif kind == "write":
                target.write_text(step[1])
        df = dest / r["dockerfile"]
        ctx = dest / r.get("context", ".")
        cmd = [args.tool, "convert", "--format", "json", "--no-color", "--context", str(ctx), str(df)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        try:
            rep = json.loads(p.stdout)
            f = rep["files"][0]
        except (ValueError, KeyError, IndexError):
            rows.append((name, r["lang"], "error", "-", "-", "-", f"exit {p.returncode}: {p.stderr.strip()[:80]}"))
            continue
        raw[name] = f
        reason = (f.get("reason") or "").replace("\n", " ")
        rows.append(
            (
                name,
                r["lang"],
                f.get("status", "?"),
                f.get("language") or "-",
                f.get("runtime") or "-",
                str(len(f.get("warnings") or [])),
                reason[:90],
            )
        )
        if args.diffs:
            out = Path(args.diffs)
            out.mkdir(parents=True, exist_ok=True)
            body = f"# {name} {r['commit'][:10]} {r['dockerfile']}\n"
            body += f"# status: {f.get('status')} runtime: {f.get('runtime')}\n"
            if f.get("reason"):
                body += f"# reason: line {f.get('line')}: {f['reason']}\n"
            for w in f.get("warnings") or []:
                body += f"# warning: {json.dumps(w) if not isinstance(w, str) else w}\n"
            body += (f.get("diff") or "") + "\n"
            (out / f"{slug}.txt").write_text(body)

    heads = ("repository", "lang", "status", "detected", "runtime", "warn", "reason")
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(heads)]
    widths[-1] = len(heads[-1])
    print("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=False)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[2]] = counts.get(row[2], 0) + 1
    print("\n" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) + f"  (total {len(rows)})")
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
