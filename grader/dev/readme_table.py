"""The README's exercise table, generated from the catalogue.

``grader dev readme`` rewrites the block between the markers; the self-check
fails when the README's block differs from what the catalogue generates.
"""

from __future__ import annotations

from pathlib import Path

from grader.catalogue import CATEGORIES, Catalogue

BEGIN = (
    "<!-- BEGIN GENERATED: exercise table (grader dev readme; source: grader/catalogue.toml) -->"
)
END = "<!-- END GENERATED: exercise table -->"


def table(cat: Catalogue) -> str:
    head = "| # | exercise | what it teaches | " + " | ".join(CATEGORIES) + " |"
    rule = "| --- | --- | --- | " + " | ".join("---" for _ in CATEGORIES) + " |"
    rows = [
        f"| {e.order:02d} | `{e.slug}`: {e.title} | {e.teaches} | "
        + " | ".join(f"{e.points[c]:g}" for c in CATEGORIES)
        + " |"
        for e in cat
    ]
    return "\n".join([BEGIN, head, rule, *rows, END])


def current_block(readme: str) -> str | None:
    if BEGIN not in readme or END not in readme:
        return None
    start = readme.index(BEGIN)
    return readme[start : readme.index(END) + len(END)]


def rewrite(path: Path, cat: Catalogue) -> bool:
    """Replace the generated block; return whether the file changed."""
    text = path.read_text(encoding="utf-8")
    block = current_block(text)
    if block is None:
        raise ValueError(f"{path} has no generated exercise table markers")
    new = text.replace(block, table(cat))
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text
