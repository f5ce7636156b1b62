"""The hostile class corpus: whatever a class folder holds, ``grader batch`` finishes.

Each module of ``hostile_classes/`` (see its ``__init__`` for the interface) builds a
class folder; it is graded (the ``concepts`` exercise only, in one process), and then:
the class files exist and parse; one row per class entry, each with the entry's
name in ``submitted_as``; the rows the case expects (refused with a plain reason,
honest students with full marks); nothing written outside OUT.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import pkgutil
import stat
import sys
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.batch.classroom import run_batch
from grader.batch.inputs import CLASS_FILES, IGNORED, printable
from grader.batch.reading import InputBounds
from grader.dev.check import ROOT
from grader.dev.outputs_valid import check_outputs
from grader.selftests import hostile_classes

pytestmark = pytest.mark.pack

CORPUS_DIR = Path(hostile_classes.__file__).parent
CASES = sorted(m.name for m in pkgutil.iter_modules([str(CORPUS_DIR)]) if m.name[0] != "_")
ONLY = ("concepts",)


def _raw(name: str | bytes) -> bytes:
    return name if isinstance(name, bytes) else name.encode()


def class_entries(class_dir: Path) -> list[bytes]:
    """The names of the class folder's entries that must each get a row."""
    with os.scandir(os.fsencode(class_dir)) as it:
        return sorted(e.name for e in it if os.fsdecode(e.name) not in IGNORED)


def snapshot(base: Path, skip: set[Path]) -> dict[bytes, tuple]:
    """Every path under ``base`` (but ``skip``) with its type, size and modification time."""
    seen = {}
    skip_b = {os.fsencode(p) for p in skip}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(base)):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip_b]
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            seen[path] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns)
    return seen


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags = 0

    def handle_starttag(self, tag, attrs) -> None:
        self.tags += 1


def check_class_files(out: Path, records: list[dict]) -> list[dict[str, str]]:
    """grades.csv, summary.json and report.html exist and parse; the CSV's rows."""
    for name in ("grades.csv", "summary.json", "report.html"):
        assert stat.S_ISREG(os.lstat(out / name).st_mode), f"{name} is not a file"
    text = (out / "grades.csv").read_bytes().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    summary = json.loads((out / "summary.json").read_bytes().decode("utf-8"))
    assert summary["students"] == len(records)
    parser = _Html()
    parser.feed((out / "report.html").read_bytes().decode("utf-8"))
    assert parser.tags > 10
    return rows


def run_case(case: str, tmp_path: Path, capsys: pytest.CaptureFixture | None = None) -> None:
    module = importlib.import_module(f"grader.selftests.hostile_classes.{case}")
    expect = module.EXPECT
    class_dir, out = tmp_path / "class", tmp_path / "out"
    class_dir.mkdir()
    module.build(class_dir)
    entries = class_entries(class_dir)
    optional = {_raw(n) for n in expect.get("optional", ())}
    expected = {_raw(n): why for n, why in expect.get("refused", {}).items()}
    graded = {_raw(n): how for n, how in expect.get("graded", {}).items()}
    missing = (set(expected) | set(graded)) - set(entries) - optional
    assert not missing, f"build() did not make {missing}"
    before = snapshot(tmp_path, {out})
    bounds = InputBounds(**expect.get("limits", {}))
    for run in range(expect.get("runs", 1)):
        if hasattr(module, "before_run"):
            module.before_run(out, run)
        with ThreadPoolExecutor(1) as pool:
            result = run_batch(class_dir, out, only=ONLY, executor=pool, workers=1, bounds=bounds)
        assert not result.interrupted
        records = result.records
        rows = check_class_files(out, records)
        # One row per entry, each traceable to its entry by submitted_as.
        assert len(records) == len(rows) == len(entries), (len(records), len(rows), entries)
        assert sorted(r["submitted_as"] for r in records) == sorted(map(printable, entries))
        by_name = {
            _raw_of(r["submitted_as"], entries): (r, row)
            for r, row in zip(records, rows, strict=True)
        }
        for rec, row in by_name.values():
            assert rec["student"] == row["student"] and rec["status"] == row["status"], row
            sub_as = rec["submitted_as"]
            assert sub_as.isprintable() and sub_as.encode("utf-8"), sub_as
        for name, why in expected.items():
            if name not in by_name:
                continue  # optional, not built here
            rec, row = by_name[name]
            assert rec["status"] == "error", (name, rec["status"], rec.get("error"))
            assert why in rec["error"], (name, rec["error"])
            assert why.split('"')[0] in row["note"], (name, row["note"])
        for name, how in graded.items():
            rec, row = by_name[name]
            assert rec["status"] == "graded", (name, rec.get("error"))
            if how == "full":
                assert rec["earned"] == rec["possible"] > 0, (name, rec["earned"], rec["tests"])
            else:
                assert rec["earned"] == 0, (name, rec["earned"])
        for rel in expect.get("absent", ()):
            assert not os.path.lexists(out / rel), f"OUT/{rel} exists"
        for entry in os.scandir(out):  # OUT: the class files and student folders only
            is_class_file = entry.name in CLASS_FILES
            is_moved = ".moved-aside-" in entry.name
            assert is_class_file or is_moved or entry.name in {r["student"] for r in records}
        if expect.get("check_outputs"):
            check_outputs(out)
        assert snapshot(tmp_path, {out}) == before, "something outside OUT changed"
    if expect.get("cli"):
        cli_out = tmp_path / "out-cli[" / "][bold]x"  # markup in the path it prints
        reasons = [r["error"] for r in records if r.get("error")]
        run_cli(class_dir, cli_out, [*map(printable, expected), *reasons], capsys)
        assert snapshot(tmp_path, {out, tmp_path / "out-cli["}) == before


def _raw_of(submitted_as: str, entries: list[bytes]) -> bytes:
    return next(e for e in entries if printable(e) == submitted_as)


def run_cli(class_dir: Path, out: Path, texts: list[str], capsys) -> None:
    """``grader batch`` exits 0 and prints ``texts`` (names, reasons) as they are."""
    from grader.cli import main

    assert capsys is not None
    capsys.readouterr()
    code = main(["batch", str(class_dir), "--out", str(out), "--only", ",".join(ONLY),
                 "--workers", "1"])  # fmt: skip
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert code == 0, text[-3000:]
    for expected in [*texts, str(out)]:
        assert expected in text, (expected, text[-3000:])


@pytest.mark.parametrize("case", CASES)
def test_hostile_class(case, tmp_path, capsys):
    run_case(case, tmp_path, capsys)


def test_the_corpus_has_its_cases():
    """Every case module offers the interface; the corpus covers what the issue listed."""
    assert {"zip_bad_names", "zip_corrupt", "non_utf8_name", "output_names", "markup_path",
            "id_collision", "zip_symlink", "folder_symlink", "many_entries",
            "special_files"} <= set(CASES)  # fmt: skip
    for case in CASES:
        module = importlib.import_module(f"grader.selftests.hostile_classes.{case}")
        assert callable(module.build) and isinstance(module.EXPECT, dict), case
        known = {"refused", "graded", "optional", "absent", "runs", "cli", "check_outputs",
                 "limits"}  # fmt: skip
        assert set(module.EXPECT) <= known, (case, set(module.EXPECT) - known)
        assert module.EXPECT.get("refused") or module.EXPECT.get("graded"), case


@pytest.mark.skipif(os.geteuid() != 0, reason="not root: the corpus above is the unprivileged case")
@pytest.mark.full  # the corpus a second time, as nobody: a few minutes
def test_the_class_corpus_holds_for_a_grader_without_root():
    """The whole class corpus again, run by ``nobody`` (user namespaces, no sandbox uid)."""
    from grader.dev.unprivileged import nobody_home, readable_by_others, run_as_nobody

    if not readable_by_others(ROOT / "grader" / "__init__.py"):
        pytest.skip("this checkout is not readable by other users (umask 077?)")
    with nobody_home() as (home, env):
        proc = run_as_nobody(
            [sys.executable, "-m", "pytest", f"{Path(__file__)}::test_hostile_class", "-q",
             "-p", "no:cacheprovider", "--basetemp", str(home / "t"), "--timeout=600"],
            needed={ROOT}, env={**env, "TMPDIR": str(home)}, cwd=ROOT, timeout=900,
        )  # fmt: skip
        text = (proc.stdout + proc.stderr).strip()
        assert proc.returncode == 0, text[-3000:]
        assert f"{len(CASES)} passed" in text, text[-3000:]
