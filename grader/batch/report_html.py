"""The class report: one self-contained HTML file with inline SVG plots (no script, no CDN).

Plots: the score distribution; per-exercise full-marks rates; per-exercise and
per-category test pass rates (a heat map); the most frequent diagnoses with
counts and example students; the slowest and fastest timing ratios (wall time
÷ the sequential time of the simulated I/O: its known delays one after another,
so 1 means no overlap). Every plot is a ``<figure class="plot">`` holding an
``<svg>`` (:mod:`grader.batch.svg_plots`); hovering a bar shows its exact value. Then the
students who need help (below half marks, or not started), lowest first, and
every student, each linked to their ``feedback.md``.

Every text goes through :func:`grader.reports.sanitize.html_text` (escaped, no
control characters); the page's Content-Security-Policy allows no script at all.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Collection
from typing import Any
from urllib.parse import quote

from grader.batch.class_files import NOT_STARTED, attempts, started_tests, status
from grader.batch.svg_plots import hbars, heatmap, histogram
from grader.catalogue import CATEGORIES
from grader.reports.sanitize import html_text

STRUGGLING = 0.5  # below this share of the possible points, a student needs help


def _e(text: object) -> str:
    return html_text(text)


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;
max-width:820px;color:#111;background:#fff}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin:28px 0 6px}
.meta,.small,.note{color:#555;font-size:12px}svg text{font-size:12px;fill:#222}
svg text.small{font-size:11px;fill:#555}figure{margin:8px 0 18px}
figcaption{color:#444;font-size:13px;margin-bottom:4px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
td.num,th.num{text-align:right}.kpi{display:flex;gap:18px;margin:12px 0}
.kpi div{background:#f4f4f5;border-radius:6px;padding:8px 12px}
.kpi b{display:block;font-size:20px}.error{color:#b91c1c}
"""


def _ratio_bars(items: list[tuple[str, float, str]], vmax: float, colour: str, which: str) -> str:
    return hbars(items, vmax, fmt="{:.2f}×", colour=colour, label=f"{which} timing ratios")


def _total(record: dict[str, Any]) -> str:
    return f"{record['earned']:g}" if record["status"] == "graded" else ""


def _share(record: dict[str, Any]) -> float:
    """The share of the possible points (0 when not graded)."""
    possible = record.get("possible")
    return record["earned"] / possible if record["status"] == "graded" and possible else 0.0


def _student(record: dict[str, Any], feedback: Collection[str] | None) -> str:
    """The student's id, linked to ``<id>/feedback.md`` (relative, next to this report)."""
    name, folder = _e(record["student"]), quote(record["student"], safe="", errors="replace")
    if folder in ("", ".", "..") or (feedback is not None and record["student"] not in feedback):
        return name
    return f'<a href="{_e(folder)}/feedback.md">{name}</a>'


def _struggling(records: list[dict[str, Any]], feedback: Collection[str] | None) -> str:
    """Graded students below :data:`STRUGGLING`, and those not started, lowest first."""
    needing = [
        r for r in records
        if status(r) == NOT_STARTED or (status(r) == "graded" and _share(r) < STRUGGLING)
    ]  # fmt: skip
    needing.sort(key=lambda r: (_share(r), r["student"]))
    if not needing:
        return f"<p class='empty'>Every graded student has at least {STRUGGLING:.0%}.</p>"
    rows = "".join(
        f"<tr><td>{_student(r, feedback)}</td><td>{_e(status(r))}</td>"
        f"<td class='num'>{_total(r)}/{r['possible']:g}</td><td class='num'>{_share(r):.0%}</td>"
        f"<td>{_e(', '.join(r.get('not_started') or []))}</td></tr>"
        for r in needing
    )
    return (
        "<table id='struggling'><tr><th>student</th><th>status</th><th class='num'>total</th>"
        f"<th class='num'>share</th><th>not started</th></tr>{rows}</table>"
    )


def _figure(fid: str, caption: str, body: str) -> str:
    return f'<figure class="plot" id="{fid}"><figcaption>{_e(caption)}</figcaption>{body}</figure>'


def render(
    records: list[dict[str, Any]],
    summary: dict[str, Any],
    slugs: list[str],
    feedback: Collection[str] | None = None,
) -> str:
    """The page; ``feedback``: the students whose ``feedback.md`` exists (None: all)."""
    graded = attempts(records)
    percents = [r["earned"] / r["possible"] for r in graded if r.get("possible")]
    possible = summary.get("possible")
    kpis = [
        ("students", summary["students"]),
        ("graded", summary["graded"]),
        ("not started", len(summary.get("not_started", []))),
        ("not graded", len(summary["errors"]) + len(summary["pending"])),
        ("mean", f"{summary['mean']:g}/{possible:g}" if summary.get("mean") is not None else "–"),
        ("median", f"{summary['median']:g}" if summary.get("median") is not None else "–"),
    ]
    body = [
        f"<h1>Class report</h1><p class='meta'>{len(records)} submissions · "
        f"exercises: {_e(', '.join(slugs))} · grader {_e(summary['grader_version'])} · "
        f"generated {_e(time.strftime('%Y-%m-%d %H:%M'))}</p>",
        '<div class="kpi">'
        + "".join(f"<div><b>{_e(v)}</b>{_e(k)}</div>" for k, v in kpis)
        + "</div>",
        "<h2>Score distribution</h2>",
        _figure("plot-distribution", "Students by total score", histogram(percents)),
    ]
    # Per exercise: full marks, and test pass rates per category.
    ex = summary["exercises"]
    full = []
    for s in (s for s in slugs if s in ex):
        n = ex[s].get("students", len(graded))
        tip = f"{s}: {ex[s]['full_marks']} of {n} students who started it with full marks"
        full.append((s, ex[s]["full_marks"] / max(1, n), tip))
    body += [
        "<h2>Per exercise</h2>",
        _figure(
            "plot-exercises",
            "Students with full marks, per exercise",
            hbars(full, 1.0, label="full marks per exercise"),
        ),
    ]
    rates = {s: ex[s]["test_pass_rate"] for s in slugs if s in ex}
    body.append(
        _figure(
            "plot-categories",
            "Share of hidden tests passed, per exercise and category",
            heatmap(slugs, rates),
        )
    )
    cat_items = []
    for cat in CATEGORIES:
        passed = total = 0
        for r in graded:
            for t in started_tests(r):
                if t["category"] == cat and t["outcome"] != "ungradable":
                    passed += t["outcome"] == "passed"
                    total += 1
        if total:
            cat_items.append((cat, passed / total, f"{cat}: {passed} of {total} tests passed"))
    body.append(
        _figure(
            "plot-category-totals",
            "Share of hidden tests passed, per category (whole class)",
            hbars(cat_items, 1.0, label="pass rate per category"),
        )
    )
    # Diagnoses.
    diags = summary["diagnoses"]
    top = max((d["students"] for d in diags), default=1)
    items = [
        (
            d["diagnosis"],
            d["students"],
            f"{d['students']} student(s), {d['count']} test(s) — e.g. {', '.join(d['examples'])}",
        )
        for d in diags[:12]
    ]
    rows = "".join(
        f"<tr><td class='num'>{d['students']}</td><td class='num'>{d['count']}</td>"
        f"<td>{_e(d['example'])}</td><td>{_e(', '.join(d['examples']))}</td></tr>"
        for d in diags[:12]
    )
    body += [
        "<h2>Most frequent diagnoses</h2>",
        _figure(
            "plot-diagnoses",
            "Students by diagnosis of a failed test (numbers and quoted values grouped)",
            hbars(items, top, fmt="{:g}", colour="#ef4444", label="most frequent diagnoses"),
        ),
        "<table><tr><th class='num'>students</th><th class='num'>tests</th>"
        f"<th>diagnosis (example)</th><th>example students</th></tr>{rows}</table>",
    ]
    # Timing ratios: every graded record's, untouched stubs included (marked), so a
    # serialised submission shows among the slowest.
    ratios = [
        (
            r["student"],
            t["exercise"] + (" (stub)" if t["exercise"] in (r.get("not_started") or ()) else ""),
            t["title"],
            t["ratio"],
        )
        for r in records
        if r["status"] == "graded"
        for t in r["tests"]
        if t.get("ratio") is not None
    ]
    ratios.sort(key=lambda x: x[3])
    body.append("<h2>Timing ratios (wall time ÷ sequential time; 1 = no overlap)</h2>")
    if ratios:
        slow = [
            (f"{s} · {ex_}", v, f"{s} · {ex_} · {title}: {v:g}× the sequential time")
            for s, ex_, title, v in reversed(ratios[-10:])
        ]
        fast = [
            (f"{s} · {ex_}", v, f"{s} · {ex_} · {title}: {v:g}× the sequential time")
            for s, ex_, title, v in ratios[:10]
        ]
        vmax = max(v for *_, v in ratios)
        body += [
            _figure("plot-slowest", "Slowest", _ratio_bars(slow, vmax, "#f59e0b", "slowest")),
            _figure("plot-fastest", "Fastest", _ratio_bars(fast, vmax, "#10b981", "fastest")),
            f"<p class='note'>{len(ratios)} ratios; "
            f"median {statistics.median(r[3] for r in ratios):.2f}×. "
            "The sequential time is the simulated delays one after another, computed, not "
            "measured. Ratios come from the timing tests' records, or from their diagnoses "
            "when a test failed; tests judged against another schedule (a sliding window) "
            "are not shown.</p>",
        ]
    else:
        body.append(
            _figure(
                "plot-slowest",
                "No timing ratio recorded",
                '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="no timing ratios" '
                'width="760" height="30"><text x="0" y="20">No timing test reported a ratio '
                "(passing tests record none yet; failing ones name it).</text></svg>",
            )
        )
    # Students.
    body += [
        f"<h2>Students who need help (below {STRUGGLING:.0%}, or not started)</h2>",
        _struggling(records, feedback),
    ]
    srows = "".join(
        f"<tr><td>{_student(r, feedback)}</td><td>{_e(r.get('submitted_as') or '')}</td>"
        f"<td>{_e(status(r))}</td>"
        f"<td class='num'>{_total(r)}</td>"
        f"<td class='error'>{_e(r.get('error') or '')}</td></tr>"
        for r in records
    )
    body += [
        "<h2>Students</h2>",
        "<table><tr><th>student</th><th>submitted as</th><th>status</th>"
        "<th class='num'>total</th><th>note</th></tr>"
        f"{srows}</table>",
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Class report</title>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )
