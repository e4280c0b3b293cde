"""Bytes <-> text with everything needed to write the file back the way it was found."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


# Temporary files of a write sit beside their target (a rename is atomic only within one filesystem) as
# `.<name>.<8 random characters>.dockrewrite`. Other files' conversions may list that folder meanwhile:
# context listings leave these names out (is_temp_name), so no rewrite ever names one.
TEMP_SUFFIX = ".dockrewrite"
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of this tool's temporary files."""
    return name.endswith(TEMP_SUFFIX) and _TEMP_NAME.fullmatch(name) is not None


class SourceError(Exception):
    """The bytes cannot be read as a text Dockerfile."""


@dataclass(frozen=True)
class SourceFormat:
    encoding: str = "utf-8"
    bom: bytes = b""
    newline: str = "\n"
    final_newline: bool = True


def decode(data: bytes) -> tuple[str, SourceFormat]:
    """Return the text with '\\n' line ends and the format needed to encode it back."""
    bom = b""
    encoding = "utf-8"
    for mark, name in _BOMS:
        if data.startswith(mark):
            bom, encoding = mark, name
            break
    body = data[len(bom) :]
    if not bom and b"\x00" in body:
        raise SourceError("binary file (contains NUL bytes)")
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        if bom:
            raise SourceError(f"not valid {encoding} despite its byte order mark") from None
        # Legacy editors still save Latin-1 comments; cp1252 maps every byte we keep, so the file
        # round-trips exactly.
        try:
            text = body.decode("cp1252")
            encoding = "cp1252"
        except UnicodeDecodeError:
            text = body.decode("latin-1")
            encoding = "latin-1"
    if "\x00" in text:
        raise SourceError("binary file (contains NUL characters)")
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    newline = "\r\n" if crlf > lf else "\n"
    final_newline = text.endswith("\n") or text == ""
    text = text.replace("\r\n", "\n")
    return text, SourceFormat(encoding, bom, newline, final_newline)


def encode(text: str, fmt: SourceFormat) -> bytes:
    """Encode text (with '\\n' line ends) in the original file's encoding, BOM and newline style."""
    body = text
    if not fmt.final_newline:
        body = body.rstrip("\n")
    elif body and not body.endswith("\n"):
        body += "\n"
    if fmt.newline != "\n":
        body = body.replace("\n", fmt.newline)
    try:
        return fmt.bom + body.encode(fmt.encoding)
    except UnicodeEncodeError as exc:
        raise SourceError(f"the rewrite cannot be encoded as {fmt.encoding}: {exc.reason}") from None


def read(path: Path) -> tuple[str, SourceFormat]:
    return decode(path.read_bytes())


def write_atomic(path: Path, data: bytes) -> None:
    """Replace path with data in one rename, keeping the file's permission bits and owner.

    Ctrl-C, SIGTERM and SIGHUP wait until the file is whole (interrupts.deferred), so an interrupted run
    leaves every file either old or new and no temporary file behind.
    """
    from dockrewrite import interrupts

    with interrupts.deferred():
        _replace(path, data)


def _replace(path: Path, data: bytes) -> None:
    info = path.stat() if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if info is not None:
            os.chmod(tmp, stat.S_IMODE(info.st_mode))
            if (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
                # Only root may give a file away; without that right the content is still right.
                with contextlib.suppress(PermissionError):
                    os.chown(tmp, info.st_uid, info.st_gid)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
