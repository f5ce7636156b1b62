"""Find every entry of a class folder and name it: one :class:`Submission` per entry.

Every entry becomes exactly one submission, so one row of grades.csv, whatever its
name or kind (but a few names of OS clutter, :data:`IGNORED`):

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

Reading what an entry holds is :mod:`grader.batch.contents`'s job.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: What ``grader batch`` writes directly in OUT: no student id may take these names.
CLASS_FILES = ("grades.csv", "summary.json", "report.html")
#: OS and tool clutter in a class folder: no row (anything else gets one).
IGNORED = frozenset({".DS_Store", ".git", ".ipynb_checkpoints", "__MACOSX", "Thumbs.db"})
MAX_ID = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


@dataclass(frozen=True)
class Submission:
    """One class entry: its id, where it is, how it was named, and why it is refused (if)."""

    student: str
    source: Path
    submitted_as: str = ""
    kind: str = "folder"  # folder | zip | other
    refused: str | None = None  # a plain reason: this entry is not graded
    own_folder: bool = True  # False: OUT/<student>/ is not this entry's to write


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
