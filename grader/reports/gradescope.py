"""Gradescope's ``results.json`` schema.

Top level: ``score``, ``execution_time``, ``output``, ``visibility``,
``tests[]``; each test: ``name``, ``number``, ``score``, ``max_score``,
``status``, ``output``, ``visibility``, ``tags``. Run metadata (seed, Python,
CPU count) goes in ``output`` and ``extra_data`` so a grade can be reproduced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.scoring import GradeReport


def test_entries(report: GradeReport) -> list[dict[str, Any]]:
    entries = []
    for ex in report.exercises:
        number = 0
        for cat in ex.categories.values():
            counted = [r for r in cat.results if r.outcome != "ungradable"]
            weight = sum(r.info.weight for r in counted) or 1.0
            for res in cat.results:
                number += 1
                share = cat.possible * res.info.weight / weight
                ungradable = res.outcome == "ungradable"
                entry = {
                    "name": f"{ex.exercise.slug} · {cat.category} · {res.info.title}",
                    "number": f"{ex.exercise.order}.{number}",
                    "score": 0.0
                    if ungradable
                    else round(share if res.outcome == "passed" else 0.0, 4),
                    "max_score": 0.0 if ungradable else round(share, 4),
                    "status": "passed" if res.outcome == "passed" else "failed",
                    "output": _output(res.outcome, res.diagnosis),
                    "visibility": "visible",
                    "tags": [ex.exercise.slug, cat.category],
                }
                entries.append(entry)
        if ex.error:
            entries.append(
                {
                    "name": f"{ex.exercise.slug} · grading",
                    "number": f"{ex.exercise.order}.0",
                    "score": 0.0,
                    "max_score": 0.0,
                    "status": "failed",
                    "output": ex.error,
                    "visibility": "visible",
                    "tags": [ex.exercise.slug, "grader-error"],
                }
            )
    return entries


def _output(outcome: str, diagnosis: str) -> str:
    if outcome == "passed":
        return diagnosis  # informational notes only (e.g. a measured speedup)
    if outcome == "ungradable":
        return f"Not graded on this machine: {diagnosis}"
    if outcome == "error":
        return f"Grader error (not your fault): {diagnosis}"
    return diagnosis


def to_dict(report: GradeReport) -> dict[str, Any]:
    meta = {
        "seed": report.seed,
        "python": report.python,
        "cpus": report.cpus,
        "race_mechanism": report.mechanism,
        "grader_version": report.grader_version,
    }
    output = (
        f"Graded {report.earned:g}/{report.possible:g} with grader {report.grader_version}, "
        f"Python {report.python}, {report.cpus} CPU(s), race seed {report.seed}."
    )
    if report.notices:
        output += "\n" + "\n".join(report.notices)
    return {
        "score": round(report.earned, 4),
        "execution_time": round(report.elapsed, 3),
        "output": output,
        "visibility": "visible",
        "tests": test_entries(report),
        "extra_data": meta,
    }


def write(report: GradeReport, path: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(to_dict(report), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
