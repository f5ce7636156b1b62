"""The class report renders in headless Chromium: plots present, no console errors.

Chromium comes from Debian's packages (``.ci/setup.d/50-chromium.sh`` installs it
in CI); the page is driven over the DevTools protocol with a small client on
``websockets``. The report is built from a small synthetic class (no grading),
so this test takes seconds.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from grader import batch

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
             "diagnosis": "" if passed else f"the calls took {ratio:.2f} × the ideal time",
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
    records.append(batch.error_record("broken", "not a readable zip archive"))
    return records


def write_report(folder: Path) -> Path:
    slugs = ["late_binding", "concepts"]
    records = synthetic_records()
    return batch.write_class_files(folder, records, slugs, {"workers": 2}) and (
        folder / "report.html"
    )


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
