"""Markdown feedback for a student: the scorecard, then every failure with its diagnosis."""

from __future__ import annotations

from grader.catalogue import CATEGORIES
from grader.scoring import GradeReport


def _cell(earned: float, possible: float, ungradable: bool) -> str:
    if ungradable:
        return "n/a"
    return "–" if possible == 0 else f"{earned:g}/{possible:g}"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: GradeReport, title: str | None = None) -> str:
    lines = [
        f"# {title or 'Grade'}: {report.earned:g}/{report.possible:g}",
        "",
        "| # | exercise | " + " | ".join(CATEGORIES) + " | total |",
        "| ---: | --- | " + " | ".join(":---:" for _ in CATEGORIES) + " | ---: |",
    ]
    for ex in report.exercises:
        cells = [
            _cell(c.earned, c.possible, c.ungradable)
            for c in (ex.categories[k] for k in CATEGORIES)
        ]
        lines.append(
            f"| {ex.exercise.order} | `{ex.exercise.slug}` | "
            + " | ".join(cells)
            + f" | {ex.earned:g}/{ex.possible:g} |"
        )
    problems = []
    for ex in report.exercises:
        if ex.error:
            problems.append(f"- **{ex.exercise.slug}** (grading): {_escape(ex.error)}")
        for res in ex.failures():
            label = "grader error, not your fault" if res.outcome == "error" else res.info.category
            problems.append(
                f"- **{ex.exercise.slug}** [{label}] {_escape(res.info.title)}: "
                f"{_escape(res.diagnosis)}"
            )
    lines += ["", "## What to fix", ""]
    lines += problems or ["Nothing: every hidden test passed."]
    ungradable = [
        f"- **{ex.exercise.slug}** {_escape(r.info.title)}: {_escape(r.diagnosis)}"
        for ex in report.exercises
        for c in ex.categories.values()
        for r in c.results
        if r.outcome == "ungradable"
    ]
    if ungradable:
        lines += ["", "## Not graded on this machine (left out of the maximum)", "", *ungradable]
    lines += [
        "",
        f"_Grader {report.grader_version}, Python {report.python}, {report.cpus} CPU(s), "
        f"race amplifier {report.mechanism}, seed {report.seed}, {report.elapsed:.1f}s._",
    ]
    lines += [f"> note: {n}" for n in report.notices]
    return "\n".join(lines) + "\n"
