"""The progress summary at the end of a visible-test run, like rustlings: one exercise
in focus (the first one not solved) with its failures grouped (each distinct failure
once), a one-line progress summary, and last the advice: the next exercise, its first
failure, where to look, and the commands to re-run it and to get a hint. It also
reminds students that the grade adds hidden tests, so "all visible tests pass" is
never mistaken for a full grade.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from grader.catalogue import Exercise
from grader.reports.sanitize import terminal_text
from grader.student.failures import indent, render_failure
from grader.student.outcomes import Tally, TestOutcome

REMINDER = (
    "Remember: the grade adds hidden tests (more inputs, timing under load, races "
    "amplified), so passing the visible tests is necessary, not sufficient. "
    "Run `tox -e race` to hunt races locally."
)

# The commands messages suggest: the student pack's tox envs (``grader check`` loads the
# student plugin), or plain pytest with the student plugin's ``--progress`` elsewhere.
PACK_COMMANDS = {
    "check": "tox -e check -- {slug}",
    "long": "tox -e check -- {slug} --tb=long",
    "hint": "tox -e hint -- {slug}",
}
PYTEST_COMMANDS = {
    "check": "pytest {test} -p grader.student.plugin --progress",
    "long": "pytest {test} -p grader.student.plugin --progress --tb=long",
    "hint": "grader hint {slug}",
}


def pytest_commands(ex: Exercise) -> dict[str, str]:
    """:data:`PYTEST_COMMANDS` for one exercise."""
    test = f"tests/{ex.test_file}"
    return {k: v.format(slug=ex.slug, test=test) for k, v in PYTEST_COMMANDS.items()}


SHOWN_GROUPS = 5  # distinct failures shown for the exercise in focus; the rest by name


def group_failures(tests: list[TestOutcome]) -> list[list[TestOutcome]]:
    """Failed tests grouped by message, first seen first: a module that does not import
    fails every test the same way, and is shown once."""
    groups: dict[str, list[TestOutcome]] = {}
    for t in tests:
        if t.outcome == "failed":
            groups.setdefault(t.message, []).append(t)
    return list(groups.values())


def render_errors(errors: list[tuple[str, str]], console: Console, limit: int = 40) -> None:
    """Failures outside the exercises' tests (a test file that does not import, say)."""
    for where, text in errors:
        lines = terminal_text(text).splitlines()
        if len(lines) > limit:
            lines = [*lines[: limit // 2], "…", *lines[-limit // 2 :]]
        console.print(Text(f"✗ error in {terminal_text(where)}", style="red bold"))
        console.print(Text(indent("\n".join(lines), "  ")))


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def render_progress(
    exercises: list[Exercise],
    tallies: dict[str, Tally],
    console: Console,
    commands: Callable[[Exercise], dict[str, str]] | None = None,
    show_failures: bool = True,
    race: bool = False,
    not_started: int = 0,
) -> Text:
    """Print the exercise in focus (the first unsolved one: its failures, grouped) and a
    short summary; return the advice, for the caller to print last."""
    commands = commands or pytest_commands
    ran = [e for e in exercises if e.slug in tallies]
    solved = [e for e in ran if not tallies[e.slug].failed and tallies[e.slug].passed]
    pending = [e for e in ran if e not in solved]
    passed = sum(t.passed for t in tallies.values())
    total = sum(t.total for t in tallies.values())
    partial = 0 < len(ran) < len(exercises)  # `tox -e check -- SLUG`: only what ran
    focus = pending[0] if pending else None
    if focus is not None and show_failures:
        cmds = commands(focus)
        tally = tallies[focus.slug]
        console.print(
            Text(f"── {focus.stem}: {focus.title} ", style="bold").append("─" * 20, style="dim")
        )
        groups = group_failures(tally.tests)
        for group in groups[:SHOWN_GROUPS]:
            console.print(Text(render_failure(group[0]), style="red"))
            if len(group) > 1:
                others = ", ".join(t.name for t in group[1:])
                console.print(Text(f"  (the same failure in {len(group) - 1} more: {others})"))
        rest = [g[0].name for g in groups[SHOWN_GROUPS:]]
        if rest:
            console.print(Text(f"✗ also failing: {', '.join(rest)}", style="red"))
        console.print(Text(f"(For pytest's full traceback: {cmds['long']})", style="dim"))
    mode = " · races amplified" if race else ""
    waiting = f" · {not_started} not started" if not_started else ""
    if partial:
        names = ", ".join(f"{e.slug} {tallies[e.slug].passed}/{tallies[e.slug].total}" for e in ran)
        console.print(Text(f"Visible tests passed: {names}{mode}", style="bold"))
    else:
        console.print(
            Text(
                f"Progress: {_bar(len(solved), len(exercises))} {len(solved)} of "
                f"{len(exercises)} exercises solved{waiting} · visible tests {passed}/{total}"
                f"{mode}",
                style="bold",
            )
        )
    if ran:
        reminder = REMINDER if not race else REMINDER.split(" Run `tox -e race`")[0]
        console.print(Text(reminder, style="dim"))
    return advice(focus, tallies, commands, ran, exercises, partial)


def advice(
    focus: Exercise | None,
    tallies: dict[str, Tally],
    commands: Callable[[Exercise], dict[str, str]],
    ran: list[Exercise],
    exercises: list[Exercise],
    partial: bool,
) -> Text:
    """What to do next: the exercise in focus, its first failure, where, and how to go on."""
    text = Text()
    if focus is None:
        if not ran:
            return text
        if partial:
            names = ", ".join(e.slug for e in ran)
            more = "" if len(ran) == len(exercises) else " Plain `tox` shows the next exercise."
            text.append(f"✓ {names}: every visible test passes.{more}", style="green bold")
        else:
            text.append("Every visible test passes. Well done!", style="green bold")
        return text
    cmds = commands(focus)
    first = tallies[focus.slug].first_failure()
    name, message = tallies[focus.slug].failed[0]
    where = f"{first.file}:{first.line}" if first and first.file else focus.module_file
    text.append(f"Next: {focus.stem}: {focus.title}\n", style="bold")
    text.append(f"  ✗ {name}: {message}\n", style="red")
    text.append(f"  Look at {where}\n")
    text.append(f"  Edit exercises/{focus.module_file}, then run: {cmds['check']}\n")
    text.append(f"  Stuck? A hint at a time: {cmds['hint']}")
    return text
