"""The class report's plots as inline SVG: bars, a histogram, a heat map (no script, no CDN).

Every bar or cell carries its exact value in an SVG ``<title>`` (shown on hover);
every text goes through :func:`grader.reports.sanitize.html_text`.
"""

from __future__ import annotations

from grader.catalogue import CATEGORIES
from grader.reports.sanitize import html_text

WIDTH = 760
BAR = 20
LABEL_W = 300


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
    """Students per score bin (``percents``: shares of the possible points, 0 to 1)."""
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
    """Pass rate per exercise (row) and category (column); grey where there is no test."""
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
