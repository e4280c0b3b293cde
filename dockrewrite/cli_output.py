"""What `convert` prints besides reports: the progress line, text-mode notes and diffs, the Dockerfile
for --output, and GitHub workflow annotations. The CLI calls these; nothing else prints."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from dockrewrite.cli_common import err


class Progress:
    """`[120/10000]` on a terminal's stderr while a long run goes on."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.count = total, 0
        self.enabled = enabled and total >= 50

    def step(self) -> None:
        self.count += 1
        if self.enabled and (self.count % 25 == 0 or self.count == self.total):
            sys.stderr.write(f"\r[{self.count}/{self.total}]")
            sys.stderr.flush()

    def hide(self) -> None:
        """Clear the counter so the next message starts on a clean line (step draws it again)."""
        if self.enabled and self.count >= 25:
            sys.stderr.write("\r" + " " * 24 + "\r")

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 24 + "\r")


class Repeats:
    """In a bulk run, a note that is word for word the same for many files is printed for the first one and
    counted for the rest; the summary lists each with its count (a 3,000-file run printed one .dockerignore
    note 1,359 times)."""

    def __init__(self):
        self.seen: dict[str, int] = {}

    def first(self, note: str, path: str) -> bool:
        self.seen[note] = self.seen.get(note, 0) + 1
        return self.seen[note] == 1

    def summary(self) -> list[str]:
        return [
            f"{labelled(note).split(':', 1)[0]} repeated for {count - 1} more files (shown once above): {note}"
            for note, count in sorted(self.seen.items(), key=lambda item: -item[1])
            if count > 1
        ]


BULK = 20  # from this many files on, identical notes are grouped


def labelled(note: str) -> str:
    """`note[DR701]: text`, as rustc labels its diagnostics; the code is what `ignore` takes."""
    code = getattr(note, "code", None)
    return f"note[{code}]: {note}" if code else f"note: {note}"


def show(
    result,
    diff_text: str | None,
    *,
    check: bool,
    write: bool,
    output: str | None,
    color: bool,
    loud: int = 0,
    repeats: Repeats | None = None,
) -> None:
    """Text mode. loud: -1 errors only, 0 the usual, 1 also unchanged files and the signals behind each verdict
    (every note of every file)."""
    from dockrewrite import diff as diffs
    from dockrewrite.results import CHANGED, FAILED, SKIPPED

    if result.status == FAILED:
        err(f"{result.location}: error: {result.reason}")
    elif loud < 0:
        pass
    elif result.status == SKIPPED:
        err(f"{result.location}: skipped: {result.reason}")
    elif result.reason and (loud > 0 or not check and output is None):
        err(f"{result.location}: unchanged: {result.reason}")
    elif result.status != CHANGED and loud > 0:
        err(f"{result.location}: unchanged")
    if loud > 0 and result.signals:
        err(f"{result.path}: {result.language or 'unknown'}: " + "; ".join(result.signals))
    if result.status != CHANGED:
        return
    if check:
        if loud >= 0:
            for line, warning in result.secrets:
                err(f"{result.path}:{line}: warning: {warning}")
        typer.echo(result.path)
        if diff_text:
            typer.echo(diffs.colorize(diff_text) if color else diff_text, nl=False, color=color)
        return
    if loud >= 0:
        for warning in result.warnings:
            if repeats is None or repeats.first(warning, result.path):
                err(f"{result.path}: {labelled(warning)}")
    if output is None and not write:
        typer.echo(diffs.colorize(diff_text) if color else diff_text, nl=False, color=color)


def emit(result, output: str) -> None:
    """--output: the Dockerfile, always. The rewrite when there is one, otherwise the input byte for byte,
    so `convert -o - Dockerfile > new && mv new Dockerfile` never empties a file."""
    from dockrewrite import source
    from dockrewrite.results import CHANGED
    from dockrewrite.runner import MAX_BYTES

    try:
        if result.status == CHANGED:
            data = source.encode(result.output, result.encoding)
        elif result.source_bytes is not None:
            data = result.source_bytes
        else:
            path = Path(result.path)
            if not path.is_file() or path.stat().st_size > MAX_BYTES:
                return  # nothing readable to pass through; the status (failed or skipped) says why
            data = path.read_bytes()
        if output == "-":
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            source.write_atomic(Path(output), data)
    except (OSError, source.SourceError) as exc:
        err(f"{output}: error: cannot write: {exc}")
        raise typer.Exit(2) from None


def annotate(result) -> None:
    """GitHub Actions workflow commands: one annotation per file that needs attention."""
    from dockrewrite.results import CHANGED, FAILED, SKIPPED

    where = f"file={gh_property(result.path)},line={result.line or 1}"
    if result.status == FAILED:
        typer.echo(f"::error {where},title=dockrewrite::{gh_data(result.reason or 'failed')}")
    elif result.status == SKIPPED:
        typer.echo(f"::notice {where},title=dockrewrite skipped::{gh_data(result.reason or '')}")
    elif result.status == CHANGED:
        message = (
            f"single-stage Dockerfile: `dockrewrite convert --write` makes it multi-stage ({result.runtime} runtime)"
        )
        typer.echo(f"::warning file={gh_property(result.path)},line=1,title=dockrewrite::{gh_data(message)}")
        for line, warning in result.secrets:
            typer.echo(
                f"::warning file={gh_property(result.path)},line={line},title=dockrewrite credential::"
                + gh_data(warning)
            )


def gh_data(text: str) -> str:
    """A workflow command's message: a newline in a file name or reason must not start a command of its own."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def gh_property(text: str) -> str:
    """A workflow command's property value: also `:` and `,`, or a path could end the property list or
    add its own `line=`/`title=`."""
    return gh_data(text).replace(":", "%3A").replace(",", "%2C")
