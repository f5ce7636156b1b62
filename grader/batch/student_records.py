"""The per-student record files (``OUT/<student>/grading.json``) a batch resumes from.

A record is built from a grade report (:func:`record_of`) or says why there is none
(:func:`error_record`); its fingerprint (content hash, :func:`grader_hash`, options)
decides whether a submission is graded again. A record read back (:func:`load_record`)
is used only if it is sound: a regular file, not too large, shaped like a graded
record of that student (:func:`valid_record`); anything else counts as absent.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import time
from pathlib import Path
from typing import Any

import grader
from grader import catalogue as catalogue_mod
from grader import layout
from grader.batch.inputs import Submission, printable
from grader.results import GradeReport

RECORD = "grading.json"
MAX_RECORD_BYTES = 16 * 2**20
HIDDEN_DIR = layout.HIDDEN
STUBS_DIR = layout.EXERCISES  # the pack's stubs


def grader_hash() -> str:
    """What a grade depends on besides the submission: the version, hidden tests, catalogue."""
    h = hashlib.sha256(grader.__version__.encode())
    for path in [*sorted(HIDDEN_DIR.glob("*.py")), catalogue_mod.CATALOGUE_PATH]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def untouched(files: dict[str, bytes], report: GradeReport) -> tuple[list[str], bool]:
    """The graded exercises whose module is byte for byte the pack's stub (not started),
    and whether any module handed in differs from its stub (the student started)."""
    slugs, started = [], False
    for es in report.exercises:
        data = files.get(es.exercise.module_file)
        if data is None:
            continue
        try:
            stub = (STUBS_DIR / es.exercise.module_file).read_bytes()
        except OSError:
            stub = None
        if data == stub:
            slugs.append(es.exercise.slug)
        else:
            started = True
    return slugs, started


def record_of(
    report: GradeReport,
    student: str,
    fingerprint: str,
    chash: str,
    worker: str = "",
    files: dict[str, bytes] | None = None,
) -> dict[str, Any]:
    """The record of a graded submission; ``files`` (its modules) tells untouched stubs."""
    not_started, started = untouched(files, report) if files is not None else ([], True)
    tests = []
    for ex in report.exercises:
        for cat in ex.categories.values():
            for res in cat.results:
                tests.append(
                    {
                        "exercise": ex.exercise.slug,
                        "category": cat.category,
                        "title": res.info.title,
                        "outcome": res.outcome,
                        "diagnosis": res.diagnosis,
                        "duration": round(res.duration, 4),
                        "ratio": res.ratio if cat.category == "timing" else None,
                    }
                )
    return {
        "student": student,
        "status": "graded",
        "error": None,
        "fingerprint": fingerprint,
        "content_hash": chash,
        "grader_version": report.grader_version,
        "seed": report.seed,
        "python": report.python,
        "cpus": report.cpus,
        "mechanism": report.mechanism,
        "elapsed": round(report.elapsed, 3),
        "worker": worker,
        "earned": round(report.earned, 4),
        "possible": round(report.possible, 4),
        "exercises": {
            ex.exercise.slug: {
                "earned": round(ex.earned, 4),
                "possible": round(ex.possible, 4),
                "categories": {
                    c.category: [round(c.earned, 4), round(c.possible, 4)]
                    for c in ex.categories.values()
                },
                "error": ex.error,
            }
            for ex in report.exercises
        },
        "grader_errors": report.grader_errors,
        "not_started": not_started,  # exercises still the stub
        "started": started,  # False: every module handed in is the stub
        "tests": tests,
        "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def error_record(
    student: str, reason: str | None, fingerprint: str = "", submitted_as: str = ""
) -> dict[str, Any]:
    """The record of a submission that was not graded; ``reason`` is made printable."""
    return {
        "student": student,
        "submitted_as": submitted_as,
        "status": "error",
        "error": printable(reason) if reason is not None else None,
        "fingerprint": fingerprint,
        "earned": 0.0,
        "possible": None,
        "exercises": {},
        "tests": [],
        "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def named(record: dict[str, Any], sub: Submission) -> dict[str, Any]:
    """``record`` with the entry's original name (``submitted_as``) right after its id."""
    rest = {k: v for k, v in record.items() if k not in ("student", "submitted_as")}
    return {"student": sub.student, "submitted_as": sub.submitted_as, **rest}


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _text(x: Any) -> bool:
    return isinstance(x, str)


def _valid_test(t: Any) -> bool:
    return (
        isinstance(t, dict)
        and all(_text(t.get(k)) for k in ("exercise", "category", "title", "outcome", "diagnosis"))
        and _number(t.get("duration", 0))
        and (t.get("ratio") is None or _number(t["ratio"]))
    )


def _valid_exercise(e: Any) -> bool:
    cats = e.get("categories", {}) if isinstance(e, dict) else None
    return (
        isinstance(cats, dict)
        and _number(e.get("earned"))
        and _number(e.get("possible"))
        and (e.get("error") is None or _text(e["error"]))
        and all(isinstance(v, list) and len(v) == 2 and all(map(_number, v)) for v in cats.values())
    )


def valid_record(rec: Any, student: str) -> bool:
    """Is ``rec`` a graded record of ``student`` that the class files can use as it is?"""
    return (
        isinstance(rec, dict)
        and rec.get("student") == student
        and rec.get("status") == "graded"
        and rec.get("error") is None
        and _text(rec.get("fingerprint"))
        and _number(rec.get("earned"))
        and _number(rec.get("possible"))
        and isinstance(rec.get("exercises"), dict)
        and all(map(_valid_exercise, rec["exercises"].values()))
        and isinstance(rec.get("tests"), list)
        and all(map(_valid_test, rec["tests"]))
        and isinstance(rec.get("grader_errors", []), list)
        and all(map(_text, rec.get("grader_errors", [])))
        and isinstance(rec.get("not_started", []), list)
        and all(map(_text, rec.get("not_started", [])))
        and isinstance(rec.get("started", True), bool)
        and all(_text(rec.get(k, "")) for k in ("submitted_as", "graded_at", "worker"))
    )


def load_record(out: Path, student: str) -> dict[str, Any] | None:
    """``student``'s graded record from an earlier run, or None: absent, not a regular file
    (a link, pipe or device is never followed or read), too large, not JSON, or not shaped
    like a graded record of this student (a corrupt or forged one counts as absent)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        folder = os.open(out / student, flags | os.O_DIRECTORY)
    except (OSError, ValueError):
        return None
    try:
        fd = os.open(RECORD, flags, dir_fd=folder)
    except OSError:
        return None
    finally:
        os.close(folder)
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            data = fh.read(MAX_RECORD_BYTES + 1)
        if len(data) > MAX_RECORD_BYTES:
            return None
        rec = json.loads(data)
    except (OSError, ValueError, RecursionError):
        return None
    return rec if valid_record(rec, student) else None
