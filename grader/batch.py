"""Grade a whole class: ``grader batch CLASS_DIR --out OUT``.

Input: one entry per student in ``CLASS_DIR``, either a folder (laid out like
``exercises/``, or a whole student repo whose ``exercises/`` is found) or a
``.zip``. Every entry gets a row; links, special files and names that are
unusable or collide are refused with a plain reason (see :mod:`grader.batch_input`).
Each submission's exercise modules are read into memory with limits (entries,
names, sizes; no links; no path escaping the archive), hashed, and sent as bytes
to a worker of any ``concurrent.futures``-style executor: local processes by
default, or a Dask cluster (:func:`dask_executor`), so workers need no shared
file system.

A worker grades one submission at a time with ``jobs=1`` (its exercises one
after another): with W workers at most W hidden-test processes run at once,
the same load as ``grader grade`` with its default of one exercise per CPU,
so timing tests see the machine they were calibrated on.

Outputs (every file written atomically, see :mod:`grader.reports.atomic`):
``OUT/<student>/results.json`` (Gradescope), ``feedback.md``, any ``--format``
extras, and ``grading.json`` last (the record this module resumes from);
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
import math
import os
import re
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grader
from grader import catalogue as catalogue_mod
from grader.batch_input import (  # noqa: F401 - the input side, importable from here too
    CLASS_FILES,
    Limits,
    Submission,
    SubmissionError,
    check_rel,
    content_hash,
    discover,
    printable,
    read_folder,
    read_submission,
    read_zip,
    safe_name,
    student_id,
)
from grader.catalogue import Catalogue
from grader.reports import atomic, formats
from grader.reports.class_results import grades_csv, summarise
from grader.reports.sanitize import json_text
from grader.scoring import GradeReport, usable_cpus
from grader.seeding import content_seed

RECORD = "grading.json"
ALWAYS = ("gradescope", "markdown")  # results.json and feedback.md for every student
HIDDEN_DIR = Path(grader.__file__).with_name("hidden")
STUBS_DIR = Path(grader.__file__).resolve().parent.parent / "exercises"  # the pack's stubs
# A failed timing test's ratio, when its diagnosis compares with the sequential time (the
# scale of recorded ratios); other references (a sliding window) are not comparable.
_RATIO = re.compile(r"took (\d+(?:\.\d+)?) × the sequential")


def grader_hash() -> str:
    """What a grade depends on besides the submission: the version, hidden tests, catalogue."""
    h = hashlib.sha256(grader.__version__.encode())
    for path in [*sorted(HIDDEN_DIR.glob("*.py")), catalogue_mod.CATALOGUE_PATH]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


# --- the worker --------------------------------------------------------------------------------


@dataclass
class Job:
    student: str
    files: dict[str, bytes]
    only: tuple[str, ...] | None
    seed: int


@dataclass
class JobResult:
    student: str
    report: GradeReport | None
    error: str | None = None
    worker: str = ""
    wall: float = 0.0


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _worker_key() -> str:
    try:  # on a Dask worker: one submission at a time per worker, whatever its thread count
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"pid-{os.getpid()}"


def materialize(files: dict[str, bytes], root: Path) -> None:
    """Write a submission's files under ``root`` (paths were checked when read)."""
    root = root.resolve()
    for name, data in files.items():
        target = (root / check_rel(name)).resolve()
        if not target.is_relative_to(root):
            raise SubmissionError(f"unsafe path in the submission: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def grade_job(job: Job) -> JobResult:
    """Grade one submission (runs in a worker: a local process or a Dask worker)."""
    from grader.scoring import grade

    key = _worker_key()
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    where = f"{socket.gethostname()}:{key}"
    with lock:
        started = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(prefix="grader-batch-") as tmp:
                _CURRENT_TMP[:] = [tmp]
                root = Path(tmp) / safe_name(job.student)
                root.mkdir()
                materialize(job.files, root)
                report = grade(root, catalogue_mod.load(), only=job.only, seed=job.seed, jobs=1)
        except Exception as exc:  # a grader fault: the row says why, the batch goes on
            return JobResult(
                job.student, None, f"{type(exc).__name__}: {exc}", where,
                time.perf_counter() - started,
            )  # fmt: skip
    report.submission = job.student
    return JobResult(job.student, report, None, where, time.perf_counter() - started)


_CURRENT_TMP: list[str] = []  # the worker's submission folder, removed if it is stopped


def _stop_worker(signum, frame) -> None:  # pragma: no cover - runs in a dying worker
    """SIGTERM in a local worker: kill its hidden-test children (each leads its own process
    group, see :mod:`grader.runner`), remove its temporary folders, and exit at once."""
    from grader import cleanup

    with contextlib.suppress(OSError):
        me = str(os.getpid())
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    with open(f"/proc/{entry}/stat") as fh:
                        ppid = fh.read().rsplit(")", 1)[1].split()[1]
                    if ppid == me:
                        os.killpg(int(entry), signal.SIGKILL)
    cleanup.remove_pending()  # the stages of the exercises being graded (hidden copies first)
    for tmp in _CURRENT_TMP:
        cleanup.remove_tree(tmp)
    os._exit(128 + signum)


def _init_local_worker() -> None:
    # Ctrl-C is the parent's to handle: it stops handing out work, writes what is done and
    # terminates the workers (SIGTERM), which stop their children at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    if sys.platform == "linux":  # the parent killed (kill -9): the workers stop too
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def local_executor(workers: int) -> cf.Executor:
    import multiprocessing

    return cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_local_worker,
    )


def dask_executor(address: str) -> tuple[cf.Executor, int, Callable[[], None]]:
    """A ``concurrent.futures`` executor on a Dask cluster; its worker count; a closer."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - depends on the install
        raise SystemExit(
            "grader: --scheduler needs Dask: pip install 'concurrency-pack-grader[dask]'"
        ) from None
    client = Client(address, timeout="20s")
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    return client.get_executor(pure=False), workers, client.close


# --- records of graded students ------------------------------------------------------------------


def timing_ratio(result: Any) -> float | None:
    """Wall time ÷ the sequential time (the known delays one after another) of a timing
    test: a recorded ratio, else from the diagnosis."""
    ratio = getattr(result, "ratio", None)
    if isinstance(ratio, int | float):
        return float(ratio)
    m = _RATIO.search(result.diagnosis or "")
    return float(m[1]) if m else None


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
                        "ratio": timing_ratio(res) if cat.category == "timing" else None,
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


def _named(record: dict[str, Any], sub: Submission) -> dict[str, Any]:
    """``record`` with the entry's original name (``submitted_as``) right after its id."""
    rest = {k: v for k, v in record.items() if k not in ("student", "submitted_as")}
    return {"student": sub.student, "submitted_as": sub.submitted_as, **rest}


MAX_RECORD_BYTES = 16 * 2**20


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


# --- the class files -----------------------------------------------------------------------------


def class_columns(cat: Catalogue, only: tuple[str, ...] | None) -> list[str]:
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
    from grader import report_html

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


# --- the batch -----------------------------------------------------------------------------------


@dataclass
class BatchResult:
    out: Path
    records: list[dict[str, Any]]
    summary: dict[str, Any]
    graded: list[str] = field(default_factory=list)  # graded in this run
    skipped: list[str] = field(default_factory=list)  # unchanged since the last run
    interrupted: bool = False
    wall: float = 0.0


class _Interrupted(Exception):
    pass


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """``kill PID`` stops the batch like Ctrl-C: what is done stays done, nothing half-written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Interrupted(f"signal {signum}")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _terminate(executor: cf.Executor) -> None:
    """Stop local worker processes now (their hidden-test children die with their limits)."""
    executor.shutdown(wait=False, cancel_futures=True)
    for proc in list((getattr(executor, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            proc.terminate()


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
    rec = _named(rec, sub)
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
    limits: Limits | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    window: int | None = None,
) -> BatchResult:
    """Grade every submission of ``class_dir`` into ``out``; see the module docstring.

    ``executor``: any ``concurrent.futures.Executor`` (default: ``workers`` local
    processes). ``seed``: the race seed for everyone (default: derived from each
    submission's content hash, so a regrade replays the same schedule).
    ``progress(done, total, student)`` is called after each submission.
    Every entry of ``class_dir`` gets a record (see :mod:`grader.batch_input`); nothing
    a submission holds stops the batch, and the class files are always written.
    """
    started = time.perf_counter()
    limits = limits or Limits()
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
        with _sigterm_as_interrupt():
            for i, sub in enumerate(subs):
                prepared = _prepare(sub, out, cat, limits, (ghash, only_t, seed, fmts), force)
                if isinstance(prepared, dict):
                    records[i] = prepared
                    if prepared["status"] == "graded":  # untouched stubs too
                        skipped.append(sub.student)
                    continue
                job, fp, chash = prepared
                records[i] = _named({**error_record(sub.student, None), "status": "pending"}, sub)
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
    except (KeyboardInterrupt, _Interrupted):
        interrupted = True
        if own_executor and executor is not None:
            _terminate(executor)
        else:
            for fut in in_flight:
                fut.cancel()
    finally:
        if own_executor and executor is not None and not interrupted:
            executor.shutdown(wait=True)
    ordered = [
        rec
        if rec is not None
        else _named({**error_record(sub.student, None), "status": "pending"}, sub)
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
    limits: Limits,
    options: tuple,
    force: bool,
) -> dict[str, Any] | tuple[Job, str, str]:
    """Read, hash and look up one entry: its final record (refused, broken, or unchanged
    since the last run), or the job that grades it. Nothing it holds raises out of here."""
    ghash, only_t, seed, fmts = options
    try:
        files = read_submission(sub, cat, limits)
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
            rec = _named(old, sub)
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
