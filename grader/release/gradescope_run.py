"""What ``run_autograder`` does inside Gradescope: ``grader gradescope run``.

It reads the exercise modules from ``/autograder/submission`` (flat, in an
``exercises/`` folder of a repository, or in one uploaded zip), grades a fresh
copy of them in the sandbox with the build's settings
(:mod:`grader.release.gradescope_settings`) and writes
``/autograder/results/results.json``. Kept apart from the zip's build: this runs on
Gradescope's machine, as root, where results/ and the hidden tests are locked
down first and the CPUs graded on are the container's quota, not the host's.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import grader
from grader import atomic, layout
from grader import catalogue as catalogue_mod
from grader.release.gradescope_settings import CONFIG, Settings

PACKAGE = layout.PACKAGE

CGROUP_V2 = Path("/sys/fs/cgroup/cpu.max")  # "QUOTA PERIOD" or "max PERIOD"
CGROUP_V1 = Path("/sys/fs/cgroup/cpu")  # cpu.cfs_quota_us (-1: none), cpu.cfs_period_us


def cpu_quota() -> float | None:
    """The CPUs a cgroup quota allows (Docker's ``--cpus``, Gradescope's ½ vCPU), if any.

    Affinity shows every CPU of the host in such a container; the quota is what
    the grader really gets.
    """
    with contextlib.suppress(OSError, ValueError):
        quota, period = CGROUP_V2.read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    with contextlib.suppress(OSError, ValueError):
        quota = int((CGROUP_V1 / "cpu.cfs_quota_us").read_text())
        period = int((CGROUP_V1 / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 else None
    return None


def grading_jobs(cpus: int, quota: float | None) -> int:
    """Exercises graded at once: one per usable CPU, within the quota (at least one)."""
    return max(1, min(cpus, int(quota))) if quota else max(1, cpus)


def read_submission(folder: Path, cat: catalogue_mod.Catalogue) -> dict[str, bytes]:
    """The exercise modules of a Gradescope submission: flat, in a repo's exercises/, or zipped.

    Raises :class:`grader.batch.reading.SubmissionError` with a plain reason.
    """
    from grader.batch.archives import read_zip
    from grader.batch.folders import read_folder
    from grader.batch.reading import SubmissionError

    try:
        return read_folder(folder, cat)
    except SubmissionError:
        with contextlib.suppress(OSError):
            zips = [p for p in folder.iterdir() if p.suffix.lower() == ".zip"]
            if len(zips) == 1 and not zips[0].is_symlink() and zips[0].is_file():
                return read_zip(zips[0], cat)
        raise


def _lock_down(root: Path) -> None:
    """As root: results/ and every copy of the hidden tests under ``root`` are root's only."""
    if os.geteuid() != 0:
        return
    paths = [root / "results", root / "source" / "grader" / "hidden"]
    hidden = layout.HIDDEN
    paths += [hidden] if hidden.resolve().is_relative_to(root.resolve()) else []
    for path in paths:
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                os.chmod(path, 0o700)


def autograde(root: Path, *, check: bool = False) -> int:
    """Grade ``root/submission`` with ``root/source/gradescope.toml``; write results.json.

    Prints the instructor's log (Gradescope keeps standard output, hidden from
    students). ``check``: only load the settings and say what would run.
    """
    from rich.console import Console

    from grader.batch.reading import SubmissionError
    from grader.grading.isolation import isolation
    from grader.grading.scoring import grade
    from grader.grading.seeding import folder_seed
    from grader.machine import usable_cpus
    from grader.reports import gradescope, terminal

    root = Path(root)
    config = root / "source" / CONFIG
    try:
        settings = Settings.from_toml(config.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        print(f"grader: cannot read {config}: {exc}", file=sys.stderr)
        return 2
    cat = catalogue_mod.load()
    exercises = [e for e in cat if not settings.exercises or e.slug in settings.exercises]
    quota = cpu_quota()
    cpus = usable_cpus()
    jobs = grading_jobs(cpus, quota)
    shown = ", ".join(f"{k}={v}" for k, v in settings.visibility.settings().items())
    print(
        f"grader {grader.__version__} from {PACKAGE}, Python {sys.version.split()[0]}; "
        f"{cpus} CPU(s), cgroup quota {quota if quota else 'none'}; {jobs} exercise(s) at once; "
        f"{len(exercises)} exercise(s); visibility {shown}"
    )
    if check:
        return 0
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    target = results / "results.json"
    target.unlink(missing_ok=True)  # only this run's result may count
    _lock_down(root)
    try:
        files = read_submission(root / "submission", cat)
    except SubmissionError as exc:
        print(f"Not graded: {exc}")
        # Always visible: it tells the student how to fix the upload, nothing about the tests.
        data = gradescope.not_graded(str(exc))
        atomic.write_text(target, gradescope.dumps(data))
        return 0
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        copy = Path(tmp, "submission")  # in a folder of its own: the sandbox covers both
        copy.mkdir()
        for name, data in files.items():
            (copy / name).write_bytes(data)
        report = grade(
            copy, cat, only=[e.slug for e in exercises], seed=folder_seed(copy, exercises),
            jobs=jobs, isolation=isolation(),
        )  # fmt: skip
    terminal.render(report, Console(highlight=False))
    gradescope.write(report, target, settings.visibility)
    for err in report.grader_errors:
        print(f"grader fault: {err}")
    return 0
