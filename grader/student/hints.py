"""``grader hint``: one more hint of an exercise per call, remembered in ``.grader/hints.json``.

``--all`` shows every hint at once. Hints already seen are printed dim, the new
one plain, so a student sees at a glance what this call added.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.text import Text

from grader.catalogue import Exercise
from grader.student.state import read_json_object, state_dir, write_json


def reveal(root: Path, ex: Exercise, show_all: bool = False) -> tuple[int, int]:
    """Record one more hint of ``ex`` as seen (every one with ``show_all``);
    return (hints seen before, hints to show now)."""
    path = state_dir(root) / "hints.json"
    seen = read_json_object(path)
    before = seen.get(ex.slug)
    before = min(before, len(ex.hints)) if isinstance(before, int) and before > 0 else 0
    shown = len(ex.hints) if show_all else min(before + 1, len(ex.hints))
    seen[ex.slug] = max(before, shown)
    write_json(path, seen)
    return before, shown


def print_hints(root: Path, ex: Exercise, show_all: bool = False) -> None:
    """Print the hints of ``ex`` seen so far plus the next one, and how to get more."""
    console = Console(highlight=False)
    if not ex.hints:
        console.print(f"{ex.stem} has no hints.")
        return
    before, shown = reveal(root, ex, show_all)
    console.print(Text(f"Hints for {ex.stem}: {ex.title}", style="bold"))
    for number, hint in enumerate(ex.hints[:shown], 1):
        new = number > before or show_all
        console.print(Text(f"  {number}. {hint}", style="" if new else "dim"))
    left = len(ex.hints) - shown
    if left:
        more = "1 more hint" if left == 1 else f"{left} more hints"
        console.print(f"{more}. The next one:  tox -e hint -- {ex.slug}", soft_wrap=True)
        console.print(
            f"{' ' * len(more)}  All of them:   tox -e hint -- {ex.slug} --all", soft_wrap=True
        )
    else:
        console.print(f"That is every hint for {ex.slug}.")
