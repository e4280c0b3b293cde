"""Bytes <-> text with everything needed to write the file back the way it was found."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


MAX_BYTES = 1 << 20  # 1 MiB: no real Dockerfile is this large (the biggest seen are a few dozen KiB)


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


class TooLarge(SourceError):
    """The file is over MAX_BYTES and was not read: nothing to convert, not a broken file."""

    def __init__(self, size: int):
        super().__init__(f"{size} bytes: files over 1 MiB ({MAX_BYTES} bytes) are not read")
        self.size = size


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
    if not crlf and not lf and text.count("\r") > 1:
        # Docker splits lines at LF only: it reads such a file as one line (`FROM` with every other
        # instruction as its arguments), so say what is wrong instead of reporting that FROM
        raise SourceError(
            "CR-only line endings (classic Mac OS): Docker reads the whole file as one line; save it with LF "
            "or CRLF line endings"
        )
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


def read(path: Path, limit: int = MAX_BYTES) -> tuple[str, SourceFormat]:
    """The decoded file; TooLarge (a SourceError) past `limit` bytes, without reading more than that."""
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(os.fstat(handle.fileno()).st_size)
    return decode(data)


def write_atomic(path: Path, data: bytes) -> list[str]:
    """Replace path with data, keeping what the old file carried: permission bits, owner (when allowed),
    extended attributes and with them POSIX ACLs. Returns notes on what could not be kept.

    The new bytes go to a temporary file beside the target, which is then renamed over it: a reader
    sees the old file or the new one, never a part. A file with several names (hard links) is written
    in place instead, so all its names keep sharing it (a rename would give this name a new file and
    leave the others on the old one). Ctrl-C, SIGTERM and SIGHUP wait until the write is done
    (interrupts.deferred), so an interrupted run leaves every file old or new and no temporary file.
    """
    return write_together([(path, data)])


def write_together(changes: list[tuple[Path, bytes | None]]) -> list[str]:
    """Several files written (bytes) or deleted (None) as one change, each as write_atomic writes one: every
    new file is written out to its temporary file first, and only when all of them are (no disk full, no
    permission problem, no encoding left to fail) are they renamed into place and the deletions made. A
    failure before that leaves every file as it was. Returns the notes on what could not be kept."""
    from dockrewrite import interrupts

    with interrupts.deferred():
        staged: list[_Staged] = []
        try:
            for path, data in changes:
                staged.append(_stage(path, data))
        except BaseException:
            for done in staged:
                done.discard()
            raise
        # In-place writes (hard-linked files) go first: they are the ones that can still fail, and a failure
        # there must come before any rename.
        staged.sort(key=lambda done: done.tmp is not None or done.data is None)
        notes: list[str] = []
        for n, done in enumerate(staged):
            try:
                notes += done.commit()
            except BaseException:
                for rest in staged[n:]:
                    rest.discard()
                raise
        return notes


@dataclass
class _Staged:
    """One file's change, ready to be put in place."""

    path: Path
    data: bytes | None
    tmp: str | None = None  # the written temporary file, renamed over path on commit
    info: os.stat_result | None = None  # a hard-linked file, overwritten in place on commit
    notes: list[str] = field(default_factory=list)

    def commit(self) -> list[str]:
        if self.data is None:
            self.path.unlink(missing_ok=True)
        elif self.tmp is not None:
            os.replace(self.tmp, self.path)
        else:
            return _overwrite(self.path, self.data, self.info)
        return self.notes

    def discard(self) -> None:
        if self.tmp is not None:
            Path(self.tmp).unlink(missing_ok=True)


def _stage(path: Path, data: bytes | None) -> _Staged:
    if data is None:
        return _Staged(path, None)
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    if info is not None and info.st_nlink > 1:
        return _Staged(path, data, info=info)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    notes: list[str] = []
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
            notes = _copy_xattrs(path, tmp)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return _Staged(path, data, tmp=tmp, notes=notes)


def _overwrite(path: Path, data: bytes, info: os.stat_result) -> list[str]:
    """Write a hard-linked file in place; on an error midway the old bytes are put back."""
    with open(path, "r+b") as handle:
        old = handle.read()
        try:
            handle.seek(0)
            handle.write(data)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
        except OSError:
            handle.seek(0)
            handle.write(old)  # the old bytes' blocks are still allocated: this fits
            handle.truncate()
            handle.flush()
            raise
    others = info.st_nlink - 1
    names = f"{others} other name{'s' if others > 1 else ''}"
    return [f"written in place: the file has {names} (hard links), which see the rewrite too"]


def _copy_xattrs(src: Path, dst: str) -> list[str]:
    """Extended attributes of src onto dst (POSIX ACLs are the system.posix_acl_* ones); dst's own ones
    (a folder's default ACL, a security label) give way. Notes name the attributes that could not be set."""
    if not hasattr(os, "listxattr"):
        return []
    try:
        wanted = {name: os.getxattr(src, name) for name in os.listxattr(src)}
        present = os.listxattr(dst)
    except OSError:
        return []  # a filesystem without extended attributes: nothing to keep
    notes = []
    for name in present:
        if name not in wanted:
            with contextlib.suppress(OSError):
                os.removexattr(dst, name)
    for name, value in wanted.items():
        try:
            os.setxattr(dst, name, value)
        except OSError as exc:
            notes.append(f"extended attribute {name} not kept ({exc.strerror or exc})")
    return notes
