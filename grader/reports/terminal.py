"""The terminal scorecard: points per exercise and category, one line per failure."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.catalogue import CATEGORIES
from grader.scoring import GradeReport


def _cell(earned: float, possible: float, ungradable: bool) -> str:
    if ungradable:
        return "[yellow]n/a[/]"
    if possible == 0:
        return "-"
    colour = "green" if earned >= possible else ("red" if earned == 0 else "yellow")
    return f"[{colour}]{earned:g}/{possible:g}[/]"


def render(report: GradeReport, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"Scorecard: {report.submission}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("exercise")
    for category in CATEGORIES:
        table.add_column(category, justify="center")
    table.add_column("total", justify="right")
    for ex in report.exercises:
        cells = [
            _cell(c.earned, c.possible, c.ungradable)
            for c in (ex.categories[k] for k in CATEGORIES)
        ]
        table.add_row(
            str(ex.exercise.order), ex.exercise.slug, *cells, f"{ex.earned:g}/{ex.possible:g}"
        )
    console.print(table)
    for ex in report.exercises:
        if ex.error:
            console.print(Text(f"✗ {ex.exercise.slug}: {ex.error}", style="red"), highlight=False)
        for res in ex.failures():
            label = "grader error" if res.outcome == "error" else res.info.category
            line = Text("✗ ", style="red")
            line.append(f"{ex.exercise.slug} [{label}] {res.info.title}: {res.diagnosis}")
            console.print(line, highlight=False)
    console.print(
        f"[bold]Total {report.earned:g}/{report.possible:g}[/]  "
        f"(Python {report.python}, {report.cpus} CPU(s), race amplifier: {report.mechanism}, "
        f"seed {report.seed}, {report.elapsed:.1f}s)",
        highlight=False,
    )
    for notice in report.notices:
        console.print(f"[yellow]note:[/] {notice}", highlight=False)
