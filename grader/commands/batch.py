"""``grader batch CLASS_DIR --out OUT``: grade a whole class (see :mod:`grader.batch.classroom`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="grade a class: one folder or .zip per student; resumable; class report",
    )
    p.add_argument("class_dir", help="one sub-folder (or .zip) per student")
    p.add_argument("--out", required=True, help="the output folder (re-runs resume there)")
    p.add_argument(
        "--workers", type=int, default=None,
        help="submissions graded at once (default: usable CPUs; each grades one exercise "
        "at a time)",
    )  # fmt: skip
    p.add_argument("--only", metavar="SLUGS", help="comma-separated exercises to grade")
    p.add_argument(
        "--format", action="append", default=[], metavar="FMT",
        help="extra per-student files: junit, csv (gradescope and markdown are always "
        "written); repeat or comma-separate",
    )  # fmt: skip
    p.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    p.add_argument(
        "--seed", type=int, default=None,
        help="race seed for everyone (default: derived from each submission's content)",
    )  # fmt: skip
    p.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT",
        help="grade on a Dask distributed cluster (pip install '.[dask]'); start workers "
        "with --nthreads 1 (each grades one submission at a time in any case)",
    )  # fmt: skip
    p.add_argument("--no-progress", action="store_true", help="no live progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    from grader.batch.classroom import ClassFolderError, run_batch
    from grader.batch.executors import dask_executor
    from grader.batch.inputs import printable
    from grader.catalogue import load
    from grader.reports import formats

    console = Console(stderr=True)
    class_dir = Path(args.class_dir)
    if not class_dir.is_dir():
        print(f"grader: {class_dir} is not a folder", file=sys.stderr)
        return 2
    only = [s for s in args.only.split(",") if s] if args.only else None
    try:
        for slug in only or ():
            load().get(slug)
        formats.parse(args.format)
    except (KeyError, ValueError) as exc:
        print(f"grader: {exc.args[0]}", file=sys.stderr)
        return 2
    executor, close, workers = None, None, args.workers
    if args.scheduler:
        executor, found, close = dask_executor(args.scheduler)
        workers = workers or found
    bar = Progress(
        TextColumn("[bold]grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}", style="dim"),  # escaped: names are not markup
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=args.no_progress,
    )
    task = bar.add_task("grading", total=None, last="")

    def progress(done: int, total: int, student: str) -> None:
        if not student:  # the start: resumed submissions are done already, and the ETA
            bar.reset(task, total=total, completed=done, last="")  # uses this run's pace only
        else:
            bar.update(task, completed=done, last=escape(student))

    try:
        with bar:
            result = run_batch(
                class_dir, Path(args.out), workers=workers, executor=executor, only=only,
                seed=args.seed, force=args.force, extra_formats=args.format, progress=progress,
            )  # fmt: skip
    except ClassFolderError as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    finally:
        if close:
            close()
    s = result.summary
    errors = sum(bool(r.get("error")) for r in result.records)
    # Names and reasons come from the class folder: printed as text, never as rich markup.
    console.print(
        Text(
            f"{len(result.records)} submissions: {len(result.graded)} graded now, "
            f"{len(result.skipped)} unchanged (kept), {errors} not gradable, "
            f"{len(s.get('not_started', []))} not started; "
            f"mean {s['mean']}/{s['possible']} in {result.wall:.1f}s -> "
            f"{printable(str(result.out))}/grades.csv, summary.json, report.html"
        ),
        highlight=False,
        soft_wrap=True,  # one line each, whatever the width: easy to search
    )
    for rec in result.records:
        if rec.get("error"):
            name, sid = rec.get("submitted_as", ""), rec["student"]
            shown = sid if name in ("", sid) else f"{sid} (submitted as {name})"
            line = Text("✗ ", style="red") + Text(printable(f"{shown}: {rec['error']}"))
            console.print(line, highlight=False, soft_wrap=True)
    if result.interrupted:
        console.print("[yellow]interrupted[/]: run the same command again to finish the rest")
        return 130
    return 0
