"""What a batch writes in OUT: each student's files, then the class files.

Every file is written atomically (:mod:`grader.reports.atomic`), never through a
link. A student's ``results.json`` and ``feedback.md`` (:data:`ALWAYS`), any extra
formats, and the record last (it marks the student done); for the class,
``grades.csv``, ``summary.json`` and ``report.html``.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grader import atomic
from grader.batch.class_files import grades_csv, summarise
from grader.batch.inputs import CLASS_FILES, safe_name
from grader.batch.student_records import RECORD
from grader.catalogue import Catalogue
from grader.reports import formats
from grader.reports.sanitize import json_text
from grader.results import GradeReport

ALWAYS = ("gradescope", "markdown")  # results.json and feedback.md for every student


def student_folder(out: Path, student: str) -> Path:
    """``OUT/<student>``, made if need be; never through a link, never a class file's name."""
    reserved = {n.casefold() for n in CLASS_FILES}
    if not student or student != safe_name(student) or student.casefold() in reserved:
        raise ValueError(f"not a usable student id: {student!r}")
    folder = out / student
    with contextlib.suppress(FileExistsError):
        folder.mkdir()
    if not stat.S_ISDIR(os.lstat(folder).st_mode):
        raise NotADirectoryError(f"{folder} is not a folder (a link or a file is in the way)")
    return folder


def write_student(
    out: Path, student: str, record: dict[str, Any], report: GradeReport | None, fmts: list[str]
) -> None:
    """Every file of one student; the record goes last (it marks the student done)."""
    folder = student_folder(out, student)
    if report is not None:
        for name in fmts:
            fmt = formats.FORMATS[name]
            text = fmt.render(report)
            if name == "markdown":
                text = text.replace("# Grade:", f"# {student}:", 1)
            atomic.write_text(folder / fmt.filename, text)
    else:  # a broken submission: still a results.json and a feedback.md that say why
        from grader.reports import gradescope, markdown

        reason = record["error"]
        atomic.write_text(folder / "results.json", gradescope.dumps(gradescope.not_graded(reason)))
        atomic.write_text(folder / "feedback.md", markdown.not_graded(student, reason))
    atomic.write_text(folder / RECORD, json_text(record))


def class_columns(cat: Catalogue, only: tuple[str, ...] | None) -> list[str]:
    """The exercise columns of the class files, in the catalogue's order."""
    return [ex.slug for ex in cat if only is None or ex.slug in only]


def _move_aside(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISDIR(os.lstat(path).st_mode):
            path.rename(path.with_name(f"{path.name}.moved-aside-{time.strftime('%Y%m%dT%H%M%S')}"))


def has_feedback(out: Path, student: str) -> bool:
    """Is ``OUT/<student>/feedback.md`` a regular file in a real folder (no link)?"""
    try:
        return stat.S_ISDIR(os.lstat(out / student).st_mode) and stat.S_ISREG(
            os.lstat(out / student / "feedback.md").st_mode
        )
    except (OSError, ValueError):
        return False


def write_class_files(
    out: Path,
    records: list[dict[str, Any]],
    slugs: list[str],
    run: dict[str, Any],
    feedback: Iterable[str] | None = None,
) -> dict[str, Any]:
    """grades.csv, summary.json and report.html; ``feedback``: the students whose own
    ``feedback.md`` the report links to (None: those that have one)."""
    from grader.batch import report_html

    if feedback is None:
        feedback = [r["student"] for r in records]
    linked = {s for s in feedback if has_feedback(out, s)}

    summary = summarise(records, slugs, run)
    for name in CLASS_FILES:  # a folder in the way (an older grader let a student take the
        _move_aside(out / name)  # name): moved aside, so the class files are always written
    atomic.write_text(out / "grades.csv", grades_csv(records, slugs))
    atomic.write_text(out / "summary.json", json_text(summary))
    atomic.write_text(out / "report.html", report_html.render(records, summary, slugs, linked))
    return summary
