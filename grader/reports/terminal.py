"""The terminal scorecard: points per exercise and category, one line per failure.

Text the grader did not write goes through
:func:`grader.reports.sanitize.terminal_text` and is printed as ``rich.text.Text``
(never parsed as markup); the rendered output then goes through
:func:`~grader.reports.sanitize.workflow_safe`, so no line of it, however the
console wrapped it, is a GitHub Actions workflow command.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.catalogue import CATEGORIES
from grader.reports.sanitize import terminal_text, workflow_safe
from grader.results import GradeReport


def _cell(earned: float, possible: float, ungradable: bool) -> str:
    if ungradable:
        return "[yellow]n/a[/]"
    if possible == 0:
        return "-"
    colour = "green" if earned >= possible else ("red" if earned == 0 else "yellow")
    return f"[{colour}]{earned:g}/{possible:g}[/]"


def render(report: GradeReport, console: Console | None = None) -> None:
    console = console or Console()
    with console.capture() as captured:
        _render(report, console)
    console.file.write(workflow_safe(captured.get()))
    console.file.flush()


def _render(report: GradeReport, console: Console) -> None:
    title = Text(f"Scorecard: {terminal_text(report.submission)}")
    table = Table(title=title, title_justify="left")
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
            str(ex.exercise.order),
            Text(terminal_text(ex.exercise.slug)),
            *cells,
            f"{ex.earned:g}/{ex.possible:g}",
        )
    console.print(table)
    for ex in report.exercises:
        if ex.error:
            line = Text(f"✗ {terminal_text(f'{ex.exercise.slug}: {ex.error}')}", style="red")
            console.print(line, highlight=False)
        for res in ex.failures():
            label = "grader error" if res.outcome == "error" else res.info.category
            line = Text("✗ ", style="red")
            line.append(
                terminal_text(f"{ex.exercise.slug} [{label}] {res.info.title}: {res.diagnosis}")
            )
            console.print(line, highlight=False)
    run = (
        f"(Python {report.python}, {report.cpus} CPU(s), race amplifier: {report.mechanism}, "
        f"seed {report.seed}, {report.elapsed:.1f}s)"
    )
    total = (f"Total {report.earned:g}/{report.possible:g}", "bold")
    console.print(Text.assemble(total, "  ", terminal_text(run)), highlight=False)
    for notice in report.notices:
        note = Text.assemble(("note:", "yellow"), " ", terminal_text(notice))
        console.print(note, highlight=False)
