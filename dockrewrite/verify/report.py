"""The verify report as text: a table per file for the terminal and a Markdown size table for --report."""

from __future__ import annotations

from collections.abc import Sequence

from dockrewrite.verify.results import CHANGED_EFFECTS, EFFECTS_DIFFER, PASSED, VerifyResult


def _mb(size: int | None) -> str:
    return "-" if size is None else f"{size / 1e6:.1f} MB"


def table(result: VerifyResult) -> str:
    """One file's outcome: status, sizes, layers, build times, contract differences, smoke checks."""
    lines = [f"{result.path}: {result.status.upper()}" + (f" ({result.runtime} runtime)" if result.runtime else "")]
    if result.message and result.status != PASSED:
        lines.append(f"  {result.message}")
    o, r = result.original, result.rewrite
    rows: list[tuple[str, str, str, str]] = []
    if o or r:
        ratio = f"{result.ratio:.1f}x smaller" if result.ratio else ""
        rows.append(("size", _mb(o.size if o else None), _mb(r.size if r else None), ratio))
        rows.append(("layers", str(o.layers if o else "-"), str(r.layers if r else "-"), ""))
    if result.build_seconds:
        rows.append(
            (
                "build",
                f"{result.build_seconds.get('original', 0):.1f} s" if "original" in result.build_seconds else "-",
                f"{result.build_seconds.get('rewrite', 0):.1f} s" if "rewrite" in result.build_seconds else "-",
                "",
            )
        )
    if rows:
        width = [max(len(row[i]) for row in [("", "original", "rewrite", ""), *rows]) for i in range(4)]
        header = ("", "original", "rewrite", "")
        for row in [header, *rows]:
            lines.append("  " + "  ".join(cell.ljust(width[i]) for i, cell in enumerate(row)).rstrip())
    if r and r.largest_layer:
        lines.append(f"  dominated by: {r.largest_layer[:100]} ({_mb(r.largest_layer_size)})")
    if result.differences:
        intended = sum(d.intended for d in result.differences)
        lines.append(f"  contract: {len(result.differences)} differences, {intended} intended")
        for d in result.differences:
            lines.append(f"    {d.describe()}")
    elif o and r:
        lines.append("  contract: identical")
    for check in result.smoke:
        mark = "ok" if check.status == PASSED else check.status.upper()
        lines.append(f"  smoke {check.kind}: {check.description}: {mark}: {check.detail}")
        if check.side_effects:
            lines.append(f"    file system: {check.side_effects.describe()}")
    if result.build_log and result.status != PASSED:
        lines.append("  build output (tail):")
        lines.extend(f"    {line}" for line in result.build_log[-12:])
    return "\n".join(lines)


def _side_effects(result: VerifyResult) -> str:
    """One cell: what the smoke containers wrote, compared (`docker diff`)."""
    effects = [c.side_effects for c in result.smoke if c.side_effects]
    if not effects:
        return "-"
    for verdict in (CHANGED_EFFECTS, EFFECTS_DIFFER):
        paths = sorted({line[2:] for e in effects if e.verdict == verdict for line in e.missing})
        if paths:
            shown = ", ".join(f"`{p}`" for p in paths[:5]).replace("|", "\\|")
            return f"{verdict}: not written by the rewrite: {shown}"
    return "same"


def markdown(results: Sequence[VerifyResult]) -> str:
    """The Markdown table --report writes: one row per file."""
    rows = [
        "| Dockerfile | runtime | original | rewrite | ratio | layers | largest layer of the rewrite | file system "
        "| result |",
        "|---|---|---:|---:|---:|---|---|---|---|",
    ]
    for res in results:
        o, r = res.original, res.rewrite
        largest = (r.largest_layer[:60].replace("|", "\\|") + f" ({_mb(r.largest_layer_size)})") if r else ""
        outcome = res.status + (": " + res.message.replace("|", "/") if res.status != "passed" else "")
        rows.append(
            f"| `{res.path}` | {res.runtime or '-'} | {_mb(o.size if o else None)} | {_mb(r.size if r else None)} | "
            f"{f'{res.ratio:.1f}x' if res.ratio else '-'} | {f'{o.layers} -> {r.layers}' if o and r else '-'} | "
            f"{largest} | {_side_effects(res)} | {outcome} |"
        )
    return "\n".join(rows) + "\n"
