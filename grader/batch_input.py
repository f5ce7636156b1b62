"""The input side of ``grader batch``: find every class entry, name it, read it within limits.

Every entry of the class folder becomes exactly one :class:`Submission`, so one row
of grades.csv, whatever its name or kind (but a few names of OS clutter, :data:`IGNORED`):

- **Its id** (the ``student`` column, the ``OUT/<id>/`` folder) is the entry's name
  (a zip's without ``.zip``) with accents dropped and every run of other characters
  than ``A-Za-z0-9._@+-`` made ``_``. **``submitted_as``** is the original name as
  printable text (:func:`printable`), so every id can be traced to its entry.
- **Refused with a row, never graded:** links, named pipes, devices, sockets and
  other non-folder, non-``.zip`` entries (never followed or opened); hidden
  entries (a name starting with ``.`` or ``_``); names that give no id, too long
  an id, or one of the class files' names (:data:`CLASS_FILES`); and *every*
  entry whose id equals another's, ignoring case (so the order of a directory
  listing never decides who gets an id), or that is the same file as another.
- **Reading** (:func:`read_submission`) never follows a link, never opens
  anything but a regular file, and keeps only the exercise modules at the
  exercise root: the sandbox grades those alone. A folder walk is iterative and
  stops at :attr:`Limits.max_entries` entries (no recursion, no depth beyond
  ``max_depth``); a zip's size is bounded, then its end record is read to bound
  its entry count and central directory *before* :class:`zipfile.ZipFile` lists it.
  Anything odd raises :class:`SubmissionError` with a plain reason.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import struct
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from grader.catalogue import Catalogue

#: What ``grader batch`` writes directly in OUT: no student id may take these names.
CLASS_FILES = ("grades.csv", "summary.json", "report.html")
#: OS and tool clutter in a class folder: no row (anything else gets one).
IGNORED = frozenset({".DS_Store", ".git", ".ipynb_checkpoints", "__MACOSX", "Thumbs.db"})
MAX_ID = 100
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "venv", "env"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")
_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_OPEN_DIR = _OPEN | os.O_DIRECTORY


@dataclass(frozen=True)
class Limits:
    """What one submission may hold (a zip bomb or a stray data folder is refused)."""

    max_entries: int = 10_000  # entries a folder walk visits, or a zip lists
    max_names_bytes: int = 2 * 2**20  # their names together (a zip: its central directory)
    max_file_bytes: int = 1 * 2**20  # one exercise file, once decompressed
    max_total_bytes: int = 16 * 2**20  # all exercise files together
    max_archive_bytes: int = 64 * 2**20
    max_depth: int = 4  # how deep a repo's exercises/ may be


class SubmissionError(Exception):
    """The submission cannot be graded; the message goes in the student's row."""


@dataclass(frozen=True)
class Submission:
    """One class entry: its id, where it is, how it was named, and why it is refused (if)."""

    student: str
    source: Path
    submitted_as: str = ""
    kind: str = "folder"  # folder | zip | other
    refused: str | None = None  # a plain reason: this entry is not graded
    own_folder: bool = True  # False: OUT/<student>/ is not this entry's to write


# --- names -----------------------------------------------------------------------------------


def printable(text: str | bytes) -> str:
    """``text`` (a name: bytes are decoded as the OS does) with every non-printable
    character and lone surrogate as its backslash escape: always valid, printable UTF-8."""
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def student_id(name: str) -> str:
    """The id an entry's name gives: accents dropped, runs of other characters ``_``.

    Not injective (``alice`` and `` alice`` give the same id): :func:`discover`
    refuses every entry whose id another one has too.
    """
    text = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return _UNSAFE.sub("_", text).strip("._")


def safe_name(name: str) -> str:
    """A non-empty folder name made from ``name`` (for temporary folders)."""
    return student_id(name)[:MAX_ID] or "student"


def _quoted(names: Iterable[str], limit: int = 3) -> str:
    names = [f'"{n}"' for n in names]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _kind(mode: int, name: bytes) -> tuple[str, str | None]:
    if stat.S_ISLNK(mode):
        return "other", "a symbolic link (links are never followed: submit the folder or .zip)"
    if stat.S_ISFIFO(mode):
        return "other", "a named pipe (FIFO), not a folder or a .zip archive"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "other", "a device file, not a folder or a .zip archive"
    if stat.S_ISSOCK(mode):
        return "other", "a socket, not a folder or a .zip archive"
    if stat.S_ISDIR(mode):
        return "folder", None
    if stat.S_ISREG(mode) and name.lower().endswith(b".zip"):
        return "zip", None
    return "other", "not a folder or a .zip archive"


def discover(
    class_dir: Path, *, skip: Iterable[Path] = (), reserved: Iterable[str] = ()
) -> list[Submission]:
    """One :class:`Submission` per entry of ``class_dir`` (sorted by name), refused ones too.

    ``skip``: entries left out (the output folder when it is inside the class folder);
    ``reserved``: more names no id may take (case-insensitively), besides :data:`CLASS_FILES`.
    """
    class_dir = Path(class_dir)
    skipped = set()
    for path in skip:
        try:
            st = os.stat(path)
            skipped.add((st.st_dev, st.st_ino))
        except OSError:
            pass
    taken = {n.casefold() for n in (*CLASS_FILES, *reserved)}
    entries = []
    with os.scandir(os.fsencode(class_dir)) as it:
        raw_names = sorted(e.name for e in it)
    for raw in raw_names:
        name = os.fsdecode(raw)
        if name in IGNORED:
            continue
        reasons: list[str] = []
        try:
            st = os.lstat(os.path.join(os.fsencode(class_dir), raw))
        except OSError as exc:
            st = None
            kind, why = "other", f"cannot inspect the entry ({exc.strerror})"
        else:
            if (st.st_dev, st.st_ino) in skipped:
                continue
            kind, why = _kind(st.st_mode, raw)
        if why:
            reasons.append(why)
        if name.startswith((".", "_")):  # hidden, or kept aside by the instructor: not graded
            reasons.append("a hidden entry (its name starts with a dot or an underscore)")
        sid = student_id(name[:-4] if kind == "zip" else name)
        if not sid:
            reasons.append("the name has no letters or digits to make an id from")
        elif len(sid) > MAX_ID:
            reasons.append(f"the name is too long ({len(sid)} characters; at most {MAX_ID})")
        elif sid.casefold() in taken:
            reasons.append(f'the name "{sid}" is reserved for the class files')
        inode = (st.st_dev, st.st_ino) if st is not None and stat.S_ISREG(st.st_mode) else None
        entries.append((raw, name, kind, sid, reasons, inode))
    by_id: dict[str, list[int]] = {}
    by_inode: dict[tuple[int, int], list[int]] = {}
    for i, (_, _, _, sid, _, inode) in enumerate(entries):
        if sid and len(sid) <= MAX_ID:
            by_id.setdefault(sid.casefold(), []).append(i)
        if inode is not None:
            by_inode.setdefault(inode, []).append(i)
    own = {i for group in by_id.values() if len(group) == 1 for i in group}
    for group in by_id.values():
        for i in group if len(group) > 1 else ():
            others = [printable(entries[j][0]) for j in group if j != i]
            entries[i][4].append(
                f"the name collides with {_quoted(others)} (all would be graded as "
                f'"{entries[i][3]}"): rename them apart'
            )
    for group in by_inode.values():
        for i in group if len(group) > 1 else ():
            others = [printable(entries[j][0]) for j in group if j != i]
            entries[i][4].append(f"the same file as {_quoted(others)} (a hard link)")
    subs = []
    for i, (raw, name, kind, sid, reasons, _) in enumerate(entries):
        shown_id = sid if len(sid) <= MAX_ID else sid[: MAX_ID - 3] + "..."
        reserved_id = sid.casefold() in taken
        subs.append(
            Submission(
                student=shown_id,
                source=class_dir / name,
                submitted_as=printable(raw),
                kind=kind,
                refused="refused: " + "; ".join(reasons) if reasons else None,
                own_folder=i in own and not reserved_id,
            )
        )
    return subs


# --- reading ---------------------------------------------------------------------------------


def _module_names(cat: Catalogue) -> set[str]:
    return {ex.module_file for ex in cat}


def _choose_root(dirs_with_modules: Iterable[PurePosixPath]) -> PurePosixPath | None:
    """The shallowest folder holding exercise modules (an ``exercises/`` one wins a tie)."""
    ranked = sorted(dirs_with_modules, key=lambda d: (len(d.parts), d.name != "exercises", str(d)))
    return ranked[0] if ranked else None


def _no_exercises(cat: Catalogue) -> SubmissionError:
    example = next(iter(cat)).module_file
    return SubmissionError(
        f"no exercise files found (expected files such as {example}, "
        "directly or in an exercises/ folder)"
    )


def check_rel(name: str) -> PurePosixPath:
    """``name`` as a relative path that stays inside its folder, else :class:`SubmissionError`."""
    rel = PurePosixPath(name.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or re.match(r"^[A-Za-z]:", name) or "\0" in name:
        raise SubmissionError(f"unsafe path in the submission: {printable(repr(name))}")
    return rel


_check_rel = check_rel  # the old name


def _wanted(rel: PurePosixPath) -> bool:
    return not any(p.startswith(".") or p in _SKIP_DIRS for p in rel.parts) and rel.suffix != ".pyc"


class _Budget:
    """Counts what is listed and what is read against :class:`Limits`."""

    def __init__(self, limits: Limits) -> None:
        self.limits, self.entries, self.names, self.bytes = limits, 0, 0, 0

    def listed(self, name: str) -> None:
        lim = self.limits
        self.entries += 1
        self.names += len(os.fsencode(name))
        if self.entries > lim.max_entries:
            raise SubmissionError(f"too many files and folders (more than {lim.max_entries})")
        if self.names > lim.max_names_bytes:
            why = f"the file names are too long together (limit {lim.max_names_bytes} B)"
            raise SubmissionError(why)

    def take(self, name: str, size: int) -> None:
        lim = self.limits
        self.bytes += size
        if size > lim.max_file_bytes:
            raise SubmissionError(f"{name} is too large ({size} bytes; limit {lim.max_file_bytes})")
        if self.bytes > lim.max_total_bytes:
            raise SubmissionError(f"the submission is too large (limit {lim.max_total_bytes} B)")


def _open_dir(top: int, parts: tuple[str, ...]) -> int:
    """A new descriptor of ``top/parts``, no link followed on the way."""
    fd = os.open(".", _OPEN_DIR, dir_fd=top)
    for part in parts:
        try:
            nxt = os.open(part, _OPEN_DIR, dir_fd=fd)
        finally:
            os.close(fd)
        fd = nxt
    return fd


def _module_dirs(top: int, modules: set[str], limits: Limits, budget: _Budget) -> list:
    """Folders (as parts) down to ``max_depth`` that hold a module as a regular file.

    Iterative, so a deep tree cannot exhaust the stack; hidden folders, caches and
    virtual environments are not entered; every entry listed counts against the budget.
    """
    found = []
    stack: list[tuple[str, ...]] = [()]
    while stack:
        parts = stack.pop()
        fd = _open_dir(top, parts)
        subdirs, has_module, venv = [], False, False
        try:
            with os.scandir(fd) as it:
                for entry in it:
                    budget.listed(entry.name)
                    name = entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if not name.startswith(".") and name not in _SKIP_DIRS:
                            subdirs.append(name)
                    elif name in modules and entry.is_file(follow_symlinks=False):
                        has_module = True
                    elif name == "pyvenv.cfg":
                        venv = True
        finally:
            os.close(fd)
        if venv and parts:
            continue
        if has_module:
            found.append(PurePosixPath(*parts))
        if len(parts) < limits.max_depth:
            stack.extend((*parts, d) for d in sorted(subdirs, reverse=True))
    return found


def _read_regular(fd: int, name: str, limits: Limits, budget: _Budget) -> bytes | None:
    """The bytes of the regular file ``name`` in folder ``fd`` (None: not a regular file)."""
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):  # links, pipes, devices: never opened
        return None
    budget.take(name, st.st_size)
    file_fd = os.open(name, _OPEN, dir_fd=fd)
    with os.fdopen(file_fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(file_fd).st_mode):
            return None
        data = fh.read(limits.max_file_bytes + 1)
    if len(data) > limits.max_file_bytes:
        raise SubmissionError(f"{name} is too large (limit {limits.max_file_bytes} bytes)")
    return data


def read_folder(folder: Path, cat: Catalogue, limits: Limits = Limits()) -> dict[str, bytes]:
    """The exercise modules at the folder's exercise root, by name (no link followed)."""
    modules = _module_names(cat)
    budget = _Budget(limits)
    try:
        top = os.open(folder, _OPEN_DIR)
    except OSError as exc:
        raise SubmissionError(f"cannot open the folder ({exc.strerror})") from None
    try:
        root = _choose_root(_module_dirs(top, modules, limits, budget))
        if root is None:
            raise _no_exercises(cat)
        fd = _open_dir(top, root.parts)
        try:
            files = {}
            for name in sorted(modules):
                data = _read_regular(fd, name, limits, budget)
                if data is not None:
                    files[name] = data
        finally:
            os.close(fd)
    except OSError as exc:
        raise SubmissionError(f"cannot read the folder ({exc.strerror or exc})") from None
    finally:
        os.close(top)
    return files


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


def read_zip(archive: Path, cat: Catalogue, limits: Limits = Limits()) -> dict[str, bytes]:
    """The exercise modules at the archive's exercise root; nothing is extracted to disk."""
    fd = _open_regular(archive)
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fd).st_size
        if size > limits.max_archive_bytes:
            why = f"the archive is too large (limit {limits.max_archive_bytes} bytes)"
            raise SubmissionError(why)
        entries, cd_bytes = zip_directory_size(fh, size)
        if entries > limits.max_entries:
            why = f"the archive holds too many entries ({entries}; limit {limits.max_entries})"
            raise SubmissionError(why)
        if cd_bytes > limits.max_names_bytes:
            why = f"the archive's list of files is too large ({cd_bytes} bytes; limit {limits.max_names_bytes})"  # noqa: E501
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
            return _zip_modules(zf, cat, limits)


def _zip_modules(zf: zipfile.ZipFile, cat: Catalogue, limits: Limits) -> dict[str, bytes]:
    budget = _Budget(limits)
    members = []
    for info in zf.infolist():
        budget.listed(info.filename)
        rel = check_rel(info.filename)
        if info.is_dir() or not _wanted(rel) or str(rel) in ("", "."):
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            why = f"the archive holds a symbolic link: {printable(repr(info.filename))}"
            raise SubmissionError(why)
        members.append((rel, info))
    modules = _module_names(cat)
    root = _choose_root(
        {rel.parent for rel, _ in members if rel.name in modules and len(rel.parts) <= 5}
    )
    if root is None:
        raise _no_exercises(cat)
    files: dict[str, bytes] = {}
    for rel, info in members:
        if rel.parent != root or rel.name not in modules:
            continue
        if rel.name in files:
            raise SubmissionError(f"the archive holds {printable(str(rel))} twice")
        budget.take(rel.name, info.file_size)
        try:
            with zf.open(info) as fh:
                data = fh.read(limits.max_file_bytes + 1)  # never trust the header alone
        except Exception as exc:  # bad CRC, truncated, unknown method, encrypted, ...
            why = f"cannot read {printable(repr(info.filename))} from the archive ({printable(str(exc))})"  # noqa: E501
            raise SubmissionError(why) from None
        if len(data) > limits.max_file_bytes:
            raise SubmissionError(f"{rel.name} is too large (limit {limits.max_file_bytes} bytes)")
        files[rel.name] = data
    return files


def read_submission(sub: Submission, cat: Catalogue, limits: Limits = Limits()) -> dict[str, bytes]:
    """The exercise modules of one submission, by file name; :class:`SubmissionError` if not."""
    if sub.refused:
        raise SubmissionError(sub.refused)
    if sub.kind == "zip":
        return read_zip(sub.source, cat, limits)
    return read_folder(sub.source, cat, limits)


def content_hash(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode("utf-8", "surrogateescape") + b"\0")
        h.update(hashlib.sha256(files[name]).digest())
    return h.hexdigest()
