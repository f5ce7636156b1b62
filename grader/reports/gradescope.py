"""Gradescope's ``results.json`` schema.

Top level: ``score``, ``execution_time``, ``output``, ``visibility``,
``tests[]``; each test: ``name``, ``number``, ``score``, ``max_score``,
``status``, ``output``, ``visibility``, ``tags``. Run metadata (seed, Python,
CPU count) goes in ``output`` and ``extra_data`` so a grade can be reproduced.

Every ``output`` and ``name`` is declared plain text (``output_format``,
``test_output_format``, ``test_name_format``, and per test ``output_format``
and ``name_format``: Gradescope's default, ``simple_format``, passes some
HTML), and holds only printable characters (:mod:`grader.reports.sanitize`),
so a diagnosis quoting the student's values shows as written and acts as
nothing. ``json.dumps`` escapes every non-ASCII character.

Who sees what (:class:`Visibility`): each test's ``visibility`` comes from its
category (``grader grade --visibility timing=after_published,stress=hidden``);
the top-level one, which also covers the grader-error entries, is the default.
``stdout_visibility`` is always ``hidden``: the grader's log is for instructors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import atomic
from grader.reports.sanitize import json_text, plain
from grader.results import GradeReport

TEXT = "text"  # Gradescope shows it in a <pre>, escaped: no HTML, no Markdown
#: Gradescope's settings: never shown to students, shown once the due date (or the late
#: due date) has passed, shown once the instructor publishes the grades, always shown.
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


@dataclass(frozen=True)
class Visibility:
    """Who sees a test's result on Gradescope: a default, and a setting per category."""

    default: str = "visible"
    categories: Mapping[str, str] = field(default_factory=dict)

    def of(self, category: str) -> str:
        return self.categories.get(category, self.default)

    @classmethod
    def parse(cls, spec: str | list[str] | None) -> Visibility:
        """``"stress=hidden,timing=after_published"``; a bare setting is the default.

        Raises ValueError with a plain message on an unknown category or setting.
        """
        from grader.catalogue import CATEGORIES

        items = [spec] if isinstance(spec, str) else list(spec or [])
        default, categories = "visible", {}
        for part in (p.strip() for item in items for p in item.split(",")):
            if not part:
                continue
            name, sep, value = (x.strip() for x in part.rpartition("="))
            if value not in VISIBILITIES:
                known = ", ".join(VISIBILITIES)
                raise ValueError(f"visibility {part!r}: the setting must be one of {known}")
            if not sep:
                default = value
            elif name in CATEGORIES:
                categories[name] = value
            else:
                known = ", ".join(CATEGORIES)
                raise ValueError(f"visibility {part!r}: the category must be one of {known}")
        return cls(default, categories)

    def settings(self) -> dict[str, str]:
        """The default and every category's setting, spelled out (for a config file)."""
        from grader.catalogue import CATEGORIES

        return {"default": self.default, **{c: self.of(c) for c in CATEGORIES}}


def test_entry(
    *,
    name: str,
    number: str,
    score: float,
    max_score: float,
    passed: bool,
    output: str,
    visibility: str,
    tags: list[str],
) -> dict[str, Any]:
    """One entry of ``tests[]``: every text plain, and said to be."""
    return {
        "name": plain(name),
        "name_format": TEXT,
        "number": number,
        "score": score,
        "max_score": max_score,
        "status": "passed" if passed else "failed",
        "output": plain(output),
        "output_format": TEXT,
        "visibility": visibility,
        "tags": tags,
    }


def results(
    *,
    score: float,
    output: str,
    tests: list[dict[str, Any]],
    visibility: str,
    execution_time: float | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole of ``results.json``: the one place its top level is built."""
    data: dict[str, Any] = {"score": score}
    if execution_time is not None:
        data["execution_time"] = execution_time
    data |= {
        "output": plain(output),
        "output_format": TEXT,
        "test_output_format": TEXT,
        "test_name_format": TEXT,
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if extra is not None:
        data["extra_data"] = extra
    return data


def test_entries(report: GradeReport, visibility: Visibility | None = None) -> list[dict[str, Any]]:
    visibility = visibility or Visibility()
    entries = []
    for ex in report.exercises:
        number = 0
        for cat in ex.categories.values():
            for test in cat.tests:  # each test's points, apportioned by grader.grading.scoring
                res = test.result
                number += 1
                entries.append(
                    test_entry(
                        name=f"{ex.exercise.slug} · {cat.category} · {res.info.title}",
                        number=f"{ex.exercise.order}.{number}",
                        score=test.earned,
                        max_score=test.possible,
                        passed=res.outcome == "passed",
                        output=_output(res.outcome, res.diagnosis),
                        visibility=visibility.of(cat.category),
                        tags=[ex.exercise.slug, cat.category],
                    )
                )
        if ex.error:
            entries.append(
                test_entry(
                    name=f"{ex.exercise.slug} · grading",
                    number=f"{ex.exercise.order}.0",
                    score=0.0,
                    max_score=ex.unallocated,  # the points no test holds (none ran)
                    passed=False,
                    output=ex.error,
                    visibility=visibility.default,
                    tags=[ex.exercise.slug, "grader-error"],
                )
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


def to_dict(report: GradeReport, visibility: Visibility | None = None) -> dict[str, Any]:
    visibility = visibility or Visibility()
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
    return results(
        score=round(report.earned, 4),
        execution_time=round(report.elapsed, 3),
        output=output,
        tests=test_entries(report, visibility),
        visibility=visibility.default,
        extra=meta,
    )


def write(report: GradeReport, path: Path, visibility: Visibility | None = None) -> None:
    """Write atomically: a reader never sees half a file."""
    atomic.write_text(Path(path), dumps(to_dict(report, visibility)))


def dumps(data: dict[str, Any]) -> str:
    """results.json text: ASCII only (every other character escaped), so always valid."""
    return json_text(data)


def not_graded(reason: str, visibility: Visibility | None = None) -> dict[str, Any]:
    """results.json of a submission that could not be graded (the reason says why)."""
    visibility = visibility or Visibility()
    return results(
        score=0.0, output=f"Not graded: {reason}", tests=[], visibility=visibility.default
    )
