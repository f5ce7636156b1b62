"""``grader nbgrader import``: students' ``.py`` repositories → nbgrader submissions.

``CLASS/STUDENT/`` holds the modules, or a repository with them in
``exercises/``. Each module becomes the code cell of a copy of the released
notebook, in ``COURSE/submitted/STUDENT/ASSIGNMENT/``, with ``timestamp.txt``;
its read-only cells are the instructor's (``source/``), as ``autograde`` checks
them, so it warns of no changed cell (see :func:`_with_source_cells`).
A missing module gives no notebook (nbgrader scores a missing notebook 0, as
``grader grade`` scores a missing module).

The class folder is the students' data, and what is read from it goes back to
them as feedback, so only what is theirs is read:

* each student folder, its ``exercises/`` and each module is opened one name at
  a time, relative to its parent's descriptor, with ``O_NOFOLLOW``: a symbolic
  link anywhere (a module, ``exercises/``, the student folder) is never
  followed, so nothing outside the student's folder is read;
* a module must be a regular file (``fstat`` on the opened descriptor; opened
  with ``O_NONBLOCK``, so a FIFO cannot hang the import), at most
  :data:`grader.sandbox.MAX_MODULE_BYTES`, and UTF-8 text;
* a student folder's name becomes nbgrader's student id and a path: it must be
  letters, digits and ``. _ - @ +``, starting with a letter or digit;
* the environment is never read.

A file or folder refused is a plain-words reason for that student (that
exercise is left unsubmitted, as a missing module is); the rest of the class is
imported. ``timestamp.txt`` is always written by the import, in nbgrader's format
(the time of the import, or ``--timestamp``), never copied from a student.
Notebooks and timestamps are written to a temporary name and renamed over the
old one, so a link already in ``submitted/`` is replaced, never followed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from grader import catalogue as catalogue_mod
from grader.catalogue import Catalogue
from grader.nbgrader_course import CourseError, course_folder, notebook_text, read_notebook
from grader.sandbox import MAX_MODULE_BYTES

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}\Z")  # student and assignment ids
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # what nbgrader parses (FIELD-NOTES)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class Refused(Exception):
    """A file or folder of a student's that is not read, in plain words."""


@dataclass
class Imported:
    """What ``import_class`` did, per student."""

    course: Path  # the course folder, resolved
    notebooks: dict[str, list[Path]] = field(default_factory=dict)  # student -> written
    reasons: dict[str, list[str]] = field(default_factory=dict)  # student -> refusals
    skipped: list[str] = field(default_factory=list)  # folders that are no student id

    def refuse(self, student: str, reason: str) -> None:
        self.reasons.setdefault(student, []).append(reason)


def shown(name: str) -> str:
    """A name from the class folder, safe to print (no control characters, no escapes)."""
    return ascii(name)[1:-1] if not NAME.match(name) else name


def timestamp(when: dt.datetime | None = None) -> str:
    """nbgrader's ``timestamp.txt`` text (UTC), checked by parsing it back."""
    when = (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    text = when.strftime(TIMESTAMP_FORMAT)
    dt.datetime.strptime(text, TIMESTAMP_FORMAT)  # ValueError if ever malformed
    return text


def parse_timestamp(text: str) -> dt.datetime:
    """``--timestamp``: an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CourseError(
            f"--timestamp {text!r}: not an ISO 8601 time (2026-12-03T17:00)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


# --- reading a student's folder -----------------------------------------------------------------


@contextlib.contextmanager
def _dir(name: str, parent: int | None, what: str) -> Iterator[int]:
    """A folder opened without following a link (``parent``: a dir fd, or None for a path)."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Refused(f"{what} is a symbolic link or not a folder: not read") from None
        raise Refused(f"{what} cannot be opened ({exc.strerror})") from None
    try:
        yield fd
    finally:
        os.close(fd)


def read_module(folder: int, name: str, limit: int = MAX_MODULE_BYTES) -> str | None:
    """The text of ``name`` in the folder ``folder`` (a dir fd); None when it is missing.

    Refused (:class:`Refused`): a symbolic link, anything but a regular file, more than
    ``limit`` bytes, or not UTF-8.
    """
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(f"{name} is a symbolic link: not read") from None
        raise Refused(f"{name} cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"{name} is not a regular file (a folder, FIFO or device): not read")
        if st.st_size > limit:
            raise Refused(f"{name} is larger than {limit} bytes: not read")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise Refused(f"{name} is larger than {limit} bytes: not read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(f"{name} is not UTF-8 text (byte {exc.start}): not read") from None


def read_modules(class_fd: int, student: str, names: list[str]) -> tuple[dict[str, str], list[str]]:
    """The student's modules (of ``names``) found, and the reasons for those refused."""
    found: dict[str, str] = {}
    reasons: list[str] = []
    with _dir(student, class_fd, "the student folder") as top:
        try:
            code = os.open("exercises", _DIR_FLAGS, dir_fd=top)
        except FileNotFoundError:
            code = os.dup(top)
        except OSError as exc:
            if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
                return {}, [f"exercises/ cannot be opened ({exc.strerror})"]
            if stat.S_ISLNK(os.stat("exercises", dir_fd=top, follow_symlinks=False).st_mode):
                return {}, ["exercises/ is a symbolic link: not read"]
            code = os.dup(top)  # a file named exercises: the modules are next to it
        try:
            for name in names:
                try:
                    text = read_module(code, name)
                except Refused as exc:
                    reasons.append(str(exc))
                    continue
                if text is not None:
                    found[name] = text
        finally:
            os.close(code)
    return found, reasons


# --- writing the submission ---------------------------------------------------------------------


def _subdir(parent: int, name: str, shown_as: str) -> int:
    """The folder ``name`` in ``parent`` (a dir fd), made if missing; a link there is refused."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=parent)
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        raise Refused(f"{shown_as} is a symbolic link or not a folder ({exc.strerror})") from None


def _write(folder: int, name: str, text: str) -> None:
    """Write ``name`` in ``folder`` (a dir fd) by renaming a new file over it."""
    tmp = f".{name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o644, dir_fd=folder)  # fmt: skip
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=folder)
        raise


def _students(class_dir: Path, result: Imported) -> list[str]:
    names = []
    try:
        entries = os.scandir(class_dir)
    except OSError as exc:
        raise CourseError(f"{class_dir}: cannot list the class folder ({exc.strerror})") from None
    with entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            # A link to a folder counts as a student: opening it is refused, with a reason.
            if entry.is_dir(follow_symlinks=False) or (entry.is_symlink() and entry.is_dir()):
                (names if NAME.match(entry.name) else result.skipped).append(entry.name)
    return sorted(names)


@dataclass
class _Release:
    """The released notebooks of an assignment, as templates for the submissions."""

    assignment: str
    templates: dict[str, dict]  # notebook file name -> released notebook
    modules: dict[str, str]  # notebook file name -> the module that fills its code cell
    stamp: str

    @classmethod
    def read(cls, course: Path, assignment: str, cat: Catalogue, stamp: str) -> _Release:
        release = course / "release" / assignment
        released = sorted(release.glob("*.ipynb"))
        if not released:
            raise CourseError(
                f"no released notebooks in {release}: run `nbgrader generate_assignment "
                f"{assignment}` in {course} first"
            )
        by_stem = {ex.stem: ex for ex in cat}
        templates, modules = {}, {}
        for path in released:
            nb = read_notebook(path)
            if len([c for c in nb["cells"] if _is_code_cell(c)]) != 1:
                raise CourseError(f"{path}: expected one code (solution) cell")
            instructor = course / "source" / assignment / path.name
            templates[path.name] = _with_source_cells(nb, instructor)
            if path.stem in by_stem:
                modules[path.name] = by_stem[path.stem].module_file
        return cls(assignment, templates, modules, stamp)

    def submit(self, submitted: int, student: str, found: dict[str, str]) -> list[str]:
        """Write one student's submission (``submitted``: a dir fd); the notebooks written."""
        written = []
        top = _subdir(submitted, student, f"submitted/{student}")
        try:
            out = _subdir(top, self.assignment, f"submitted/{student}/{self.assignment}")
        finally:
            os.close(top)
        try:
            for name, template in self.templates.items():
                code = found.get(self.modules.get(name, ""))
                if code is None:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(name, dir_fd=out)  # nbgrader scores a missing notebook 0
                    continue
                cells = [dict(c, source=code) if _is_code_cell(c) else c for c in template["cells"]]
                _write(out, name, notebook_text(dict(template, cells=cells)))
                written.append(name)
            _write(out, "timestamp.txt", self.stamp)
        finally:
            os.close(out)
        return written


def _with_source_cells(released: dict, source: Path) -> dict:
    """``released`` with its read-only cells as the instructor's notebook ``source`` has them.

    ``generate_assignment`` records each read-only cell's checksum in the gradebook
    before it clears the hidden tests, so a hidden-tests cell as released never matches
    it: ``autograde`` warns "Attribute 'checksum' for cell … has changed!" and puts the
    instructor's text back (nbgrader #1961). Writing that text in the first place makes
    a warning mean what it says: a cell was changed.
    """
    try:
        instructor = read_notebook(source)
    except (OSError, ValueError):
        return released  # no source notebook: nbgrader restores the cells itself, warning
    by_id = {_grade_id(c): c for c in instructor.get("cells", []) if _is_locked(c)}
    cells = []
    for cell in released["cells"]:
        mine = by_id.get(_grade_id(cell)) if _is_locked(cell) else None
        same_kind = mine is not None and mine.get("cell_type") == cell.get("cell_type")
        cells.append(dict(cell, source=mine["source"]) if same_kind else cell)
    return dict(released, cells=cells)


def _grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_locked(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("locked"))


def _is_code_cell(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def import_class(
    class_dir: Path,
    course: Path,
    assignment: str,
    *,
    cat: Catalogue | None = None,
    when: dt.datetime | None = None,
) -> Imported:
    """Each student's modules → ``submitted/STUDENT/ASSIGNMENT/*.ipynb`` (+ timestamp.txt).

    ``when``: the submission time written (default: now). Refused files and folders are
    reasons in the result, never exceptions; :class:`CourseError` only for the course.
    """
    if not NAME.match(assignment):
        raise CourseError(f"{shown(assignment)}: not an assignment name (letters, digits, . _ -)")
    course = course_folder(course)
    release = _Release.read(course, assignment, cat or catalogue_mod.load(), timestamp(when) + "\n")
    result = Imported(course)
    students = _students(Path(class_dir), result)
    if not students:
        raise CourseError(f"no student folders in {class_dir}")
    modules = sorted(set(release.modules.values()))
    (course / "submitted").mkdir(exist_ok=True)
    try:
        with (
            _dir(str(class_dir), None, f"{class_dir}") as class_fd,
            _dir(str(course / "submitted"), None, f"{course / 'submitted'}") as submitted,
        ):
            for student in students:
                try:
                    found, reasons = read_modules(class_fd, student, modules)
                except Refused as exc:
                    found, reasons = {}, [str(exc)]
                for reason in reasons:
                    result.refuse(student, reason)
                try:
                    names = release.submit(submitted, student, found)
                except (Refused, OSError) as exc:
                    result.refuse(student, f"not imported: {exc}")
                    continue
                out = course / "submitted" / student / assignment
                result.notebooks[student] = [out / name for name in names]
    except Refused as exc:  # the class folder or the course's submitted/ itself
        raise CourseError(str(exc)) from None
    return result
