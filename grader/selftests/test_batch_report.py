"""The class report renders in headless Chromium: plots present, no console errors.

Chromium comes from Debian's packages (``.ci/setup.d/50-chromium.sh`` installs it
in CI); the page is driven over the DevTools protocol with a small client on
``websockets``. The report is built from a small synthetic class (no grading),
so this test takes seconds.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader.batch import report_html
from grader.batch.class_files import grades_csv, summarise
from grader.batch.outputs import write_class_files
from grader.batch.student_records import error_record, record_of, valid_record
from grader.grading.runner import HiddenTestRun
from grader.grading.scoring import score_exercise
from grader.harness import checks
from grader.harness.service import SimulatedService
from grader.reports import formats
from grader.results import GradeReport
from grader.results import TestInfo as Info
from grader.results import TestResult as Result

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
    "--window-size=900,1400",
]


def synthetic_records(n: int = 24) -> list[dict]:
    """Graded-looking records: varied scores, diagnoses, timing ratios; one broken."""
    records = []
    for i in range(n):
        passed = i % 4 != 0
        ratio = 0.08 + 0.05 * i if passed else 1.0 + 0.1 * i
        tests = [
            {"exercise": "late_binding", "category": "correctness", "title": "values",
             "outcome": "passed" if i % 3 else "failed",
             "diagnosis": "" if i % 3 else f"got [{i}, {i}] instead of [0, 1]: late binding",
             "duration": 0.1, "ratio": None},
            {"exercise": "late_binding", "category": "timing", "title": "overlap",
             "outcome": "passed" if passed else "failed",
             "diagnosis": "" if passed else f"the calls took {ratio:.2f} × the sequential time",
             "duration": 0.5, "ratio": round(ratio, 2)},
            {"exercise": "concepts", "category": "correctness", "title": "q1",
             "outcome": "passed" if i % 2 else "failed",
             "diagnosis": "" if i % 2 else "question 1: <b>not</b> parallel & 'quoted'",
             "duration": 0.0, "ratio": None},
        ]  # fmt: skip
        earned = 20.0 * sum(t["outcome"] == "passed" for t in tests) / 3
        records.append(
            {
                "student": f"student<{i}>",
                "submitted_as": f"=student<{i}>.zip",
                "status": "graded",
                "error": None,
                "earned": round(earned, 2),
                "possible": 20.0,
                "exercises": {
                    "late_binding": {"earned": earned / 2, "possible": 10.0},
                    "concepts": {"earned": earned / 2, "possible": 10.0},
                },
                "tests": tests,
                "grader_errors": [],
            }
        )
    records.append(error_record("broken", "not a readable zip archive"))
    return records


def write_report(folder: Path) -> Path:
    slugs = ["late_binding", "concepts"]
    records = synthetic_records()
    return write_class_files(folder, records, slugs, {"workers": 2}) and (folder / "report.html")


class DevTools:
    """A minimal Chrome DevTools Protocol client: commands, and the events seen so far."""

    def __init__(self, ws_url: str) -> None:
        from websockets.sync.client import connect

        self._connection = connect(ws_url, max_size=64 * 2**20, open_timeout=20)
        self.ws = self._connection.__enter__()
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def call(self, method: str, timeout: float = 30, **params) -> dict:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events:
                if ev.get("method") == method:
                    return ev
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            self.events.append(msg)

    def close(self) -> None:
        self._connection.__exit__(None, None, None)


def _devtools_url(proc: subprocess.Popen, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline().decode(errors="replace")
        seen.append(line)
        if "DevTools listening on" in line:
            return line.split("DevTools listening on", 1)[1].strip()
        if not line and proc.poll() is not None:
            break
    raise RuntimeError("chromium did not start: " + "".join(seen[-10:]))


def render_page(html_file: Path, screenshot: Path) -> dict:
    """Load the page; return its plots, text, console messages and errors; save a screenshot."""
    import urllib.request

    profile = tempfile.mkdtemp(prefix="grader-chromium-")
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        browser_url = _devtools_url(proc)
        port = browser_url.split(":")[2].split("/")[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            page = next(t for t in json.load(resp) if t["type"] == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        try:
            for domain in ("Page", "Runtime", "Log"):
                tools.call(f"{domain}.enable")
            tools.call("Page.navigate", url=html_file.resolve().as_uri())
            tools.wait_event("Page.loadEventFired")
            probe = """JSON.stringify({
                figures: [...document.querySelectorAll('figure.plot')].map(f => ({
                    id: f.id, svgs: f.querySelectorAll('svg').length,
                    shapes: f.querySelectorAll('rect, line').length,
                    width: f.getBoundingClientRect().width,
                    height: f.getBoundingClientRect().height})),
                title: document.title, text: document.body.innerText,
                scripts: document.scripts.length})"""
            result = tools.call("Runtime.evaluate", expression=probe, returnByValue=True)
            info = json.loads(result["result"]["value"])
            shot = tools.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            time.sleep(0.3)  # let late console messages arrive
            with_timeout = tools.call("Runtime.evaluate", expression="1", returnByValue=True)
            assert with_timeout
            info["console"] = [
                ev["params"]
                for ev in tools.events
                if ev.get("method")
                in ("Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded")
            ]
            return info
        finally:
            tools.close()
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def test_report_is_self_contained(tmp_path):
    text = write_report(tmp_path).read_text(encoding="utf-8")
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org", "")
    assert "https://" not in text
    assert "student&lt;3&gt;" in text and "<b>not</b>" not in text  # names and messages escaped
    assert "<th>submitted as</th>" in text and "<td>=student&lt;3&gt;.zip</td>" in text
    for plot in ("distribution", "exercises", "categories", "diagnoses", "slowest", "fastest"):
        assert f'id="plot-{plot}"' in text


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed here (apt-get install chromium; CI installs it "
    "through .ci/setup.d/50-chromium.sh)",
)
def test_report_renders_in_headless_chromium(tmp_path):
    pytest.importorskip("websockets", reason="the dev extra installs websockets")
    page = write_report(tmp_path)
    shot = tmp_path / "report.png"
    info = render_page(page, shot)
    errors = [
        c
        for c in info["console"]
        if c.get("type") in ("error", "assert")
        or "exceptionDetails" in c
        or c.get("entry", {}).get("level") == "error"
    ]
    assert not errors, errors
    figures = {f["id"]: f for f in info["figures"]}
    assert set(figures) >= {
        "plot-distribution", "plot-exercises", "plot-categories", "plot-category-totals",
        "plot-diagnoses", "plot-slowest", "plot-fastest",
    }  # fmt: skip
    for fid, fig in figures.items():
        assert fig["svgs"] == 1 and fig["shapes"] >= 2, fid
        assert fig["width"] > 300 and fig["height"] > 40, fig  # laid out, visible
    assert info["title"] == "Class report" and info["scripts"] == 0
    assert "student<3>" in info["text"] and "not a readable zip archive" in info["text"]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    # The screenshot is not blank: its width and height are in the PNG header.
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width >= 800 and height >= 1400


# --- what the report and the CSV say (no browser) -----------------------------------------------

CAT = catalogue_mod.load()
ROOT = Path(__file__).resolve().parents[2]


def _report(slugs: list[str], diagnosis: str = "", outcome: str = "passed") -> GradeReport:
    """A graded report of ``slugs``: every test with ``outcome`` and ``diagnosis``."""
    exercises = []
    for slug in slugs:
        ex = CAT.get(slug)
        results = [
            Result(Info(f"t.py::t{i}{c}", slug, c, 1.0, f"{c} {i}"), outcome, diagnosis)
            for c in ("correctness", "timing", "stress")
            for i in range(4)
        ]  # 12 tests
        exercises.append(score_exercise(HiddenTestRun(ex, results, elapsed=1.0)))
    return GradeReport("sub", exercises, 1, "3.11.7", 2, "settrace", 1.0)


def _stub(slug: str) -> bytes:
    return (ROOT / "exercises" / CAT.get(slug).module_file).read_bytes()


def _module(slug: str) -> str:
    return CAT.get(slug).module_file


def test_untouched_stubs_are_not_started_in_the_csv_the_summary_and_the_report(tmp_path):
    slugs = ["wait_for_all", "late_binding"]
    report = _report(slugs)
    edited = _stub("late_binding") + b"\n# started\n"
    submissions = {
        "idle": {_module(s): _stub(s) for s in slugs},  # every module the stub
        "half": {_module("wait_for_all"): _stub("wait_for_all"), _module("late_binding"): edited},
        "one": {_module("wait_for_all"): _stub("wait_for_all")},  # the other one missing
    }
    records = [record_of(report, sid, "fp", "h", "", files) for sid, files in submissions.items()]
    records.append(record_of(report, "solved", "fp", "h", "", {_module("late_binding"): edited}))
    assert [(r["not_started"], r["started"]) for r in records] == [
        (slugs, False), (["wait_for_all"], True), (["wait_for_all"], False), ([], True),
    ]  # fmt: skip
    assert all(valid_record(r, r["student"]) for r in records)  # resumable as they are
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(grades_csv(records, slugs)))}
    assert {k: r["status"] for k, r in rows.items()} == {
        "idle": "not started", "half": "graded", "one": "not started", "solved": "graded",
    }  # fmt: skip
    assert rows["half"]["not started"] == "wait_for_all" and rows["solved"]["not started"] == ""
    summary = summarise(records, slugs, {})
    assert summary["not_started"] == ["idle", "one"] and summary["graded"] == 2
    assert summary["exercises"]["wait_for_all"]["not_started"] == 3
    assert summary["exercises"]["wait_for_all"]["students"] == 1  # "solved" only
    assert summary["exercises"]["late_binding"]["students"] == 2
    page = report_html.render(records, summary, slugs)
    assert "<td>not started</td>" in page and "<b>2</b>not started" in page


def _rows(table: str) -> list[list[str]]:
    """The text of each row of the first <table> in ``table``, cell by cell."""

    class Rows(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[list[str]] = []

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.rows[-1].append("")

        def handle_data(self, data):
            if self.rows and self.rows[-1]:
                self.rows[-1][-1] += data

    parser = Rows()
    parser.feed(table)
    return parser.rows


def test_students_who_need_help_are_sorted_lowest_first_and_linked(tmp_path):
    records = synthetic_records()
    slugs = ["late_binding", "concepts"]
    # First by name and in class order, last by score: only a sort by score puts it last.
    records.insert(0, dict(records[1], student="a-first", earned=9.5))
    for rec in records[:-1]:
        (tmp_path / rec["student"]).mkdir()
        (tmp_path / rec["student"] / "feedback.md").write_text("# feedback\n")
    (tmp_path / "student<5>" / "feedback.md").unlink()  # no file: no link
    write_class_files(tmp_path, records, slugs, {"workers": 2})
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    struggling = page[page.index("<table id='struggling'>") :]
    struggling = struggling[: struggling.index("</table>") + 8]
    rows = _rows(struggling)[1:]
    shares = [float(r[3].rstrip("%")) for r in rows]
    want = sorted(r["earned"] / r["possible"] for r in records[:-1] if r["earned"] < 10)
    assert shares == [round(100 * x) for x in want] and shares == sorted(shares)
    assert len(rows) == len(want) > 3 and rows[-1][0] == "a-first"
    links = re.findall(r'<a href="([^"]*)">([^<]*)</a>', struggling)
    assert links and all(href.endswith("/feedback.md") for href, _ in links)
    assert ("student%3C4%3E/feedback.md", "student&lt;4&gt;") in links  # escaped, relative
    for href, _ in links:  # each link leads to that student's own file
        assert (tmp_path / re.sub("%3C", "<", re.sub("%3E", ">", href))).is_file()
    everyone = re.findall(r'<a href="([^"]*)">', page)
    assert "student%3C5%3E/feedback.md" not in everyone and "broken/feedback.md" not in everyone


def test_timing_ratios_are_on_the_scale_the_heading_names():
    records = synthetic_records()
    summary = summarise(records, ["late_binding", "concepts"], {})
    page = report_html.render(records, summary, ["late_binding", "concepts"])
    assert "Timing ratios (wall time ÷ sequential time; 1 = no overlap)" in page
    assert "ideal time" not in page
    # check_speed judges wall time ÷ the sequential time, and says so when it fails.
    with pytest.raises(AssertionError, match="× the sequential time"):
        checks.check_speed(lambda: 0.9, 0.3, rounds=1)
    assert checks.RATIO.get() == 0.9


def test_a_serialised_run_records_a_ratio_so_it_shows_among_the_slowest():
    service = SimulatedService(0.01)
    for i in range(4):  # one call after another
        service(i)
    token = checks.RATIO.set(None)
    try:
        with pytest.raises(AssertionError, match="serialised"):
            checks.check_peak(service, 4)
        ratio = checks.RATIO.get()
    finally:
        checks.RATIO.reset(token)
    assert ratio is not None and ratio >= 1.0  # serial sleeps never take less than their sum
    report = _report(["wait_for_all"])
    rec = record_of(report, "stub", "fp", "h", "", {"01_wait_for_all.py": _stub("wait_for_all")})
    rec["tests"][4]["ratio"] = ratio  # a timing test
    fast = record_of(report, "fast", "fp", "h")
    for t in fast["tests"]:
        t["ratio"] = 0.05 if t["category"] == "timing" else None
    records = [fast, rec]
    page = report_html.render(records, summarise(records, ["wait_for_all"], {}), ["wait_for_all"])
    slowest = page[page.index('id="plot-slowest"') : page.index('id="plot-fastest"')]
    assert "stub · wait_for_all (stub)" in slowest.split("<title>")[1]  # the first bar


def test_a_syntax_error_is_said_once_per_exercise():
    diagnosis = "01_wait_for_all.py has a syntax error on line 50: invalid syntax"
    report = _report(["wait_for_all"], diagnosis, "failed")
    feedback = formats.render(report, "markdown")
    assert feedback.count("syntax error on line 50") == 1
    assert "12 tests" in feedback and "correctness, timing, stress" in feedback
    one = _report(["wait_for_all"], "", "passed")
    one.exercises[0].categories["timing"].results[0].outcome = "failed"
    assert "12 tests" not in formats.render(one, "markdown")
