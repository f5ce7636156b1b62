"""``grader list``: read the catalogue (``grader hint`` is in :mod:`grader.commands.student`)."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from grader import catalogue as catalogue_mod


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the exercises")
    p.set_defaults(func=run_list)


def run_list(args: argparse.Namespace) -> int:
    table = Table(title="Exercises", title_justify="left")
    for col in ("#", "slug", "title", "points"):
        table.add_column(col)
    for ex in catalogue_mod.load():
        table.add_row(str(ex.order), ex.slug, ex.title, f"{ex.max_points:g}")
    Console().print(table)
    return 0
