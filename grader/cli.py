"""The ``grader`` command line (also ``python -m grader``).

grader grade DIR [--json FILE]   grade a folder laid out like exercises/
grader list                      the exercises, in order, with their points
grader hint SLUG                 the hints of one exercise
grader dev check [SLUG...]       the pack's self-check (maintainers)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from grader import catalogue as catalogue_mod


def _cmd_grade(args: argparse.Namespace) -> int:
    from grader.reports import gradescope, terminal
    from grader.scoring import grade

    submission = Path(args.dir)
    if not submission.is_dir():
        print(f"grader: {submission} is not a folder", file=sys.stderr)
        return 2
    cat = catalogue_mod.load()
    only = args.only.split(",") if args.only else None
    if only:
        for slug in only:
            cat.get(slug)  # a clear error for a mistyped slug
    report = grade(submission, cat, only=only, seed=args.seed, jobs=args.jobs)
    terminal.render(report, Console(stderr=False))
    if args.json:
        gradescope.write(report, Path(args.json))
    if report.grader_errors:
        print("grader: some results could not be trusted (grader fault):", file=sys.stderr)
        for err in report.grader_errors:
            print(f"  {err}", file=sys.stderr)
        return 3
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from rich.table import Table

    table = Table(title="Exercises", title_justify="left")
    for col in ("#", "slug", "title", "points"):
        table.add_column(col)
    for ex in catalogue_mod.load():
        table.add_row(str(ex.order), ex.slug, ex.title, f"{ex.max_points:g}")
    Console().print(table)
    return 0


def _cmd_hint(args: argparse.Namespace) -> int:
    try:
        ex = catalogue_mod.load().get(args.slug)
    except KeyError as exc:
        print(f"grader: {exc.args[0]}", file=sys.stderr)
        return 2
    console = Console()
    console.print(f"[bold]Hints for {ex.order:02d} {ex.slug}[/]: {ex.title}", highlight=False)
    for i, hint in enumerate(ex.hints, 1):
        console.print(f"  {i}. {hint}", highlight=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("grade", help="grade one submission folder with the hidden tests")
    p.add_argument("dir", help="a folder laid out like exercises/")
    p.add_argument("--json", metavar="FILE", help="write Gradescope's results.json to FILE")
    p.add_argument("--only", metavar="SLUGS", help="comma-separated exercises to grade")
    p.add_argument("--seed", type=int, default=None, help="race amplifier seed (to replay)")
    p.add_argument("--jobs", type=int, default=None, help="exercises graded at once")
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser("list", help="list the exercises")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("hint", help="show the hints of an exercise")
    p.add_argument("slug")
    p.set_defaults(func=_cmd_hint)
    p = sub.add_parser("dev", help="pack maintainers' commands")
    dev = p.add_subparsers(dest="dev_command", required=True)
    d = dev.add_parser(
        "check", help="self-check exercises: stubs fail, solutions pass, mutants caught"
    )
    d.add_argument("slugs", nargs="*", help="exercises to check (default: all)")
    d.set_defaults(func=_cmd_dev_check)
    d = dev.add_parser("readme", help="regenerate the README's exercise table from the catalogue")
    d.set_defaults(func=_cmd_dev_readme)
    return parser


def _cmd_dev_readme(args: argparse.Namespace) -> int:
    from grader.selftests.devcheck import ROOT
    from grader.selftests.readme_table import rewrite

    changed = rewrite(ROOT / "README.md", catalogue_mod.load())
    print("README.md updated" if changed else "README.md already up to date")
    return 0


def _cmd_dev_check(args: argparse.Namespace) -> int:
    from grader.selftests.devcheck import main as dev_main

    return dev_main(args.slugs, catalogue_mod.load())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
