"""``grader nbgrader import``: students' ``.py`` repositories → nbgrader submissions.

``CLASS/STUDENT/`` holds the modules, or a repository with them in
``exercises/``. Each module becomes the code cell of a copy of the released
notebook, in ``COURSE/submitted/STUDENT/ASSIGNMENT/``, with ``timestamp.txt``;
its read-only cells are the instructor's (``source/``), as ``autograde`` checks
them, so it warns of no changed cell (see :func:`_with_source_cells`).
A missing module gives no notebook (nbgrader scores a missing notebook 0, as
``grader grade`` scores a missing module).

The students' files are read by :mod:`grader.nbcourse.safe_files` (never through
a link, regular UTF-8 files of bounded size). A student folder's name becomes
nbgrader's student id and a path: it must be letters, digits and ``. _ - @ +``,
starting with a letter or digit. The environment is never read.

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
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader import atomic
from grader import catalogue as catalogue_mod
from grader.catalogue import Catalogue
from grader.nbcourse.course import course_folder
from grader.nbcourse.notebooks import CourseError, notebook_text, read_notebook
from grader.nbcourse.safe_files import Refused, open_dir, read_modules, subdir

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}\Z")  # student and assignment ids
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # what nbgrader parses (FIELD-NOTES)


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


def _write(folder: int, name: str, text: str) -> None:
    """Write ``name`` in ``folder`` (a dir fd) by renaming a new file over it."""
    atomic.write_text_at(folder, name, text)


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
        top = subdir(submitted, student, f"submitted/{student}")
        try:
            out = subdir(top, self.assignment, f"submitted/{student}/{self.assignment}")
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
    cat = catalogue_mod.load() if cat is None else cat
    release = _Release.read(course, assignment, cat, timestamp(when) + "\n")
    result = Imported(course)
    students = _students(Path(class_dir), result)
    if not students:
        raise CourseError(f"no student folders in {class_dir}")
    modules = sorted(set(release.modules.values()))
    (course / "submitted").mkdir(exist_ok=True)
    try:
        with (
            open_dir(str(class_dir), None, f"{class_dir}") as class_fd,
            open_dir(str(course / "submitted"), None, f"{course / 'submitted'}") as submitted,
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
