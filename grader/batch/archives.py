"""Read a ``.zip`` submission's exercise modules in memory; nothing is extracted to disk.

The archive's size is bounded, then its end record is read to bound its entry count
and central directory *before* :class:`zipfile.ZipFile` lists it (that listing
would make an object per entry); links, unsafe paths, twice-held names and
oversized members are refused with a plain :class:`SubmissionError`.
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

from grader.batch.inputs import printable
from grader.batch.reading import (
    DEFAULT_BOUNDS,
    Budget,
    InputBounds,
    SubmissionError,
    check_rel,
    choose_root,
    module_names,
    no_exercises,
    wanted,
)
from grader.catalogue import Catalogue

_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


def _read_at(fh: BinaryIO, offset: int, size: int) -> bytes:
    fh.seek(offset)
    return fh.read(size)


def zip_directory_size(fh: BinaryIO, size: int) -> tuple[int, int]:
    """(entries, bytes) of a zip's central directory, from its end records.

    Found as :mod:`zipfile` finds them (an end record with no comment last, else the
    last signature in the final 64 KiB), taking the larger of the classic and ZIP64
    figures: :class:`zipfile.ZipFile` reads that many bytes of directory and makes an
    object per entry in it, so this bounds its memory before it is ever called.
    """
    end = None
    if size >= _EOCD.size:
        tail = _read_at(fh, size - _EOCD.size, _EOCD.size)
        if tail[:4] == b"PK\x05\x06" and tail[-2:] == b"\0\0":
            end = size - _EOCD.size
    if end is None:
        start = max(size - 0x10000 - _EOCD.size, 0)
        data = _read_at(fh, start, size - start)
        at = data.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD.size > len(data):
            raise SubmissionError("not a readable zip archive (no end-of-archive record)")
        end = start + at
    fields = _EOCD.unpack(_read_at(fh, end, _EOCD.size))
    entries, cd_bytes = max(fields[3], fields[4]), fields[5]
    locator = _read_at(fh, end - _ZIP64_LOCATOR.size, _ZIP64_LOCATOR.size) if end >= 20 else b""
    if len(locator) == _ZIP64_LOCATOR.size and locator[:4] == b"PK\x06\x07":
        offset = _ZIP64_LOCATOR.unpack(locator)[2]
        for at in {end - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size, offset}:
            record = _read_at(fh, at, _ZIP64_EOCD.size) if 0 <= at < size else b""
            if len(record) == _ZIP64_EOCD.size and record[:4] == b"PK\x06\x06":
                rec = _ZIP64_EOCD.unpack(record)
                entries, cd_bytes = max(entries, rec[6], rec[7]), max(cd_bytes, rec[8])
    return entries, cd_bytes


def _open_regular(path: Path) -> int:
    try:
        fd = os.open(path, _OPEN)
    except OSError as exc:
        raise SubmissionError(f"cannot open the file ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SubmissionError("refused: not a regular file")
    return fd


def read_zip(
    archive: Path, cat: Catalogue, bounds: InputBounds = DEFAULT_BOUNDS
) -> dict[str, bytes]:
    """The exercise modules at the archive's exercise root; nothing is extracted to disk."""
    fd = _open_regular(archive)
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fd).st_size
        if size > bounds.max_archive_bytes:
            why = f"the archive is too large (limit {bounds.max_archive_bytes} bytes)"
            raise SubmissionError(why)
        entries, cd_bytes = zip_directory_size(fh, size)
        if entries > bounds.max_entries:
            why = f"the archive holds too many entries ({entries}; limit {bounds.max_entries})"
            raise SubmissionError(why)
        if cd_bytes > bounds.max_names_bytes:
            why = f"the archive's list of files is too large ({cd_bytes} bytes; limit {bounds.max_names_bytes})"  # noqa: E501
            raise SubmissionError(why)
        fh.seek(0)
        try:
            zf = zipfile.ZipFile(fh)
        except UnicodeDecodeError:
            raise SubmissionError(
                "the archive's file names are not valid UTF-8, although the archive says they are"
            ) from None
        except Exception as exc:  # BadZipFile, struct.error, EOFError, ...: all "not readable"
            raise SubmissionError(f"not a readable zip archive ({printable(str(exc))})") from None
        with zf:
            return _zip_modules(zf, cat, bounds)


def _zip_modules(zf: zipfile.ZipFile, cat: Catalogue, bounds: InputBounds) -> dict[str, bytes]:
    budget = Budget(bounds)
    members = []
    for info in zf.infolist():
        budget.listed(info.filename)
        rel = check_rel(info.filename)
        if info.is_dir() or not wanted(rel) or str(rel) in ("", "."):
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            why = f"the archive holds a symbolic link: {printable(repr(info.filename))}"
            raise SubmissionError(why)
        members.append((rel, info))
    modules = module_names(cat)
    root = choose_root(
        {rel.parent for rel, _ in members if rel.name in modules and len(rel.parts) <= 5}
    )
    if root is None:
        raise no_exercises(cat)
    files: dict[str, bytes] = {}
    for rel, info in members:
        if rel.parent != root or rel.name not in modules:
            continue
        if rel.name in files:
            raise SubmissionError(f"the archive holds {printable(str(rel))} twice")
        budget.take(rel.name, info.file_size)
        try:
            with zf.open(info) as fh:
                data = fh.read(bounds.max_file_bytes + 1)  # never trust the header alone
        except Exception as exc:  # bad CRC, truncated, unknown method, encrypted, ...
            why = f"cannot read {printable(repr(info.filename))} from the archive ({printable(str(exc))})"  # noqa: E501
            raise SubmissionError(why) from None
        if len(data) > bounds.max_file_bytes:
            raise SubmissionError(f"{rel.name} is too large (limit {bounds.max_file_bytes} bytes)")
        files[rel.name] = data
    return files
