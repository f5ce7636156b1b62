"""Text injection through failure messages: a submission whose answers make every hidden
test of ``concepts`` fail with a message that carries one dangerous form (a spreadsheet
formula, HTML and a script, Markdown ``javascript:`` links, terminal escape sequences
(OSC 52 clipboard write, CSI, C1), a GitHub workflow command, NUL and other controls,
lone surrogates, rich markup, a bidi override), under an entry name that is itself a
formula with markup. Every output file must stay valid for its consumer
(``check_outputs``); ``test_report_fuzz`` grades the same submission with ``grader grade``.
"""

from __future__ import annotations

from pathlib import Path

from grader.selftests.hostile_classes._kit import MODULE, honest

# Raised as AssertionError while ANSWERS is read (a module __getattr__), whose message becomes
# the diagnosis as it is (first line); plain data and exceptions are all that cross the judge.
RAISED = [
    '=HYPERLINK("http://x.example/?leak","click me")',
    "::stop-commands::pwned",
    "\x1b]52;c;cHduZWQ=\x07\x1b[31mred\x1b[0m \x9b2J \x1b]8;;http://x.example\x1b\\link",
    "NUL\x00 SOH\x01 DEL\x7f lone \udcff \ud800 U+FFFE \ufffe",
    "+cmd|' /C calc'!A0 and @SUM(1+1)",
]
# Returned as answers (plain strings) the test quotes: "q6 is not answered ... (got REPR)".
QUOTED = [
    "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "[x](javascript:alert(1)) ![i](javascript:alert(2)) <javascript:alert(3)>",
    "[bold red]markup[/] [link=javascript:alert(1)]x[/link] :smile:",
    "\u202eevil\u202c bidi \u2066isolate\u2069 \u200fmark",
    "wrap" + " w" * 60 + " ::set-output name=x::y ##[error]boom ::add-mask::z",
]
ENTRY = '=HYPERLINK("x")[bold]<b>eve'

SOURCE = f'''"""Answers that make every check fail with a hostile message.

The first five reads of ANSWERS raise (the process keeps the count across fresh loads of
this module); the next ones give plain strings, quoted by the checks.
"""

import sys

RAISED = {RAISED!r}
QUOTED = {QUOTED!r}
_reads = sys.__dict__.setdefault("_injected_text_reads", [0])


def __getattr__(name):
    if name != "ANSWERS":
        raise AttributeError(name)
    n, _reads[0] = _reads[0], _reads[0] + 1
    if n < len(RAISED):
        raise AssertionError(RAISED[n] + "\\nsecond line")
    return {{f"q{{i}}": QUOTED[(i - 1) % len(QUOTED)] for i in range(1, 11)}}
'''


def write_submission(folder: Path) -> Path:
    """The hostile ``concepts`` answer in ``folder`` (laid out like ``exercises/``)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MODULE).write_text(SOURCE, encoding="utf-8")
    return folder


def build(class_dir: Path) -> None:
    write_submission(class_dir / ENTRY)
    honest(class_dir)


EXPECT = {"graded": {ENTRY: "zero", "honest": "full"}, "check_outputs": True}
