"""Grade a whole class: ``grader batch CLASS_DIR --out OUT``; the main loop.

Input: one entry per student in ``CLASS_DIR``, either a folder (laid out like
``exercises/``, or a whole student repo whose ``exercises/`` is found) or a
``.zip``. Every entry gets a row; links, special files and names that are
unusable or collide are refused with a plain reason (see :mod:`grader.batch.inputs`).
Each submission's exercise modules are read into memory within bounds (entries,
names, sizes; no links; no path escaping the archive; see
:mod:`grader.batch.reading`), hashed, and sent as bytes to a worker
(:mod:`grader.batch.jobs`) of any ``concurrent.futures``-style executor: local
processes by default, or a Dask cluster (:mod:`grader.batch.executors`), so
workers need no shared file system.

Outputs (:mod:`grader.batch.outputs`): ``OUT/<student>/results.json``
(Gradescope), ``feedback.md``, any ``--format`` extras, and ``grading.json``
last (the record this module resumes from, :mod:`grader.batch.student_records`);
``OUT/grades.csv``, ``OUT/summary.json`` and ``OUT/report.html`` for the class.

Resuming: a submission whose fingerprint (content hash, grader version, hidden
tests, options) matches its ``grading.json`` is not graded again (``force``
regrades); a record that is not sound (corrupt, forged, a link) counts as
absent. A kill leaves at most hidden ``.*.tmp`` files, swept on the next run.
A broken or hostile submission gets a row that says why; it never stops the
batch, and the class files are always written.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import atomic
from grader import catalogue as catalogue_mod
from grader.batch.contents import content_hash, read_submission
from grader.batch.executors import Interrupted, local_executor, sigterm_as_interrupt, terminate
from grader.batch.inputs import Submission, discover, printable
from grader.batch.jobs import Job, JobResult, grade_job
from grader.batch.outputs import ALWAYS, class_columns, write_class_files, write_student
from grader.batch.reading import InputBounds, SubmissionError
from grader.batch.student_records import (
    RECORD,
    error_record,
    grader_hash,
    load_record,
    named,
    record_of,
)
from grader.catalogue import Catalogue
from grader.grading.seeding import content_seed
from grader.machine import usable_cpus
from grader.reports import formats
from grader.results import GradeReport


@dataclass
class BatchResult:
    """What a run did: every record (in class order), the summary, who was graded or kept."""

    out: Path
    records: list[dict[str, Any]]
    summary: dict[str, Any]
    graded: list[str] = field(default_factory=list)  # graded in this run
    skipped: list[str] = field(default_factory=list)  # unchanged since the last run
    interrupted: bool = False
    wall: float = 0.0


class ClassFolderError(ValueError):
    """The class folder and the output folder cannot be used together."""


def _layout_reserved(class_dir: Path, out: Path) -> list[str]:
    """Ids the layout forbids: the name under OUT that leads to the class folder, if any."""
    c, o = class_dir.resolve(), out.resolve()
    if c == o:
        raise ClassFolderError("the output folder must not be the class folder itself")
    return [c.relative_to(o).parts[0]] if c.is_relative_to(o) else []


def _finish(
    out: Path,
    sub: Submission,
    rec: dict[str, Any],
    report: GradeReport | None,
    fmts: list[str],
) -> dict[str, Any]:
    """Write one entry's files (if its id is its own) and return its record, named.

    A failure to write costs this entry only: its row says so.
    """
    rec = named(rec, sub)
    if not sub.own_folder:
        return rec
    try:
        write_student(out, sub.student, rec, report, fmts)
    except Exception as exc:
        why = f"its files in the output folder could not be written ({type(exc).__name__}: {exc})"
        if rec["status"] == "graded":
            rec["grader_errors"] = [*rec.get("grader_errors", []), printable(why)]
        else:
            rec["error"] = printable(f"{rec['error']}; {why}")
    return rec


def run_batch(
    class_dir: Path,
    out: Path,
    *,
    workers: int | None = None,
    executor: cf.Executor | None = None,
    only: Iterable[str] | None = None,
    seed: int | None = None,
    force: bool = False,
    extra_formats: Iterable[str] = (),
    bounds: InputBounds | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    window: int | None = None,
) -> BatchResult:
    """Grade every submission of ``class_dir`` into ``out``; see the module docstring.

    ``executor``: any ``concurrent.futures.Executor`` (default: ``workers`` local
    processes). ``seed``: the race seed for everyone (default: derived from each
    submission's content hash, so a regrade replays the same schedule).
    ``progress(done, total, student)`` is called after each submission.
    Every entry of ``class_dir`` gets a record (see :mod:`grader.batch.inputs`); nothing
    a submission holds stops the batch, and the class files are always written.
    """
    started = time.perf_counter()
    bounds = bounds or InputBounds()
    cat = catalogue_mod.load()
    only_t = tuple(only) if only else None
    for slug in only_t or ():
        cat.get(slug)  # KeyError for an unknown exercise
    slugs = class_columns(cat, only_t)
    fmts = list(dict.fromkeys([*ALWAYS, *formats.parse(list(extra_formats))]))
    class_dir, out = Path(class_dir), Path(out)
    reserved = _layout_reserved(class_dir, out)
    out.mkdir(parents=True, exist_ok=True)
    atomic.sweep(out)
    ghash = grader_hash()
    try:
        subs = discover(class_dir, skip=[out], reserved=reserved)
    except OSError as exc:
        raise ClassFolderError(f"cannot list the class folder ({exc.strerror or exc})") from None
    records: list[dict[str, Any] | None] = [None] * len(subs)
    jobs: list[tuple[int, Job, str, str]] = []
    skipped: list[str] = []
    graded: list[str] = []
    interrupted = False
    own_executor = executor is None
    workers = workers or usable_cpus()
    total = len(subs)
    in_flight: dict[cf.Future, tuple[int, Job, str, str]] = {}
    try:
        with sigterm_as_interrupt():
            for i, sub in enumerate(subs):
                prepared = _prepare(sub, out, cat, bounds, (ghash, only_t, seed, fmts), force)
                if isinstance(prepared, dict):
                    records[i] = prepared
                    if prepared["status"] == "graded":  # untouched stubs too
                        skipped.append(sub.student)
                    continue
                job, fp, chash = prepared
                records[i] = named({**error_record(sub.student, None), "status": "pending"}, sub)
                jobs.append((i, job, fp, chash))
            done_count = total - len(jobs)
            if progress:
                progress(done_count, total, "")
            if executor is None and jobs:
                executor = local_executor(min(workers, len(jobs)))
            window = window or max(2, 2 * workers)
            queue = list(jobs)
            while queue or in_flight:
                while queue and len(in_flight) < window:
                    item = queue.pop(0)
                    in_flight[executor.submit(grade_job, item[1])] = item
                finished, _ = cf.wait(in_flight, timeout=1.0, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    i, job, fp, chash = in_flight.pop(fut)
                    records[i] = _collect(fut, subs[i], job, fp, chash, out, fmts)
                    graded.append(job.student)
                    done_count += 1
                    if progress:
                        progress(done_count, total, job.student)
    except (KeyboardInterrupt, Interrupted):
        interrupted = True
        if own_executor and executor is not None:
            terminate(executor)
        else:
            for fut in in_flight:
                fut.cancel()
    finally:
        if own_executor and executor is not None and not interrupted:
            executor.shutdown(wait=True)
    ordered = [
        rec
        if rec is not None
        else named({**error_record(sub.student, None), "status": "pending"}, sub)
        for sub, rec in zip(subs, records, strict=True)
    ]
    run = {
        "workers": workers,
        "executor": type(executor).__name__ if executor is not None else None,
        "only": list(only_t) if only_t else None,
        "graded_now": len(graded),
        "skipped_unchanged": len(skipped),
        "interrupted": interrupted,
        "wall_seconds": round(time.perf_counter() - started, 2),
        "python": sys.version.split()[0],
    }
    own = [sub.student for sub in subs if sub.own_folder]
    summary = write_class_files(out, ordered, slugs, run, own)
    return BatchResult(
        out, ordered, summary, graded, skipped, interrupted, time.perf_counter() - started
    )


def _prepare(
    sub: Submission,
    out: Path,
    cat: Catalogue,
    bounds: InputBounds,
    options: tuple,
    force: bool,
) -> dict[str, Any] | tuple[Job, str, str]:
    """Read, hash and look up one entry: its final record (refused, broken, or unchanged
    since the last run), or the job that grades it. Nothing it holds raises out of here."""
    ghash, only_t, seed, fmts = options
    try:
        files = read_submission(sub, cat, bounds)
    except SubmissionError as exc:
        rec = error_record(sub.student, str(exc))
        return _finish(out, sub, rec, None, fmts)
    except Exception as exc:  # OSError, MemoryError, a bug: this row says so, the rest go on
        rec = error_record(sub.student, f"cannot read the submission ({type(exc).__name__}: {exc})")
        return _finish(out, sub, rec, None, fmts)
    try:
        chash = content_hash(files)
        graded = [e for e in cat if only_t is None or e.slug in only_t]
        s = content_seed(files, graded) if seed is None else seed  # as `grader grade`
        fp = hashlib.sha256(f"{chash}:{json.dumps([ghash, only_t, s, fmts])}".encode()).hexdigest()
        fp = fp[:32]
        old = load_record(out, sub.student) if sub.own_folder and not force else None
        if (
            old
            and old.get("fingerprint") == fp
            and all((out / sub.student / formats.FORMATS[f].filename).exists() for f in fmts)
        ):
            rec = named(old, sub)
            if old.get("submitted_as") != sub.submitted_as:  # renamed, or an older record
                with contextlib.suppress(OSError):
                    atomic.write_text(out / sub.student / RECORD, json.dumps(rec, indent=2) + "\n")
            return rec
    except Exception as exc:
        why = f"cannot prepare the submission ({type(exc).__name__}: {exc})"
        rec = error_record(sub.student, why)
        return _finish(out, sub, rec, None, fmts)
    return Job(sub.student, files, only_t, s), fp, chash


def _collect(
    fut: cf.Future, sub: Submission, job: Job, fp: str, chash: str, out: Path, fmts: list[str]
) -> dict[str, Any]:
    """The record of one finished job, its files written."""
    try:
        res = fut.result()
    except Exception as exc:  # a worker died, the cluster went away, ...
        res = JobResult(job.student, None, f"{type(exc).__name__}: {exc}")
    report = res.report
    try:
        if report is None:
            raise RuntimeError(res.error)
        rec = record_of(report, job.student, fp, chash, res.worker, job.files)
    except Exception as exc:
        report, rec = None, error_record(job.student, f"grading failed: {exc}", fp)
    return _finish(out, sub, rec, report, fmts)
