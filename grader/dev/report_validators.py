"""Validators of the grader's outputs, as their consumers read them.

Shared by the report fuzz test (:mod:`grader.selftests.test_report_fuzz`) and
the hostile class corpus (``outputs_valid.check_outputs``): each takes an
output's text and raises ``AssertionError`` saying what a consumer would trip
on (a spreadsheet formula, raw HTML in Markdown, a terminal escape sequence, a
GitHub workflow command, invalid XML, text that is not UTF-8).
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

SGR = re.compile(r"\x1b\[[0-9;]*m")
FORMULA_START = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Tags markdown-it makes from Markdown syntax (never from raw HTML: that would be a leak).
MARKDOWN_TAGS = {"p", "h1", "h2", "h3", "ul", "ol", "li", "strong", "em", "code", "pre",
                 "blockquote", "hr", "br"}  # fmt: skip
# Every tag the class report writes itself.
REPORT_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "div", "b",
               "figure", "figcaption", "svg", "text", "rect", "line", "table", "tr", "th",
               "td", "a"}  # fmt: skip
# The report's only links: a student's own feedback, relative, one path segment deep.
FEEDBACK_LINK = re.compile(r"[A-Za-z0-9%._~-]+/feedback\.md\Z")


def _fail(what: str, text: str, at: int | None = None) -> None:
    where = "" if at is None else f" near {text[max(0, at - 40) : at + 40]!r}"
    raise AssertionError(f"{what}{where}")


# --- every text output ----------------------------------------------------------------------


def check_utf8(text: str | bytes) -> str:
    """The output encodes (or decodes) as strict UTF-8; returns the text."""
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AssertionError(f"not UTF-8: {exc}") from None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AssertionError(f"cannot be written as UTF-8: {exc}") from None
    return text


def check_no_controls(text: str, *, sgr: bool = False) -> None:
    """No escape sequence, C0 control (but newline and tab), DEL, C1 control or bidi control.

    ``sgr``: colour codes (``ESC [ … m``), the only sequences the grader writes, are allowed.
    """
    rest = SGR.sub("", text) if sgr else text
    for i, ch in enumerate(rest):
        code = ord(ch)
        if ch in "\n\t":
            continue
        if code < 0x20 or 0x7F <= code <= 0x9F:
            _fail(f"control character {ch!r}", rest, i)
        if ch in BIDI:
            _fail(f"bidi control {ch!r}", rest, i)
        if 0xD800 <= code <= 0xDFFF:
            _fail(f"lone surrogate {ch!r}", rest, i)


def check_workflow_safe(text: str) -> None:
    """No line is a GitHub Actions workflow command (``::cmd``, or ``##[`` anywhere)."""
    for line in text.splitlines():
        if SGR.sub("", line).lstrip().startswith("::"):
            raise AssertionError(f"a line is a workflow command: {line[:80]!r}")
    if "##[" in text:
        _fail("old-style workflow command ##[", text, text.index("##["))


def check_text(text: str | bytes, *, sgr: bool = False) -> str:
    """What every output must satisfy; returns the text."""
    text = check_utf8(text)
    check_no_controls(text, sgr=sgr)
    check_workflow_safe(text)
    return text


# --- one format each ------------------------------------------------------------------------


def check_csv(text: str, *, rows: int | None = None) -> list[list[str]]:
    """Parses; every row as wide as the header; no text cell a spreadsheet would run."""
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table, "empty CSV"
    width = len(table[0])
    for row in table:
        assert len(row) == width, f"row of {len(row)} cells, header has {width}: {row!r}"
        for cell in row:
            stripped = cell.lstrip(" ")
            if stripped and stripped[0] in FORMULA_START and not NUMBER.fullmatch(cell):
                raise AssertionError(f"a cell a spreadsheet runs as a formula: {cell[:80]!r}")
    if rows is not None:
        assert len(table) - 1 == rows, f"{len(table) - 1} rows, expected {rows}"
    return table


def check_junit(text: str) -> None:
    """Parses with xml.etree and with junitparser, down to every test case."""
    from junitparser import JUnitXml

    ET.fromstring(text.encode("utf-8"))
    xml = JUnitXml.fromstring(text.encode("utf-8"))
    for suite in xml if xml._tag == "testsuites" else [xml]:
        for case in suite:
            _ = case.name, case.result


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))


def _tags(html_text: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(html_text)
    parser.close()
    return parser.tags


def _check_attrs(tag: str, attrs: list[tuple[str, str | None]]) -> None:
    for name, value in attrs:
        if name.startswith("on"):
            raise AssertionError(f"event-handler attribute <{tag} {name}=…>")
        squashed = re.sub(r"[\x00-\x20]", "", (value or "")).lower()
        if "javascript:" in squashed or "vbscript:" in squashed:
            raise AssertionError(f"script URL in <{tag} {name}={value!r}>")


def check_markdown(text: str) -> str:
    """Renders with markdown-it (CommonMark, raw HTML on) to its own tags only: no HTML
    from the text, no link, no image. Returns the HTML."""
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").render(text)
    for tag, attrs in _tags(rendered):
        if tag not in MARKDOWN_TAGS:
            raise AssertionError(f"<{tag}> in the rendered Markdown: {rendered[:300]!r}")
        _check_attrs(tag, attrs)
        if attrs and tag != "code":  # markdown-it's own tags here carry no attribute
            raise AssertionError(f"attributes on <{tag}>: {attrs!r}")
    return rendered


def check_html_report(text: str) -> None:
    """The class report: only the report's own tags, no script, handler or script URL."""
    for tag, attrs in _tags(text):
        if tag not in REPORT_TAGS:
            raise AssertionError(f"<{tag}> in the class report")
        _check_attrs(tag, attrs)
        if tag == "a":
            assert [k for k, _ in attrs] == ["href"], attrs
            href = attrs[0][1] or ""
            assert FEEDBACK_LINK.match(href) and href.split("/")[0] not in (".", ".."), href
        if tag == "meta":
            names = {k for k, _ in attrs}
            assert names <= {"charset", "name", "content", "http-equiv"}, attrs


def check_json(text: str) -> object:
    data = json.loads(text)
    if isinstance(data, dict) and "tests" in data and "score" in data:  # Gradescope's results
        assert data.get("output_format") == "text", "results.json: output_format is not text"
        assert data.get("test_output_format") == "text", "results.json: test output not text"
        for test in data["tests"]:
            assert test.get("output_format", "text") == "text", test
    return data


# --- a folder of outputs --------------------------------------------------------------------


def check_file(path: Path) -> None:
    """Every check that fits the file's kind (by its name)."""
    text = check_text(Path(path).read_bytes())
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        check_csv(text)
    elif suffix == ".xml":
        check_junit(text)
    elif suffix == ".md":
        check_markdown(text)
    elif suffix == ".html":
        check_html_report(text)
    elif suffix == ".json":
        check_json(text)


def check_folder(out_dir: Path) -> int:
    """:func:`check_file` on every file under ``out_dir``; returns how many were checked."""
    n = 0
    for path in sorted(Path(out_dir).rglob("*")):
        if path.is_file():
            try:
                check_file(path)
            except AssertionError as exc:
                raise AssertionError(f"{path}: {exc}") from None
            n += 1
    return n
