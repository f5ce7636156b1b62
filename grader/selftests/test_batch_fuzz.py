"""Fuzzing ``grader batch``'s input side: random class folders, whatever their names and contents.

Entries get arbitrary names (bytes that are not UTF-8, escapes, markup, control
characters, the class files' names, names that collide), kinds (folders, repos,
zips, corrupt zips, plain files, links, named pipes, sockets) and contents. Grading
itself is replaced by a fast fake (a copy of one real report), so each example goes
through discovery, reading, hashing, the records and every output file in well under
a second. The batch must always finish, with one row per entry, each traceable to its
entry; a second run must resume to the same rows.
"""

from __future__ import annotations

import copy
import io
import os
import socket
import tempfile
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.batch import classroom
from grader.batch.inputs import CLASS_FILES, printable
from grader.batch.jobs import Job, JobResult
from grader.dev.check import ROOT
from grader.dev.outputs_valid import check_outputs
from grader.selftests.hostile_classes._kit import MODULE, SOLUTION, STUB
from grader.selftests.test_hostile_classes import check_class_files, class_entries

ONLY = ("concepts",)
PIECES = [
    b"alice", b"Alice", b"bob", b" ", b".", b"..", b"_", b"-", b"=cmd()", b"@x", b"[bold]",
    b"[\\]", b"[link=https:x]", b"\xff", b"\xfe\xfd", b"\xc3\xa9", b"e\xcc\x81",
    b"\xe2\x80\x8b", b"\xe2\x80\xae", b"\xed\xa0\x80", b"\x1b[31m", b"\n", b"\t", b"\x7f",
    b"grades.csv", b"summary.json", b"report.html", b"REPORT.HTML", b".zip", b".ZIP",
    b".DS_Store", b"x" * 120,
]  # fmt: skip


def _valid_name(raw: bytes) -> bool:
    return raw not in (b".", b"..") and b"/" not in raw and b"\0" not in raw and len(raw) < 250


names = st.one_of(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map(b"".join),
    st.binary(min_size=1, max_size=12),
).filter(_valid_name)
contents = st.sampled_from([SOLUTION, STUB, b"#raise\n", b"", b"\xff\xfe\x00junk"])
member_names = st.one_of(
    st.sampled_from([MODULE, f"exercises/{MODULE}", f"a/b/exercises/{MODULE}", f"../{MODULE}",
                     f"/abs/{MODULE}", f"..\\..\\{MODULE}", f"C:/{MODULE}", "exercises/"]),
    st.text(min_size=1, max_size=20).filter(lambda s: "\0" not in s),
)  # fmt: skip
entries = st.lists(
    st.tuples(
        names,
        st.sampled_from(["folder", "repo", "zip", "corrupt_zip", "file", "link_in", "link_out",
                         "dangling", "fifo", "socket", "empty_dir"]),
        contents,
        st.lists(st.tuples(member_names, contents), max_size=4),
        st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
    ),
    min_size=1, max_size=8, unique_by=lambda e: e[0],
)  # fmt: skip


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # duplicate names: wanted here
        for name, data in members:
            try:
                zf.writestr(name, data)
            except (UnicodeEncodeError, ValueError):
                continue
    return buf.getvalue()


def build(class_dir: Path, spec) -> None:
    base = os.fsencode(class_dir)
    outside = os.fsencode(class_dir.parent / "outside")
    os.makedirs(outside, exist_ok=True)
    for raw, kind, module, members, flips in spec:
        path = base + b"/" + raw
        if kind in ("folder", "repo"):
            target = path + b"/exercises" if kind == "repo" else path
            os.makedirs(target)
            with open(target + b"/" + MODULE.encode(), "wb") as fh:
                fh.write(module)
            for name, data in members:  # odd names inside: bytes of the member names
                leaf = name.encode("utf-8", "surrogateescape").replace(b"/", b"_")[:100]
                if _valid_name(leaf) and leaf != MODULE.encode():
                    with open(target + b"/" + leaf, "wb") as fh:
                        fh.write(data)
        elif kind in ("zip", "corrupt_zip"):
            data = bytearray(_zip([(f"w/exercises/{MODULE}", module), *members]))
            if kind == "corrupt_zip":
                for at, value in flips or [(len(data) // 2, 0)]:
                    data[at % len(data)] = value
            with open(path, "wb") as fh:
                fh.write(bytes(data))
        elif kind == "file":
            with open(path, "wb") as fh:
                fh.write(module)
        elif kind == "link_in":
            os.symlink(b".", path)
        elif kind == "link_out":
            os.symlink(outside, path)
        elif kind == "dangling":
            os.symlink(b"nowhere", path)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "socket":
            sock = socket.socket(socket.AF_UNIX)
            try:
                sock.bind(path)
            except OSError:  # a path too long for a socket address: a plain file then
                with open(path, "wb"):
                    pass
            finally:
                sock.close()
        else:
            os.mkdir(path)


@pytest.fixture(scope="module")
def fake_grading():
    """A grading function that costs nothing: one real report, copied for every job."""
    from grader import catalogue as catalogue_mod
    from grader.grading.scoring import grade

    report = grade(ROOT / "solutions", catalogue_mod.load(), only=ONLY, seed=1, jobs=1)

    def grade_job(job: Job) -> JobResult:
        if job.files.get(MODULE, b"").startswith(b"#raise"):
            raise RuntimeError("the worker went away")
        mine = copy.deepcopy(report)
        mine.submission = job.student
        return JobResult(job.student, mine, None, "fake", 0.0)

    return grade_job


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=entries)
def test_any_class_folder_gets_one_row_per_entry(spec, fake_grading, monkeypatch):
    monkeypatch.setattr(classroom, "grade_job", fake_grading)  # where run_batch looks it up
    with tempfile.TemporaryDirectory(prefix="grader-fuzz-") as tmp:
        class_dir, out = Path(tmp) / "class", Path(tmp) / "out"
        class_dir.mkdir()
        build(class_dir, spec)
        names_in = class_entries(class_dir)
        firsts = []
        for _ in range(2):  # the second run resumes: the same ids, the same rows
            with ThreadPoolExecutor(2) as pool:
                result = classroom.run_batch(class_dir, out, only=ONLY, executor=pool, workers=2)
            records = result.records
            rows = check_class_files(out, records)
            check_outputs(out)
            assert len(records) == len(rows) == len(names_in)
            assert sorted(r["submitted_as"] for r in records) == sorted(map(printable, names_in))
            for rec in records:
                assert rec["submitted_as"].isprintable() and rec["status"] in ("graded", "error")
                assert (rec["status"] == "error") == bool(rec["error"]), rec
            own = [r["student"].casefold() for r in records if r["status"] == "graded"]
            assert len(own) == len(set(own)), own  # no id graded twice
            for entry in os.scandir(out):
                assert entry.name in CLASS_FILES or entry.name in {r["student"] for r in records}
            firsts.append([(r["student"], r["submitted_as"], r["status"]) for r in records])
        assert firsts[0] == firsts[1]
        assert len(result.skipped) == sum(r["status"] == "graded" for r in records)
        assert not set(os.listdir(Path(tmp) / "outside"))  # nothing written through a link
