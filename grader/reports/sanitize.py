"""Neutralising text a submission controls, one function per output format.

Failure diagnoses quote values and exception messages the student's code made,
and file names come from the student: any of it may carry spreadsheet formulas,
HTML, Markdown links, terminal escape sequences, GitHub workflow commands,
characters XML forbids, or lone surrogates that make a strict UTF-8 encode
fail. Every writer passes such text through the function for its format, here
and nowhere else, so one fix serves every report.

:func:`plain` is the base of all of them: it turns every character that is not
plain printable text (C0 and C1 controls except newline and tab, DEL, Unicode
format characters such as bidi overrides and zero-width marks, line and
paragraph separators, lone surrogates, noncharacters such as U+FFFE) into a
visible backslash escape (``\\x1b``, ``\\u202e``, ``\\udcff``), so nothing is
lost and nothing acts.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata

# Kept although Python calls them non-printable: spaces (Zs) and private-use characters (Co).
_KEPT_CATEGORIES = frozenset({"Zs", "Co"})
_KEPT = frozenset("\n\t")
# What a spreadsheet reads as the start of a formula (OWASP "CSV injection"), with the
# full-width forms some spreadsheets accept too.
_FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_SGR = re.compile(r"\x1b\[[0-9;]*m")  # colour codes: the only sequences the grader writes


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _visible(ch: str) -> bool:
    return ch in _KEPT or ch.isprintable() or unicodedata.category(ch) in _KEPT_CATEGORIES


def plain(text: object) -> str:
    """``text`` as printable characters, newlines and tabs (see the module docstring)."""
    # str.__str__ and str.isprintable: a str subclass cannot change what they answer
    text = str.__str__(text) if isinstance(text, str) else str(text)
    if str.isprintable(text):
        return text
    return "".join(ch if _visible(ch) else _escape_char(ch) for ch in text)


def one_line(text: object) -> str:
    """:func:`plain` on one line: newlines and tabs become spaces."""
    return plain(text).replace("\n", " ").replace("\t", " ")


# --- CSV --------------------------------------------------------------------------------------


def csv_cell(value: object) -> object:
    """A CSV cell no spreadsheet runs as a formula (numbers stay numbers).

    Text beginning (after any spaces) with ``=``, ``+``, ``-``, ``@``, tab or CR
    gets a leading ``'``, as OWASP advises; the ``csv`` module does the quoting.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return value
    text = plain(value)
    if _NUMBER.fullmatch(text):
        return text
    stripped = text.lstrip(" ")
    if stripped and stripped[0] in _FORMULA_START:
        return "'" + text
    return text


def csv_row(values: list[object]) -> list[object]:
    return [csv_cell(v) for v in values]


# --- Markdown, HTML, XML ------------------------------------------------------------------------


def markdown_text(text: object, *, table_cell: bool = False) -> str:
    """Inline Markdown that shows ``text`` literally: a code span, on one line.

    Nothing in a code span is HTML, a link, an image or emphasis, in CommonMark
    and GitHub's Markdown alike (its autolinks skip code too). The fence is
    longer than any run of backticks in the text. In a GitHub table cell
    (``table_cell``) ``|`` is escaped too: the table splits cells before code
    spans are read.
    """
    body = one_line(text)
    if table_cell:
        body = body.replace("|", "\\|")
    if not body.strip():
        return ""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {body} {fence}"


def html_text(text: object) -> str:
    """Text for HTML content or a quoted attribute value.

    Newlines become ``&#10;`` (the page's lines are the grader's own, see
    :func:`workflow_safe`), and ``##[`` is written ``#&#35;[``.
    """
    escaped = html.escape(plain(text), quote=True)
    return escaped.replace("\n", "&#10;").replace("##[", "#&#35;[")


def json_text(data: object) -> str:
    """JSON, indented, ASCII only (every other character escaped: always valid UTF-8).

    ``##[`` inside strings is written ``#\\u0023[`` (see :func:`workflow_safe`);
    no line of indented JSON can begin with ``::``.
    """
    return json.dumps(data, indent=2, ensure_ascii=True).replace("##[", "#\\u0023[") + "\n"


def xml_text(text: object) -> str:
    """Text XML 1.0 accepts (no NUL or other C0 control, no U+FFFE, no lone surrogate)."""
    return plain(text)


# --- terminals and CI logs ----------------------------------------------------------------------


def terminal_text(text: object) -> str:
    """Text for a terminal: no escape sequence, control or bidi character acts.

    Print it as a ``rich.text.Text`` (never as a markup string), or through
    :func:`rich.markup.escape`, so ``[bold]`` in it is not markup either.
    """
    return plain(text)


def _command_start(line: str) -> int | None:
    """Where a workflow command would begin in ``line`` (after spaces and colours), or None."""
    pos = 0
    while pos < len(line):
        m = _SGR.match(line, pos)
        if m:
            pos = m.end()
        elif line[pos].isspace():
            pos += 1
        else:
            break
    return pos if line.startswith("::", pos) else None


def workflow_safe(output: str) -> str:
    """Output in which no line is a GitHub Actions workflow command.

    The runner reads a line as a command when it starts with ``::`` after
    leading white space, or holds ``##[`` anywhere (the old syntax). Apply this
    to whole rendered output (after any wrapping), so a line that a terminal
    width split off cannot begin with ``::`` either.
    """
    if "::" not in output and "##[" not in output:
        return output
    lines = output.splitlines(keepends=True)
    for i, line in enumerate(lines):
        pos = _command_start(line)
        if pos is not None:
            line = line[:pos] + "\\" + line[pos:]
        lines[i] = line.replace("##[", "#\\#[")
    return "".join(lines)
