"""``grader batch``: a mixed class graded in parallel equals each submission graded alone;
an interrupted run resumes to the same CSV; broken submissions get a row that says why;
the Dask run equals the local run; the output formats.

The class is restricted to two fast exercises (``late_binding``: correctness,
timing and stress; ``concepts``: correctness) so that it grades in about a minute.
The class is graded once per session (a fixture) and the other tests compare with it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader.batch.archives import read_zip
from grader.batch.classroom import ClassFolderError, _layout_reserved, run_batch
from grader.batch.contents import materialize, read_submission
from grader.batch.executors import dask_executor
from grader.batch.folders import read_folder
from grader.batch.inputs import discover
from grader.batch.outputs import student_folder
from grader.batch.reading import InputBounds, SubmissionError
from grader.batch.student_records import RECORD, load_record, record_of
from grader.dev.check import ROOT
from grader.dev.classes import make_class, source, write_tree
from grader.grading.scoring import grade
from grader.grading.seeding import folder_seed
from grader.reports import formats

CAT = catalogue_mod.load()
ONLY = ("late_binding", "concepts")
HEAVY = pytest.mark.skipif(
    os.environ.get("GRADER_BATCH_TESTS", "1") == "0",
    reason="GRADER_BATCH_TESTS=0: the class-grading tests run in one tox env only",
)


# --- building a class ----------------------------------------------------------------------------


def add_broken(dest: Path) -> dict[str, str]:
    """Broken entries (no exercise files, a path-traversal zip, a file that is not a zip) and a
    syntax error (graded: it scores 0, it is not broken); returns {entry: expected reason}."""
    (dest / "x_empty").mkdir()
    (dest / "x_empty" / "notes.txt").write_text("I did not do it\n")
    with zipfile.ZipFile(dest / "x_traversal.zip", "w") as zf:
        zf.writestr("../../evil.py", "print('escaped')\n")
        zf.writestr(CAT.get("concepts").module_file, "ANSWERS = {}\n")
    (dest / "x_notzip.zip").write_bytes(b"this is not a zip archive")
    write_tree(dest / "x_syntax", {CAT.get(s).module_file: "def broken(:\n" for s in ONLY})
    return {
        "x_empty": "no exercise files found",
        "x_traversal": "unsafe path",
        "x_notzip": "not a readable zip",
    }


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def scores_of(results_json: dict) -> list[tuple[str, float, float, str]]:
    """What must be identical between two gradings: every test's name, score and status."""
    return [(t["name"], t["score"], t["max_score"], t["status"]) for t in results_json["tests"]]


# --- the class, graded once ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    class_dir = base / "class"
    kinds = make_class(class_dir, 30)
    broken = add_broken(class_dir)
    out = base / "out"
    started = time.perf_counter()
    result = run_batch(class_dir, out, only=ONLY, workers=2, extra_formats=["junit", "csv"])
    return class_dir, out, kinds, broken, result, time.perf_counter() - started


@HEAVY
@pytest.mark.pack
@pytest.mark.serial
def test_class_grades_and_matches_grading_each_alone(graded_class, tmp_path):
    class_dir, out, kinds, broken, result, wall = graded_class
    rows = {r["student"]: r for r in read_csv(out / "grades.csv")}
    assert set(rows) == set(kinds) | set(broken) | {"x_syntax"}
    assert not result.interrupted and len(result.graded) == len(kinds) + 1
    slugs = list(ONLY)
    # Broken submissions: a row that says why, and files that say it too.
    for student, why in broken.items():
        assert rows[student]["status"] == "error" and why in rows[student]["note"], rows[student]
        assert why in (out / student / "feedback.md").read_text()
    assert rows["x_syntax"]["status"] == "graded" and rows["x_syntax"]["total"] == "0"
    # Every kind scores as it should.
    for student, kind in kinds.items():
        row = rows[student]
        # Untouched stubs (the pack's bytes) are not started; a student with only them too.
        idle = row["not started"].split()
        assert row["status"] == ("not started" if idle == slugs else "graded"), row
        if kind.startswith("stub"):
            assert idle == slugs, row
        elif not kind.startswith("mixed"):
            assert idle == [], row
        total, possible = float(row["total"]), float(row["possible"])
        assert possible == sum(CAT.get(s).max_points for s in slugs)
        if kind.startswith("solution"):
            assert total == possible, row
        elif kind.startswith(("stub", "mutant")):
            assert total < possible, row
        for name in ("results.json", "feedback.md", "junit.xml", "tests.csv", "grading.json"):
            assert (out / student / name).is_file(), (student, name)
    # Each submission graded alone (same seed: derived from its content) gives the same scores.
    sample = sorted(kinds)[::5]  # every layout and every kind
    assert {kinds[s].split("/")[1] for s in sample} == {"folder", "repo", "zip"}
    cat = catalogue_mod.load()
    from concurrent.futures import ThreadPoolExecutor

    def alone(student):
        sub = next(s for s in discover(class_dir) if s.student == student)
        files = read_submission(sub, cat)
        folder = tmp_path / student
        materialize(files, folder)
        seed = folder_seed(folder, [CAT.get(s) for s in ONLY])  # the seed batch derives
        return student, grade(folder, cat, only=ONLY, seed=seed, jobs=1)

    with ThreadPoolExecutor(2) as pool:
        for student, report in pool.map(alone, sample):
            mine = json.loads((out / student / "results.json").read_text())
            assert scores_of(json.loads(formats.render(report, "gradescope"))) == scores_of(mine)
            row = rows[student]
            for ex in report.exercises:
                assert float(row[ex.exercise.slug]) == ex.earned, (student, ex.exercise.slug)
            assert float(row["total"]) == report.earned
    # The class files.
    summary = json.loads((out / "summary.json").read_text())
    idle = sorted(s for s, r in rows.items() if r["status"] == "not started")
    assert idle and sorted(summary["not_started"]) == idle
    assert summary["students"] == len(rows) and summary["graded"] == len(kinds) + 1 - len(idle)
    assert {e["student"] for e in summary["errors"]} == set(broken)
    assert summary["diagnoses"] and summary["diagnoses"][0]["examples"]
    print(f"\n{len(rows)} submissions graded in {wall:.1f}s")


@HEAVY
@pytest.mark.pack
@pytest.mark.serial
def test_rerun_skips_unchanged_and_regrades_changed(graded_class):
    class_dir, out, kinds, _, _, _ = graded_class
    before = (out / "grades.csv").read_text()
    again = run_batch(class_dir, out, only=ONLY, workers=2, extra_formats=["junit", "csv"])
    assert again.graded == [] and len(again.skipped) == len(kinds) + 1
    assert (out / "grades.csv").read_text() == before
    # Asking for a format not written before regrades (its files are missing); a changed
    # submission is regraded alone.
    target = class_dir / "s000" / CAT.get("concepts").module_file
    saved = target.read_text()
    try:
        target.write_text("ANSWERS = {}\n")
        changed = run_batch(class_dir, out, only=ONLY, workers=2, extra_formats=["junit", "csv"])
        assert changed.graded == ["s000"]
        assert (out / "grades.csv").read_text() != before
    finally:
        target.write_text(saved)
        run_batch(class_dir, out, only=ONLY, workers=2, extra_formats=["junit", "csv"])
    assert (out / "grades.csv").read_text() == before


def _ctrl_c_as_in_a_terminal() -> None:  # pragma: no cover - between fork and exec
    """SIGINT at its default, as under a terminal's Ctrl-C.

    A background job of a non-interactive shell (``cmd &`` in a CI script)
    starts with SIGINT ignored, and Python then keeps ignoring it, as it should.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@HEAVY
@pytest.mark.pack
@pytest.mark.serial
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_run_resumes_to_the_same_csv(graded_class, tmp_path, how):
    class_dir, out_full, kinds, _, _, _ = graded_class
    part = tmp_path / "class"
    part.mkdir()
    chosen = sorted(kinds)[:6]
    for student in chosen:
        src = class_dir / student
        if src.is_dir():
            shutil.copytree(src, part / student)
        else:
            shutil.copy(class_dir / f"{student}.zip", part)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "batch", str(part), "--out", str(out)]
    cmd += ["--only", ",".join(ONLY), "--workers", "2", "--no-progress"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )  # fmt: skip
    records = lambda: list(out.glob(f"*/{RECORD}"))  # noqa: E731
    try:
        assert _wait_for(lambda: len(records()) >= 2, 120), "nothing was graded in 2 minutes"
        proc.send_signal(how)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    done = len(records())
    assert 2 <= done < len(chosen), f"{done} of {len(chosen)} done: not interrupted mid-way"
    if how == signal.SIGINT:
        assert proc.returncode == 130
        rows = read_csv(out / "grades.csv")  # written on the way out: pending ones say so
        statuses = {r["status"] for r in rows}  # graded ones: "not started" if only stubs
        assert "pending" in statuses and statuses - {"pending"} <= {"graded", "not started"}
        assert len(statuses) >= 2
    # Nothing half-written: every file parses.
    for path in out.rglob("*"):
        if path.suffix == ".json":
            json.loads(path.read_text())
    resumed = run_batch(part, out, only=ONLY, workers=2)
    assert len(resumed.skipped) >= 2 and len(resumed.skipped) + len(resumed.graded) == len(chosen)
    assert not list(out.rglob("*.tmp"))
    want = [r for r in read_csv(out_full / "grades.csv") if r["student"] in chosen]
    assert read_csv(out / "grades.csv") == want


@HEAVY
@pytest.mark.pack
@pytest.mark.serial
def test_dask_cluster_equals_the_local_run(graded_class, tmp_path):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    class_dir, out_full, kinds, _, _, _ = graded_class
    part = tmp_path / "class"
    part.mkdir()
    chosen = sorted(kinds)[1:7]
    for student in chosen:
        src = class_dir / student
        if src.is_dir():
            shutil.copytree(src, part / student)
        else:
            shutil.copy(class_dir / f"{student}.zip", part)
    out = tmp_path / "out"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=40,
        ) as cluster,
        distributed.Client(cluster.scheduler_address) as client,
    ):  # fmt: skip
        executor, workers, close = dask_executor(cluster.scheduler_address)
        try:
            result = run_batch(part, out, only=ONLY, executor=executor, workers=workers)
        finally:
            close()
        assert workers == 2 and len(client.scheduler_info()["workers"]) == 2
    assert len(result.graded) == len(chosen)
    assert {r["worker"].split(":", 1)[1].startswith("tcp://127.0.0.1") for r in result.records}
    want = [r for r in read_csv(out_full / "grades.csv") if r["student"] in chosen]
    assert read_csv(out / "grades.csv") == want
    for student in chosen:
        a = json.loads((out / student / "results.json").read_text())
        b = json.loads((out_full / student / "results.json").read_text())
        assert scores_of(a) == scores_of(b)


# --- quick checks (no grading) -------------------------------------------------------------------


def test_zip_limits_and_traversal(tmp_path):
    name = CAT.get("concepts").module_file
    cases = {
        "abs.zip": [("/etc/" + name, "x")],
        "dots.zip": [("a/../../" + name, "x")],
        "big.zip": [(name, "x" * 2000)],
        "many.zip": [(f"f{i}.py", "") for i in range(20)] + [(name, "")],
    }
    limits = InputBounds(max_entries=10, max_file_bytes=1000)
    for zname, members in cases.items():
        with zipfile.ZipFile(tmp_path / zname, "w", zipfile.ZIP_DEFLATED) as zf:
            for member, text in members:
                zf.writestr(member, text)
        with pytest.raises(SubmissionError):
            read_zip(tmp_path / zname, CAT, limits)
    link = zipfile.ZipInfo("exercises/" + name)
    link.external_attr = 0o120777 << 16
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as zf:
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(SubmissionError, match="symbolic link"):
        read_zip(tmp_path / "link.zip", CAT)
    with zipfile.ZipFile(tmp_path / "ok.zip", "w") as zf:
        zf.writestr(f"repo/exercises/{name}", "ANSWERS = {}\n")
        zf.writestr("repo/exercises/helpers/util.py", "X = 1\n")
        zf.writestr("repo/solutions/other.py", "ignored\n")
        zf.writestr(f"repo/exercises/__pycache__/{name}c", "junk")
    files = read_zip(tmp_path / "ok.zip", CAT)
    assert set(files) == {name}  # only the exercise modules: the sandbox grades those alone


def test_folder_reading_finds_exercises_and_skips_links(tmp_path):
    name = CAT.get("concepts").module_file
    repo = tmp_path / "alice"
    write_tree(repo, {f"work/exercises/{name}": "A = 1\n", ".venv/x.py": "", "README": ""})
    (repo / "work" / "exercises" / "link.py").symlink_to("/etc/hostname")
    assert read_folder(repo, CAT) == {name: b"A = 1\n"}
    with pytest.raises(SubmissionError, match="no exercise files"):
        read_folder(repo / "work", CAT.__class__(CAT.exercises[:1], 1))


def test_discover_names_and_collisions(tmp_path):
    """Every entry gets a row; names whose ids collide are all refused, whatever the order."""
    (tmp_path / "alice").mkdir()
    (tmp_path / " alice").mkdir()  # the same id: neither is graded as alice
    (tmp_path / "Carol.zip").write_bytes(b"")
    (tmp_path / "carol").mkdir()  # the same id but for case: both refused
    (tmp_path / "bob smith").mkdir()
    (tmp_path / "José").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".DS_Store").write_text("")  # OS clutter: no row
    (tmp_path / "notes.txt").write_text("")
    subs = {s.submitted_as: s for s in discover(tmp_path)}
    assert sorted(subs) == sorted([" alice", ".hidden", "Carol.zip", "José", "alice", "bob smith",
                                   "carol", "notes.txt"])  # fmt: skip
    assert subs["bob smith"].student == "bob_smith" and not subs["bob smith"].refused
    assert subs["José"].student == "Jose" and subs["José"].own_folder
    for a, b in [("alice", " alice"), (" alice", "alice"), ("Carol.zip", "carol")]:
        assert f'collides with "{b}"' in subs[a].refused and not subs[a].own_folder
    assert "hidden" in subs[".hidden"].refused
    assert "not a folder or a .zip" in subs["notes.txt"].refused


def test_atomic_write_and_sweep(tmp_path):
    from grader import atomic

    atomic.write_text(tmp_path / "a" / "f.json", "{}")
    (tmp_path / "a" / ".f.json.123.tmp").write_text("half")
    assert atomic.sweep(tmp_path) == 1
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["f.json"]


def test_every_format_renders_one_report(tmp_path):
    from junitparser import JUnitXml

    report = grade(ROOT / "exercises", CAT, only=["concepts"], seed=1)
    data = json.loads(formats.render(report, "gradescope"))
    assert data["score"] == report.earned and data["tests"]
    xml = JUnitXml.fromstring(formats.render(report, "junit"))
    cases = [c for suite in xml for c in suite]
    assert len(cases) == len(data["tests"]) and any(not c.is_passed for c in cases)
    md = formats.render(report, "markdown")
    assert "## What to fix" in md and "`concepts`" in md
    rows = read_csv_text(formats.render(report, "csv"))
    assert [float(r["score"]) for r in rows] == [t["score"] for t in data["tests"]]
    with pytest.raises(ValueError, match="unknown format"):
        formats.parse("pdf")
    from grader.cli import main

    target = tmp_path / "junit.xml"
    code = main(["grade", str(ROOT / "exercises"), "--only", "concepts", "--seed", "1",
                 "--format", "junit", "--output", str(target)])  # fmt: skip
    assert code == 0 and JUnitXml.fromfile(str(target))


def read_csv_text(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_record_keeps_the_ratio_a_timing_test_reported():
    """The ratio travels as a value (``TestResult.ratio``), never read back from a diagnosis;
    only a timing test's is on the class report's scale (wall time ÷ the sequential time)."""
    from grader.grading.runner import HiddenTestRun
    from grader.grading.scoring import score_exercise
    from grader.results import GradeReport, TestInfo, TestResult

    ex = CAT.get("wait_for_all")
    said = "20 fetches took 0.97 × the sequential time (limit 0.3)"
    results = [
        TestResult(TestInfo("t.py::a", ex.slug, "timing", 1.0, "a"), "failed", said),
        TestResult(TestInfo("t.py::b", ex.slug, "timing", 1.0, "b"), "failed", said, 0.5, 0.42),
        TestResult(TestInfo("t.py::c", ex.slug, "correctness", 1.0, "c"), "passed", "", 0.1, 0.3),
    ]
    exercise = score_exercise(HiddenTestRun(ex, results, elapsed=1.0))
    report = GradeReport("s", [exercise], 1, "3.11.7", 2, "settrace", 1.0)
    ratios = {t["title"]: t["ratio"] for t in record_of(report, "s", "fp", "h")["tests"]}
    assert ratios == {"a": None, "b": 0.42, "c": None}


@HEAVY
def test_a_failed_timing_test_reports_the_ratio_its_diagnosis_states(tmp_path):
    """A hidden test that judges its own verdict (not through check_speed) reports its value
    too, so the class report's ratios need no diagnosis read back."""
    import re

    from grader.dev.mutation import mutants_of

    slug = "fix_the_race"
    ex = CAT.get(slug)
    mutant = next(m for m in mutants_of(ex) if m.name == "lock_held_across_audit")
    reference = (ROOT / "solutions" / ex.module_file).read_text(encoding="utf-8")
    write_tree(tmp_path, {ex.module_file: mutant.source(reference)})
    report = grade(tmp_path, CAT, only=(slug,), seed=1, jobs=1)
    timing = report.exercises[0].categories["timing"].results
    stated = [(r, re.search(r"took (\d+\.\d+) × the sequential", r.diagnosis)) for r in timing]
    stated = [(r, m[1]) for r, m in stated if m]
    assert stated, [r.diagnosis for r in timing]
    assert [(f"{r.ratio:.2f}" if r.ratio is not None else None, said) for r, said in stated] == [
        (said, said) for _, said in stated
    ]


def test_small_batch_in_threads_and_from_the_cli(tmp_path):
    """Three submissions of one fast exercise: in-process (any executor works), then the CLI."""
    from concurrent.futures import ThreadPoolExecutor

    from grader.cli import main

    name = CAT.get("concepts").module_file
    class_dir = tmp_path / "class"
    write_tree(class_dir / "good", {name: source("concepts", "solution", random.Random(1))})
    write_tree(class_dir / "stub", {name: source("concepts", "stub", random.Random(1))})
    (class_dir / "empty").mkdir()
    out = tmp_path / "out"
    with ThreadPoolExecutor(2) as pool:
        result = run_batch(class_dir, out, only=["concepts"], executor=pool, workers=2)
    rows = {r["student"]: r for r in read_csv(out / "grades.csv")}
    assert rows["good"]["concepts"] == "10" and rows["stub"]["concepts"] == "0"
    assert rows["empty"]["status"] == "error"
    assert sorted(result.graded) == ["good", "stub"]
    assert (out / "report.html").is_file() and (out / "summary.json").is_file()
    # The CLI, local processes: nothing changed, so nothing is graded again; then --force.
    args = ["batch", str(class_dir), "--out", str(out), "--only", "concepts", "--no-progress"]
    assert main(args) == 0
    before = {r["student"]: r for r in result.records}["good"]["graded_at"]
    assert load_record(out, "good")["graded_at"] == before
    assert main([*args, "--force", "--format", "junit", "--workers", "1"]) == 0
    assert (out / "good" / "junit.xml").is_file()
    assert main(["batch", str(tmp_path / "nope"), "--out", str(out)]) == 2
    assert main([*args, "--only", "no_such"]) == 2


# --- the input side: bounds, links, records (quick, no grading) -----------------------------------


def test_names_are_shown_printable_and_ids_safe():
    from grader.batch.inputs import printable, student_id

    assert printable(b"bob\xff") == "bob\\udcff"
    assert printable("a\x1b[1m\u200b\u202eb c\n") == "a\\x1b[1m\\u200b\\u202eb c\\n"
    assert printable("[bold]José") == "[bold]José"  # printable text stays as it is
    assert student_id("José Müller") == "Jose_Muller"
    assert student_id(" alice") == student_id("alice\u200b") == "alice"
    assert student_id("..") == student_id("[/]") == ""


def test_a_zip_is_refused_from_its_end_record_before_zipfile_lists_it(tmp_path, monkeypatch):
    import struct

    from grader.batch import archives

    name = CAT.get("concepts").module_file
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as zf:
        zf.writestr(name, "ANSWERS = {}\n")
        for i in range(60):
            zf.writestr(f"d/{i}", "")
    data = bytearray((tmp_path / "many.zip").read_bytes())
    end = data.rindex(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)  # the end record lies: "1 entry"
    (tmp_path / "liar.zip").write_bytes(bytes(data))

    def never(*args, **kwargs):
        raise AssertionError("zipfile.ZipFile was called")

    monkeypatch.setattr(archives.zipfile, "ZipFile", never)
    with pytest.raises(SubmissionError, match="too many entries"):
        read_zip(tmp_path / "many.zip", CAT, InputBounds(max_entries=50))
    with pytest.raises(SubmissionError, match="list of files is too large"):
        read_zip(tmp_path / "liar.zip", CAT, InputBounds(max_names_bytes=2000))
    with pytest.raises(SubmissionError, match="archive is too large"):
        read_zip(tmp_path / "many.zip", CAT, InputBounds(max_archive_bytes=100))
    monkeypatch.undo()
    with pytest.raises(SubmissionError, match="too many"):  # zipfile lists what it read
        read_zip(tmp_path / "liar.zip", CAT, InputBounds(max_entries=50))
    assert set(read_zip(tmp_path / "liar.zip", CAT)) == {name}


def test_a_folder_walk_is_bounded_and_never_recurses(tmp_path):
    name = CAT.get("concepts").module_file
    write_tree(tmp_path / "wide", {name: "A = 1\n", **{f"f{i}": "" for i in range(30)}})
    with pytest.raises(SubmissionError, match="too many files and folders"):
        read_folder(tmp_path / "wide", CAT, InputBounds(max_entries=20))
    with pytest.raises(SubmissionError, match="names are too long"):
        read_folder(tmp_path / "wide", CAT, InputBounds(max_names_bytes=50))
    # 1500 folders deep under the exercise root (os.walk of Python 3.11 recursed into it)
    write_tree(tmp_path / "deep", {name: "A = 1\n"})
    fd = os.open(tmp_path / "deep", os.O_RDONLY)
    for _ in range(1500):
        os.mkdir("d", dir_fd=fd)
        nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nxt
    os.close(fd)
    try:
        assert read_folder(tmp_path / "deep", CAT) == {name: b"A = 1\n"}
    finally:  # shutil.rmtree recurses too: shorten the chain from the top, one at a time
        top = tmp_path / "deep"
        while (top / "d").is_dir():
            if (top / "d" / "d").is_dir():
                os.rename(top / "d" / "d", top / "x")
                os.rmdir(top / "d")
                os.rename(top / "x", top / "d")
            else:
                os.rmdir(top / "d")


def test_records_from_an_earlier_run_are_used_only_when_sound(tmp_path):
    good = {
        "student": "alice", "submitted_as": "alice", "status": "graded", "error": None,
        "fingerprint": "f", "earned": 10.0, "possible": 10.0, "grader_errors": [],
        "exercises": {"concepts": {"earned": 10.0, "possible": 10.0,
                                   "categories": {"correctness": [10.0, 10.0]}, "error": None}},
        "tests": [{"exercise": "concepts", "category": "correctness", "title": "t",
                   "outcome": "passed", "diagnosis": "", "duration": 0.1, "ratio": None}],
    }  # fmt: skip
    folder = tmp_path / "alice"
    folder.mkdir()
    record = folder / RECORD
    record.write_text(json.dumps(good))
    assert load_record(tmp_path, "alice") == good
    assert load_record(tmp_path, "bob") is None
    bad = [
        {**good, "student": "bob"},
        {**good, "earned": "10"},
        {**good, "earned": float("nan")},
        {**good, "tests": "x"},
        {**good, "tests": [{"exercise": 1}]},
        {**good, "exercises": {"concepts": {"earned": None}}},
        {**good, "grader_errors": [1]},
        {**good, "status": "error"},
        [good],
    ]
    for rec in bad:
        record.write_text(json.dumps(rec))
        assert load_record(tmp_path, "alice") is None, rec
    for text in ("[" * 100_000, "\xff{", ""):
        record.write_text(text, encoding="latin-1")
        assert load_record(tmp_path, "alice") is None
    record.unlink()
    os.mkfifo(record)  # opening it for reading would block: it is never opened so
    assert load_record(tmp_path, "alice") is None
    record.unlink()
    record.symlink_to("/dev/zero")
    assert load_record(tmp_path, "alice") is None
    record.unlink()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / RECORD).write_text(json.dumps(good))
    folder.rmdir()
    folder.symlink_to(tmp_path / "elsewhere")  # the student's folder is a link
    assert load_record(tmp_path, "alice") is None
    with pytest.raises(NotADirectoryError):
        student_folder(tmp_path, "alice")
    for unusable in ("", "..", "grades.csv", "a/b", " alice"):
        with pytest.raises(ValueError):
            student_folder(tmp_path, unusable)


def test_the_output_folder_is_never_a_class_entry(tmp_path):
    class_dir = tmp_path / "class"
    (class_dir / "alice").mkdir(parents=True)
    (class_dir / "out").mkdir()  # OUT inside the class folder: not a submission
    subs = discover(class_dir, skip=[class_dir / "out"])
    assert [s.student for s in subs] == ["alice"]
    with pytest.raises(ClassFolderError):
        run_batch(class_dir, class_dir)  # OUT is the class folder: refused
    # The class folder inside OUT: the id that would lead into it is reserved.
    assert _layout_reserved(tmp_path / "class", tmp_path) == ["class"]
    (class_dir / "Class").mkdir()
    subs = {s.submitted_as: s for s in discover(class_dir, reserved=["class"])}
    assert "reserved" in subs["Class"].refused and not subs["Class"].own_folder
