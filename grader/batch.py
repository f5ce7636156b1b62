"""Grade a whole class: ``grader batch CLASS_DIR --out OUT``.

Input: one entry per student in ``CLASS_DIR``, either a folder (laid out like
``exercises/``, or a whole student repo whose ``exercises/`` is found) or a
``.zip``. Each submission is read into memory with limits (file count, sizes,
no links, no path escaping the archive), hashed, and sent as bytes to a worker
of any ``concurrent.futures``-style executor: local processes by default, or a
Dask cluster (:func:`dask_executor`), so workers need no shared file system.

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
regrades). A kill leaves at most hidden ``.*.tmp`` files, swept on the next
run. A broken submission gets a row that says why; it never stops the batch.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import hashlib
import io
import json
import os
import re
import signal
import socket
import stat
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import grader
from grader import catalogue as catalogue_mod
from grader.catalogue import Catalogue
from grader.reports import atomic, formats
from grader.scoring import GradeReport, usable_cpus

RECORD = "grading.json"
ALWAYS = ("gradescope", "markdown")  # results.json and feedback.md for every student
HIDDEN_DIR = Path(grader.__file__).with_name("hidden")
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "venv", "env"}
_RATIO = re.compile(r"took (\d+(?:\.\d+)?) × the")


@dataclass(frozen=True)
class Limits:
    """What one submission may hold (a zip bomb or a stray data folder is refused)."""

    max_files: int = 500
    max_file_bytes: int = 1 * 2**20
    max_total_bytes: int = 16 * 2**20
    max_archive_bytes: int = 64 * 2**20
    max_depth: int = 4  # how deep a repo's exercises/ may be


class SubmissionError(Exception):
    """The submission cannot be graded; the message goes in the student's row."""


# --- finding and reading submissions -------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    student: str
    source: Path


def safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._@+-]+", "_", name).strip("._") or "student"
    return cleaned[:100]


def discover(class_dir: Path) -> list[Submission]:
    """One submission per sub-folder or ``.zip`` of ``class_dir`` (hidden entries skipped)."""
    found: dict[str, Submission] = {}
    for entry in sorted(Path(class_dir).iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir() and not entry.is_symlink():
            name = entry.name
        elif entry.is_file() and entry.suffix.lower() == ".zip":
            name = entry.stem
        else:
            continue
        student = safe_name(name)
        if student in found:  # alice/ and alice.zip: keep both, apart
            student = safe_name(entry.name)
        n = 2
        while student in found:
            student, n = f"{safe_name(name)}-{n}", n + 1
        found[student] = Submission(student, entry)
    return list(found.values())


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


def _check_rel(name: str) -> PurePosixPath:
    rel = PurePosixPath(name.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or re.match(r"^[A-Za-z]:", name) or "\0" in name:
        raise SubmissionError(f"unsafe path in the submission: {name!r}")
    return rel


def _wanted(rel: PurePosixPath) -> bool:
    return not any(p.startswith(".") or p in _SKIP_DIRS for p in rel.parts) and rel.suffix != ".pyc"


class _Budget:
    def __init__(self, limits: Limits) -> None:
        self.limits, self.files, self.bytes = limits, 0, 0

    def take(self, name: str, size: int) -> None:
        lim = self.limits
        self.files += 1
        self.bytes += size
        if size > lim.max_file_bytes:
            raise SubmissionError(f"{name} is too large ({size} bytes; limit {lim.max_file_bytes})")
        if self.files > lim.max_files:
            raise SubmissionError(f"too many files (limit {lim.max_files})")
        if self.bytes > lim.max_total_bytes:
            raise SubmissionError(f"the submission is too large (limit {lim.max_total_bytes} B)")


def read_folder(folder: Path, cat: Catalogue, limits: Limits = Limits()) -> dict[str, bytes]:
    """The files under the folder's exercise root, relative to it (no links followed)."""
    modules = _module_names(cat)
    candidates: list[PurePosixPath] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        rel_dir = PurePosixPath(Path(dirpath).relative_to(folder).as_posix())
        depth = 0 if str(rel_dir) == "." else len(rel_dir.parts)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in _SKIP_DIRS
            and not (Path(dirpath, d) / "pyvenv.cfg").exists()
            and depth < limits.max_depth
        )
        if modules & set(filenames):
            candidates.append(rel_dir)
    root = _choose_root(candidates)
    if root is None:
        raise _no_exercises(cat)
    base = folder / root
    files: dict[str, bytes] = {}
    budget = _Budget(limits)
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in sorted(filenames):
            path = Path(dirpath, name)
            rel = PurePosixPath(path.relative_to(base).as_posix())
            if not _wanted(rel):
                continue
            st = path.lstat()
            if not stat.S_ISREG(st.st_mode):  # links, fifos, devices: never read
                continue
            budget.take(str(rel), st.st_size)
            files[str(rel)] = path.read_bytes()[: limits.max_file_bytes + 1]
    return files


def read_zip(archive: Path, cat: Catalogue, limits: Limits = Limits()) -> dict[str, bytes]:
    """The files under the archive's exercise root; nothing is extracted to disk here."""
    if archive.stat().st_size > limits.max_archive_bytes:
        raise SubmissionError(f"the archive is too large (limit {limits.max_archive_bytes} bytes)")
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"not a readable zip archive ({exc})") from None
    with zf:
        members = []
        for info in zf.infolist():
            rel = _check_rel(info.filename)
            mode = info.external_attr >> 16
            if info.is_dir() or not _wanted(rel) or str(rel) in ("", "."):
                continue
            if stat.S_ISLNK(mode):
                raise SubmissionError(f"the archive holds a symbolic link: {info.filename!r}")
            members.append((rel, info))
        modules = _module_names(cat)
        root = _choose_root(
            {rel.parent for rel, _ in members if rel.name in modules and len(rel.parts) <= 5}
        )
        if root is None:
            raise _no_exercises(cat)
        files: dict[str, bytes] = {}
        budget = _Budget(limits)
        for rel, info in members:
            if root.parts and rel.parts[: len(root.parts)] != root.parts:
                continue
            inner = str(PurePosixPath(*rel.parts[len(root.parts) :]))
            budget.take(inner, info.file_size)
            try:
                with zf.open(info) as fh:
                    data = fh.read(limits.max_file_bytes + 1)  # never trust the header alone
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
                why = f"cannot read {info.filename!r} from the archive ({exc})"
                raise SubmissionError(why) from None
            if len(data) > limits.max_file_bytes:
                raise SubmissionError(f"{inner} is too large (limit {limits.max_file_bytes})")
            files[inner] = data
    return files


def read_submission(sub: Submission, cat: Catalogue, limits: Limits = Limits()) -> dict[str, bytes]:
    if sub.source.is_dir():
        return read_folder(sub.source, cat, limits)
    return read_zip(sub.source, cat, limits)


def content_hash(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


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
        target = (root / _check_rel(name)).resolve()
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
    group, see :mod:`grader.runner`), remove its temporary folder, and exit at once."""
    import shutil

    with contextlib.suppress(OSError):
        me = str(os.getpid())
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    with open(f"/proc/{entry}/stat") as fh:
                        ppid = fh.read().rsplit(")", 1)[1].split()[1]
                    if ppid == me:
                        os.killpg(int(entry), signal.SIGKILL)
    for tmp in _CURRENT_TMP:
        shutil.rmtree(tmp, ignore_errors=True)
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
    """Wall time ÷ ideal time of a timing test: a recorded ratio, else from the diagnosis."""
    ratio = getattr(result, "ratio", None)
    if isinstance(ratio, int | float):
        return float(ratio)
    m = _RATIO.search(result.diagnosis or "")
    return float(m[1]) if m else None


def record_of(
    report: GradeReport, student: str, fingerprint: str, chash: str, worker: str = ""
) -> dict[str, Any]:
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
        "tests": tests,
        "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def error_record(student: str, reason: str, fingerprint: str = "") -> dict[str, Any]:
    return {
        "student": student,
        "status": "error",
        "error": reason,
        "fingerprint": fingerprint,
        "earned": 0.0,
        "possible": None,
        "exercises": {},
        "tests": [],
        "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def load_record(out: Path, student: str) -> dict[str, Any] | None:
    try:
        return json.loads((out / student / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_student(
    out: Path, student: str, record: dict[str, Any], report: GradeReport | None, fmts: list[str]
) -> None:
    """Every file of one student; the record goes last (it marks the student done)."""
    folder = out / student
    folder.mkdir(parents=True, exist_ok=True)
    if report is not None:
        for name in fmts:
            fmt = formats.FORMATS[name]
            text = fmt.render(report)
            if name == "markdown":
                text = text.replace("# Grade:", f"# {student}:", 1)
            atomic.write_text(folder / fmt.filename, text)
    else:  # a broken submission: still a results.json and a feedback.md that say why
        atomic.write_text(
            folder / "results.json",
            json.dumps(
                {
                    "score": 0.0,
                    "output": f"Not graded: {record['error']}",
                    "visibility": "visible",
                    "tests": [],
                },
                indent=2,
            )
            + "\n",
        )
        atomic.write_text(folder / "feedback.md", f"# {student}: not graded\n\n{record['error']}\n")
    atomic.write_text(folder / RECORD, json.dumps(record, indent=2) + "\n")


# --- the class files -----------------------------------------------------------------------------


def class_columns(cat: Catalogue, only: tuple[str, ...] | None) -> list[str]:
    return [ex.slug for ex in cat if only is None or ex.slug in only]


def grades_csv(records: list[dict[str, Any]], slugs: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", "status", *slugs, "total", "possible", "note"])
    for rec in records:
        exs = rec.get("exercises") or {}
        scores = [f"{exs[s]['earned']:g}" if s in exs else "" for s in slugs]
        total = f"{rec['earned']:g}" if rec["status"] == "graded" else ""
        possible = f"{rec['possible']:g}" if rec.get("possible") is not None else ""
        note = rec.get("error") or "; ".join(rec.get("grader_errors") or [])
        writer.writerow([rec["student"], rec["status"], *scores, total, possible, note])
    return buf.getvalue()


def _normalise(diagnosis: str) -> str:
    """Group diagnoses that differ only by numbers (timings, counts) or quoted values."""
    text = re.sub(r"\d+(\.\d+)?", "N", diagnosis.split(";")[0])
    return text[:160]


def summarise(records: list[dict[str, Any]], slugs: list[str], run: dict[str, Any]) -> dict:
    graded = [r for r in records if r["status"] == "graded"]
    totals = [r["earned"] for r in graded]
    per_exercise = {}
    for slug in slugs:
        rows = [r["exercises"][slug] for r in graded if slug in r["exercises"]]
        cats: dict[str, list[int]] = {}
        for r in graded:
            for t in r["tests"]:
                if t["exercise"] == slug and t["outcome"] != "ungradable":
                    c = cats.setdefault(t["category"], [0, 0])
                    c[0] += t["outcome"] == "passed"
                    c[1] += 1
        per_exercise[slug] = {
            "mean": round(statistics.fmean(x["earned"] for x in rows), 3) if rows else None,
            "possible": rows[0]["possible"] if rows else None,
            "full_marks": sum(x["earned"] >= x["possible"] > 0 for x in rows),
            "test_pass_rate": {k: round(p / n, 4) for k, (p, n) in cats.items() if n},
        }
    diag: dict[str, dict[str, Any]] = {}
    for r in graded:
        for t in r["tests"]:
            if t["outcome"] in ("failed", "error", "missing"):
                key = f"{t['exercise']}: {_normalise(t['diagnosis'])}"
                d = diag.setdefault(key, {"count": 0, "students": [], "example": t["diagnosis"]})
                d["count"] += 1
                if r["student"] not in d["students"]:
                    d["students"].append(r["student"])
    top = sorted(diag.items(), key=lambda kv: (-kv[1]["count"], kv[0]))[:15]
    return {
        "grader_version": grader.__version__,
        "students": len(records),
        "graded": len(graded),
        "errors": [{"student": r["student"], "reason": r["error"]} for r in records if r["error"]],
        "pending": [r["student"] for r in records if r["status"] == "pending"],
        "possible": graded[0]["possible"] if graded else None,
        "mean": round(statistics.fmean(totals), 3) if totals else None,
        "median": statistics.median(totals) if totals else None,
        "exercises": per_exercise,
        "diagnoses": [
            {
                "diagnosis": k,
                "count": v["count"],
                "students": len(v["students"]),
                "examples": v["students"][:3],
                "example": v["example"],
            }
            for k, v in top
        ],
        "run": run,
    }


def write_class_files(
    out: Path, records: list[dict[str, Any]], slugs: list[str], run: dict[str, Any]
) -> dict[str, Any]:
    from grader import report_html

    summary = summarise(records, slugs, run)
    atomic.write_text(out / "grades.csv", grades_csv(records, slugs))
    atomic.write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    atomic.write_text(out / "report.html", report_html.render(records, summary, slugs))
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
    limits: Limits = Limits(),
    progress: Callable[[int, int, str], None] | None = None,
    window: int | None = None,
) -> BatchResult:
    """Grade every submission of ``class_dir`` into ``out``; see the module docstring.

    ``executor``: any ``concurrent.futures.Executor`` (default: ``workers`` local
    processes). ``seed``: the race seed for everyone (default: derived from each
    submission's content hash, so a regrade replays the same schedule).
    ``progress(done, total, student)`` is called after each submission.
    """
    started = time.perf_counter()
    cat = catalogue_mod.load()
    only_t = tuple(only) if only else None
    for slug in only_t or ():
        cat.get(slug)  # KeyError for an unknown exercise
    slugs = class_columns(cat, only_t)
    fmts = list(dict.fromkeys([*ALWAYS, *formats.parse(list(extra_formats))]))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic.sweep(out)
    ghash = grader_hash()
    subs = discover(Path(class_dir))
    records: dict[str, dict[str, Any]] = {}
    jobs: list[tuple[Job, str, str]] = []
    skipped = []
    for sub in subs:
        try:
            files = read_submission(sub, cat, limits)
        except SubmissionError as exc:
            rec = error_record(sub.student, str(exc))
            write_student(out, sub.student, rec, None, fmts)
            records[sub.student] = rec
            continue
        except OSError as exc:
            rec = error_record(sub.student, f"cannot read the submission ({exc})")
            write_student(out, sub.student, rec, None, fmts)
            records[sub.student] = rec
            continue
        chash = content_hash(files)
        s = int(chash[:8], 16) if seed is None else seed
        options = json.dumps([ghash, only_t, s, fmts])
        fp = hashlib.sha256(f"{chash}:{options}".encode()).hexdigest()[:32]
        old = load_record(out, sub.student)
        if (
            not force
            and old
            and old.get("status") == "graded"
            and old.get("fingerprint") == fp
            and all((out / sub.student / formats.FORMATS[f].filename).exists() for f in fmts)
        ):
            records[sub.student] = old
            skipped.append(sub.student)
            continue
        records[sub.student] = {**error_record(sub.student, None), "status": "pending"}
        jobs.append((Job(sub.student, files, only_t, s), fp, chash))

    total = len(subs)
    done_count = total - len(jobs)
    if progress:
        progress(done_count, total, "")
    own_executor = executor is None
    workers = workers or usable_cpus()
    if executor is None and jobs:
        executor = local_executor(min(workers, len(jobs)))
    window = window or max(2, 2 * workers)
    graded: list[str] = []
    interrupted = False
    queue = list(jobs)
    in_flight: dict[cf.Future, tuple[Job, str, str]] = {}
    try:
        with _sigterm_as_interrupt():
            while queue or in_flight:
                while queue and len(in_flight) < window:
                    item = queue.pop(0)
                    in_flight[executor.submit(grade_job, item[0])] = item
                finished, _ = cf.wait(in_flight, timeout=1.0, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    job, fp, chash = in_flight.pop(fut)
                    try:
                        res = fut.result()
                    except Exception as exc:  # a worker died, the cluster went away, ...
                        res = JobResult(job.student, None, f"{type(exc).__name__}: {exc}")
                    if res.report is not None:
                        rec = record_of(res.report, job.student, fp, chash, res.worker)
                    else:
                        rec = error_record(job.student, f"grading failed: {res.error}", fp)
                    write_student(out, job.student, rec, res.report, fmts)
                    records[job.student] = rec
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
    ordered = [records[s.student] for s in subs]
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
    summary = write_class_files(out, ordered, slugs, run)
    return BatchResult(
        out, ordered, summary, graded, skipped, interrupted, time.perf_counter() - started
    )
