"""The default seed of ``grader grade``: derived from the graded modules, so regrades replay it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader.cli import main
from grader.grading.seeding import content_seed, folder_seed
from grader.sandbox.stage import read_module

ROOT = Path(__file__).resolve().parents[2]
CAT = catalogue_mod.load()
ONLY = [CAT.get("late_binding"), CAT.get("concepts")]


@pytest.fixture
def submission(tmp_path: Path) -> Path:
    folder = tmp_path / "alice"
    folder.mkdir()
    for ex in ONLY:
        shutil.copy(ROOT / "solutions" / ex.module_file, folder / ex.module_file)
    return folder


def test_the_seed_follows_the_graded_bytes_not_the_path_or_the_time(submission, tmp_path):
    seed = folder_seed(submission, ONLY)
    assert folder_seed(submission, ONLY) == seed
    twin = tmp_path / "elsewhere" / "bob"
    shutil.copytree(submission, twin)
    os.utime(twin / ONLY[0].module_file, (1, 1))
    (twin / "notes.txt").write_text("not graded: does not count\n")
    assert folder_seed(twin, list(reversed(ONLY))) == seed  # order of --only does not count
    module = twin / ONLY[0].module_file
    module.write_bytes(module.read_bytes() + b"\n# edited\n")
    assert folder_seed(twin, ONLY) != seed
    assert folder_seed(submission, ONLY[:1]) != seed  # another set of exercises


def test_missing_empty_and_unreadable_modules_differ_and_never_hang(submission):
    name = ONLY[0].module_file
    present = folder_seed(submission, ONLY)
    (submission / name).unlink()
    missing = folder_seed(submission, ONLY)
    (submission / name).write_bytes(b"")
    empty = folder_seed(submission, ONLY)
    assert len({present, missing, empty}) == 3
    (submission / name).unlink()
    os.mkfifo(submission / name)  # opening it for reading would block
    assert read_module(submission, name) is None
    assert folder_seed(submission, ONLY) == missing
    (submission / name).unlink()
    (submission / name).symlink_to(ROOT / "solutions" / name)  # the sandbox refuses links
    assert read_module(submission, name) is None


def test_content_seed_is_32_bits_and_names_each_module():
    a = content_seed({"01_x.py": b"A", "02_y.py": b"B"}, ONLY)
    assert 0 <= a < 2**32
    files = {ONLY[0].module_file: b"A", ONLY[1].module_file: b"B"}
    swapped = {ONLY[0].module_file: b"B", ONLY[1].module_file: b"A"}
    assert content_seed(files, ONLY) != content_seed(swapped, ONLY)


def grade_seed(folder: Path, out: Path, *extra: str) -> tuple[int, float]:
    code = main(["grade", str(folder), "--only", "late_binding,concepts", "--jobs", "2",
                 "--json", str(out), *extra])  # fmt: skip
    data = json.loads(out.read_text())
    assert code == 0, data["output"]
    return data["extra_data"]["seed"], data["score"]


@pytest.mark.pack
def test_grading_the_same_folder_twice_records_the_same_seed_and_score(submission, tmp_path):
    first = grade_seed(submission, tmp_path / "1.json")
    assert first == grade_seed(submission, tmp_path / "2.json")
    assert first[0] == folder_seed(submission, ONLY)
    assert grade_seed(submission, tmp_path / "3.json", "--seed", "12345")[0] == 12345
    concepts = submission / CAT.get("concepts").module_file
    concepts.write_text(concepts.read_text() + "\n# a comment changes the seed\n")
    assert grade_seed(submission, tmp_path / "4.json")[0] != first[0]
