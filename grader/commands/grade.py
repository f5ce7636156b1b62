"""``grader grade DIR``: grade one submission folder with the hidden tests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from grader import catalogue as catalogue_mod

if TYPE_CHECKING:
    from grader.results import ExerciseScore


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("grade", help="grade one submission folder with the hidden tests")
    p.add_argument("dir", help="a folder laid out like exercises/")
    p.add_argument("--json", metavar="FILE", help="write Gradescope's results.json to FILE")
    p.add_argument(
        "--visibility", action="append", default=[], metavar="SPEC",
        help="who sees each category's tests in --json, e.g. timing=after_published,stress=hidden "
        "(settings: visible, hidden, after_due_date, after_published; a bare setting is the "
        "default; default: visible)",
    )  # fmt: skip
    p.add_argument("--only", metavar="SLUGS", help="comma-separated exercises to grade")
    p.add_argument(
        "--seed", type=int, default=None,
        help="race amplifier seed (default: derived from the graded modules' content, so "
        "grading the same files again replays the same seed)",
    )  # fmt: skip
    p.add_argument("--jobs", type=int, default=None, help="exercises graded at once")
    p.add_argument(
        "--limit", action="append", default=[], metavar="NAME=N",
        help="override a sandbox limit of the catalogue, e.g. address_space_mb=2048 "
        "(address_space_mb, cpu_seconds, processes, file_size_mb, open_files, tmp_size_mb, "
        "work_size_mb)",
    )  # fmt: skip
    p.add_argument(
        "--no-isolation", action="store_true",
        help="run student code without the sandbox (trusted code and benchmarks only)",
    )  # fmt: skip
    p.add_argument(
        "--format", choices=("gradescope", "junit", "markdown", "csv"), default=None,
        help="also write this format (to --output, or standard output)",
    )  # fmt: skip
    p.add_argument("--output", "-o", metavar="FILE", help="where --format writes ('-': stdout)")
    p.add_argument(
        "--no-progress", action="store_true",
        help="print nothing while grading (default: a line per exercise on standard error, "
        "with a live bar on a terminal)",
    )  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from grader.grading.scoring import grade
    from grader.reports import gradescope, terminal

    submission = Path(args.dir)
    if not submission.is_dir():
        print(f"grader: {submission} is not a folder", file=sys.stderr)
        return 2
    cat = catalogue_mod.load()
    only = args.only.split(",") if args.only else None
    try:
        for slug in only or ():
            cat.get(slug)
    except KeyError as exc:
        print(f"grader: {exc.args[0]}", file=sys.stderr)
        return 2
    try:
        isolation = _isolation(args)
        visibility = gradescope.Visibility.parse(args.visibility)
    except ValueError as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    seed = args.seed
    if seed is None:
        from grader.grading.seeding import folder_seed

        seed = folder_seed(submission, [e for e in cat if only is None or e.slug in only])
    graded = [e for e in cat if only is None or e.slug in only]
    with GradeProgress(submission, len(graded), args.jobs, enabled=not args.no_progress) as shown:
        report = grade(
            submission, cat, only=only, seed=seed, jobs=args.jobs, isolation=isolation,
            on_exercise=shown.exercise_done,
        )  # fmt: skip
    to_stdout = bool(args.format) and args.output in (None, "-")
    terminal.render(report, Console(stderr=to_stdout))  # stdout may carry --format's output
    if args.json:
        gradescope.write(report, Path(args.json), visibility)
    if args.format:
        from grader.reports import formats

        if args.output and args.output != "-":
            formats.write(report, args.format, Path(args.output))
        else:
            sys.stdout.write(formats.render(report, args.format))
    if report.grader_errors:
        from grader.reports.sanitize import terminal_text, workflow_safe

        print("grader: some results could not be trusted (grader fault):", file=sys.stderr)
        for err in report.grader_errors:
            print(workflow_safe(f"  {terminal_text(err)}"), file=sys.stderr)
        return 3
    return 0


class GradeProgress:
    """Progress while grading, on standard error (standard output keeps the results).

    A line per exercise as it finishes, so grading is never silent; on a terminal,
    a live bar with the count, elapsed time and ETA below those lines (rich, as
    ``grader batch`` shows). Without a terminal the lines are plain text: no
    cursor movement in a CI log or a captured stream.
    """

    def __init__(self, submission: Path, total: int, jobs: int | None, *, enabled: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        from grader.machine import usable_cpus

        self.console = Console(stderr=True, highlight=False)
        self.enabled = enabled
        self.total = total
        self.jobs = min(jobs or usable_cpus(), max(total, 1))
        self.submission = submission
        self.bar = Progress(
            TextColumn("[bold]grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,  # the scorecard follows; the bar has done its job
            disable=not (enabled and _is_tty(sys.stderr)),
        )
        self.task = self.bar.add_task("grading", total=total)

    def __enter__(self) -> GradeProgress:
        from rich.text import Text

        from grader.reports.sanitize import terminal_text

        if self.enabled:
            what = terminal_text(str(self.submission))
            self.console.print(
                Text(f"Grading {self.total} exercise(s) of {what}, {self.jobs} at a time..."),
                soft_wrap=True,
            )
        self.bar.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.bar.stop()

    def exercise_done(self, score: ExerciseScore) -> None:
        """One exercise graded: its line, and the bar moves on (called from worker threads)."""
        if not self.enabled:
            return
        from rich.text import Text

        ex = score.exercise
        full = not score.error and score.earned_cents == score.possible_cents
        mark = Text("✓ ", style="green") if full else Text("✗ ", style="red")
        line = mark + Text(
            f"{ex.order:02d} {ex.slug}: {score.earned:g}/{score.possible:g} ({score.elapsed:.1f}s)"
        )
        self.console.print(line, soft_wrap=True)
        self.bar.advance(self.task)


def _is_tty(stream: object) -> bool:
    """A real terminal (``FORCE_COLOR`` may colour a pipe, but never moves its cursor)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _isolation(args: argparse.Namespace):
    from grader.grading.isolation import isolation
    from grader.sandbox.config import ResourceLimits

    overrides: dict = {}
    for item in args.limit:
        name, _, value = item.partition("=")
        if name not in ResourceLimits.names() or not value.isdigit():
            known = ", ".join(ResourceLimits.names())
            raise ValueError(f"--limit {item!r}: expected NAME=N with NAME one of {known}")
        overrides[name] = int(value)
    if args.no_isolation:
        overrides["enabled"] = False
    return isolation(**overrides)
