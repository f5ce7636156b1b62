"""``grader list`` and ``grader hint SLUG``: read the catalogue."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

from grader import catalogue as catalogue_mod


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the exercises")
    p.set_defaults(func=run_list)
    p = sub.add_parser("hint", help="show the hints of an exercise")
    p.add_argument("slug")
    p.set_defaults(func=run_hint)


def run_list(args: argparse.Namespace) -> int:
    table = Table(title="Exercises", title_justify="left")
    for col in ("#", "slug", "title", "points"):
        table.add_column(col)
    for ex in catalogue_mod.load():
        table.add_row(str(ex.order), ex.slug, ex.title, f"{ex.max_points:g}")
    Console().print(table)
    return 0


def run_hint(args: argparse.Namespace) -> int:
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
