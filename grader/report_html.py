"""The class report: one self-contained HTML file with inline SVG plots (no script, no CDN).

Plots: the score distribution; per-exercise full-marks rates; per-exercise and
per-category test pass rates (a heat map); the most frequent diagnoses with
counts and example students; the slowest and fastest timing ratios (wall time
÷ the sequential time of the simulated I/O: its known delays one after another,
so 1 means no overlap). Every plot is a ``<figure class="plot">`` holding an
``<svg>``; hovering a bar shows its exact value (SVG ``<title>``). Then the
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

from grader.catalogue import CATEGORIES
from grader.reports.class_results import NOT_STARTED, attempts, started_tests, status
from grader.reports.sanitize import html_text

WIDTH = 760
BAR = 20
LABEL_W = 300
COLOURS = {"correctness": "#3b82f6", "timing": "#f59e0b", "stress": "#8b5cf6"}
STRUGGLING = 0.5  # below this share of the possible points, a student needs help


def _e(text: object) -> str:
    return html_text(text)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _rate_colour(rate: float) -> str:
    """Red (0) through amber to green (1)."""
    rate = min(1.0, max(0.0, rate))
    if rate < 0.5:
        r, g = 220, int(60 + 300 * rate)
    else:
        r, g = int(220 - 360 * (rate - 0.5)), 190
    return f"rgb({r},{g},70)"


def hbars(
    items: list[tuple[str, float, str]],
    vmax: float,
    *,
    fmt: str = "{:.0%}",
    colour: str | None = None,
    label: str,
    marker: float | None = None,
) -> str:
    """Horizontal bars: (label, value, tooltip)."""
    if not items:
        return '<p class="empty">No data.</p>'
    plot_w = WIDTH - LABEL_W - 70
    height = len(items) * (BAR + 6) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(label)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">'
    ]
    vmax = vmax or 1.0
    for i, (name, value, tip) in enumerate(items):
        y = 4 + i * (BAR + 6)
        w = max(1.0, plot_w * min(value, vmax) / vmax)
        fill = colour or _rate_colour(value)
        parts.append(
            f'<text x="{LABEL_W - 8}" y="{y + BAR * 0.72:.1f}" text-anchor="end">'
            f"{_e(_short(name, 40))}</text>"
            f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR}" fill="{fill}" rx="3">'
            f"<title>{_e(tip)}</title></rect>"
            f'<text x="{LABEL_W + w + 6:.1f}" y="{y + BAR * 0.72:.1f}">'
            f"{_e(fmt.format(value))}</text>"
        )
    if marker is not None and 0 < marker <= vmax:
        x = LABEL_W + plot_w * marker / vmax
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - 18}" stroke="#111" '
            f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="{height - 4}" text-anchor="middle" '
            f'class="small">limit {marker:g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(percents: list[float], bins: int = 10) -> str:
    counts = [0] * bins
    for p in percents:
        counts[min(bins - 1, int(p * bins))] += 1
    top = max(counts) or 1
    h, base, left = 220, 190, 40
    bw = (WIDTH - left - 20) / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="score distribution" '
        f'viewBox="0 0 {WIDTH} {h + 10}" width="{WIDTH}" height="{h + 10}">',
        f'<line x1="{left}" x2="{WIDTH - 20}" y1="{base}" y2="{base}" stroke="#444"/>',
    ]
    for i, c in enumerate(counts):
        bh = (base - 20) * c / top
        x = left + i * bw
        lo, hi = 100 * i // bins, 100 * (i + 1) // bins
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{base - bh:.1f}" width="{bw - 4:.1f}" height="{bh:.1f}" '
            f'fill="{_rate_colour((i + 0.5) / bins)}"><title>{lo}–{hi}%: {c} student(s)</title>'
            f"</rect>"
            f'<text x="{x + bw / 2:.1f}" y="{base + 16}" text-anchor="middle" class="small">'
            f"{lo}–{hi}%</text>"
        )
        if c:
            parts.append(
                f'<text x="{x + bw / 2:.1f}" y="{base - bh - 4:.1f}" '
                f'text-anchor="middle">{c}</text>'
            )
    parts.append(
        f'<text x="{left}" y="{h + 6}" class="small">share of the possible points '
        "(students per bin)</text></svg>"
    )
    return "".join(parts)


def heatmap(slugs: list[str], rates: dict[str, dict[str, float]]) -> str:
    cell_w, cell_h, left = 120, 24, 220
    height = 30 + len(slugs) * (cell_h + 4)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="test pass rate per exercise and category" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">'
    ]
    for j, cat in enumerate(CATEGORIES):
        parts.append(
            f'<text x="{left + j * (cell_w + 4) + cell_w / 2}" y="16" '
            f'text-anchor="middle">{cat}</text>'
        )
    for i, slug in enumerate(slugs):
        y = 26 + i * (cell_h + 4)
        parts.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{_e(slug)}</text>')
        for j, cat in enumerate(CATEGORIES):
            x = left + j * (cell_w + 4)
            rate = rates.get(slug, {}).get(cat)
            if rate is None:
                parts.append(
                    f'<rect x="{x}" y="{y}" width="{cell_w}" height="{cell_h}" fill="#eee">'
                    f"<title>{_e(slug)} · {cat}: no tests</title></rect>"
                )
                continue
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell_w}" height="{cell_h}" '
                f'fill="{_rate_colour(rate)}"><title>{_e(slug)} · {cat}: {rate:.0%} of tests '
                f'passed</title></rect><text x="{x + cell_w / 2}" y="{y + 17}" '
                f'text-anchor="middle" fill="#111">{rate:.0%}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


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
