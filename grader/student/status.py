"""``grader status``: every exercise's status from the remembered runs, and what is next.

Nothing is run: the statuses come from ``.grader/state.json`` and the files on
disk (:func:`grader.student.state.exercise_status`).
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.catalogue import Catalogue
from grader.reports.sanitize import one_line
from grader.student.state import exercise_status, load_state

_STYLES = {"solved": "green", "not started": "dim", "not run yet": "dim"}


def print_status(root: Path, cat: Catalogue, console: Console | None = None) -> None:
    """Print the table of statuses, then the next exercise and how to work on it."""
    console = console or Console(highlight=False)
    state = load_state(root)
    rows = [(ex, *exercise_status(root, ex, state)) for ex in cat]
    solved = sum(status == "solved" for _, status, _ in rows)
    waiting = sum(status == "not started" for _, status, _ in rows)
    title = f"{solved} of {len(cat)} exercises solved · {waiting} not started"
    table = Table(title=title, title_justify="left")
    for col in ("#", "exercise", "status", "visible tests"):
        table.add_column(col)
    for ex, status, count in rows:
        style = _STYLES.get(status, "yellow" if status.startswith("edited") else "red")
        mark = "✓ " if status == "solved" else ""
        table.add_row(f"{ex.order:02d}", ex.slug, Text(mark + status, style=style), count)
    console.print(table)
    console.print(
        Text("Statuses come from your last runs; plain `tox` runs everything.", style="dim")
    )
    nxt = next((ex for ex, status, _ in rows if status != "solved"), None)
    if nxt is None:
        return
    console.print(Text(f"Next: {nxt.stem}: {nxt.title}", style="bold"))
    first = (state.get(nxt.slug) or {}).get("first_failure")
    if first:
        console.print(Text(f"  last run: ✗ {one_line(first)}", style="red"))
    console.print(f"  Edit exercises/{nxt.module_file}, then run: tox -e check -- {nxt.slug}")
    console.print(f"  Stuck? A hint at a time: tox -e hint -- {nxt.slug}")
