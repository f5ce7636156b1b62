"""``grader grade DIR``: grade one submission folder with the hidden tests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from grader import catalogue as catalogue_mod


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("grade", help="grade one submission folder with the hidden tests")
    p.add_argument("dir", help="a folder laid out like exercises/")
    p.add_argument("--json", metavar="FILE", help="write Gradescope's results.json to FILE")
    p.add_argument("--only", metavar="SLUGS", help="comma-separated exercises to grade")
    p.add_argument("--seed", type=int, default=None, help="race amplifier seed (to replay)")
    p.add_argument("--jobs", type=int, default=None, help="exercises graded at once")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from grader.reports import gradescope, terminal
    from grader.scoring import grade

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
    report = grade(submission, cat, only=only, seed=args.seed, jobs=args.jobs)
    terminal.render(report, Console())
    if args.json:
        gradescope.write(report, Path(args.json))
    if report.grader_errors:
        print("grader: some results could not be trusted (grader fault):", file=sys.stderr)
        for err in report.grader_errors:
            print(f"  {err}", file=sys.stderr)
        return 3
    return 0
