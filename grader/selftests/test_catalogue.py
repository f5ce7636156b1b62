"""The catalogue agrees with the files: mirrored names, hints, categories, nothing stray."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader import layout
from grader.catalogue import CATEGORIES, CatalogueError, parse
from grader.dev.check import ALTERNATIVES_DIR, ROOT
from grader.dev.mutation import MUTANTS_DIR, mutants_of
from grader.dev.readme_table import current_block, table
from grader.grading.command import PLUGINS
from grader.grading.isolation import isolation
from grader.sandbox.config import base_env

CATALOGUE = catalogue_mod.load()
DEFAULTS = tomllib.loads(layout.CATALOGUE.read_text(encoding="utf-8"))["defaults"]
EXERCISES = list(CATALOGUE)
ALLOWED_EXTRA = {"__init__.py", "pytest.ini", "conftest.py", "__pycache__"}


def test_slugs_and_orders_are_unique():
    slugs = [e.slug for e in EXERCISES]
    orders = [e.order for e in EXERCISES]
    assert len(set(slugs)) == len(slugs), f"duplicate slugs: {slugs}"
    assert len(set(orders)) == len(orders), f"duplicate orders: {orders}"


def test_bad_catalogue_entries_are_rejected():
    with pytest.raises(CatalogueError, match="unknown categories"):
        entry = {"slug": "x", "order": 1, "title": "t", "teaches": "t", "points": {"speed": 1}}
        parse({"defaults": DEFAULTS, "exercise": [entry]})
    with pytest.raises(CatalogueError, match="lacks"):
        parse({"defaults": DEFAULTS, "exercise": [{"slug": "x"}]})


def test_every_default_has_its_one_home_in_the_catalogue():
    for key in DEFAULTS:
        partial = {k: v for k, v in DEFAULTS.items() if k != key}
        if key.startswith("limit_"):  # the sandbox's own settings: refused when it reads them
            with pytest.raises(ValueError, match=key.removeprefix("limit_")):
                isolation(parse({"defaults": partial, "exercise": []}))
        else:
            with pytest.raises(CatalogueError, match=f"lacks.*{key}"):
                parse({"defaults": partial, "exercise": []})


def test_an_exercise_is_found_by_its_slug_or_by_its_files_name():
    wait = CATALOGUE.get("wait_for_all")
    assert CATALOGUE.get("01_wait_for_all") is wait and CATALOGUE.get("01_wait_for_all.py") is wait
    with pytest.raises(KeyError, match="known: wait_for_all"):
        CATALOGUE.get("02_wait_for_all")


def test_the_catalogue_lists_exercises_in_their_order():
    e = {"title": "t", "teaches": "t", "points": {"correctness": 1}}
    with pytest.raises(CatalogueError, match="in their order"):
        parse(
            {
                "defaults": DEFAULTS,
                "exercise": [{**e, "slug": "b", "order": 2}, {**e, "slug": "a", "order": 1}],
            }
        )
    with pytest.raises(CatalogueError, match="in their order"):
        parse(
            {
                "defaults": DEFAULTS,
                "exercise": [{**e, "slug": "a", "order": 1}, {**e, "slug": "c", "order": 3}],
            }
        )
    assert [e.order for e in EXERCISES] == list(range(1, len(EXERCISES) + 1))


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.slug)
def test_every_exercise_has_its_mirrored_files(exercise):
    expected = [
        ROOT / "exercises" / exercise.module_file,
        ROOT / "solutions" / exercise.module_file,
        ROOT / "tests" / exercise.test_file,
        layout.HIDDEN / exercise.test_file,
        MUTANTS_DIR / f"{exercise.stem}.toml",
    ]
    missing = [str(p.relative_to(ROOT)) for p in expected if not p.exists()]
    assert not missing, f"{exercise.slug} lacks {missing}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.slug)
def test_every_exercise_has_hints_and_points(exercise):
    assert len(exercise.hints) >= 2, f"{exercise.slug}: give at least two hints"
    assert exercise.max_points > 0, f"{exercise.slug}: no points"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.slug)
def test_every_stub_teaches(exercise):
    source = (ROOT / "exercises" / exercise.module_file).read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert ast.get_docstring(tree), f"{exercise.slug}: the stub needs a module docstring"
    assert "TODO" in source, f"{exercise.slug}: the stub needs a TODO where the work goes"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.slug)
def test_every_exercise_has_at_least_four_mutants(exercise):
    mutants = mutants_of(exercise)
    assert len(mutants) >= 4, f"{exercise.slug}: only {len(mutants)} mutants"
    reference = (ROOT / "solutions" / exercise.module_file).read_text(encoding="utf-8")
    for m in mutants:
        assert set(m.loses) <= set(CATEGORIES), f"{m.id}: unknown category in {m.loses}"
        assert all(exercise.points[c] > 0 for c in m.loses), f"{m.id}: loses a 0-point category"
        m.source(reference)  # raises if a replacement no longer applies exactly once


def _stray(folder: Path, expected: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in expected | ALLOWED_EXTRA)


def test_nothing_is_stray():
    modules = {e.module_file for e in EXERCISES}
    tests = {e.test_file for e in EXERCISES}
    strays = {
        "exercises": _stray(ROOT / "exercises", modules),
        "solutions": _stray(ROOT / "solutions", modules),
        "tests": _stray(ROOT / "tests", tests),
        "grader/hidden": _stray(layout.HIDDEN, tests),
        "mutants": _stray(MUTANTS_DIR, {f"{e.stem}.toml" for e in EXERCISES}),
    }
    for style in ALTERNATIVES_DIR.iterdir():
        strays[f"alternatives/{style.name}"] = _stray(style, modules)
    strays = {k: v for k, v in strays.items() if v}
    assert not strays, f"files that match no catalogue entry: {strays}"


def _hidden_plan() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "plan.jsonl"
        subprocess.run(
            [sys.executable, "-m", "pytest", str(layout.HIDDEN), "--collect-only", "-q",
             *PLUGINS, "--noconftest",
             "--rootdir", str(layout.HIDDEN), "-c", str(layout.HIDDEN / "pytest.ini"),
             "--grader-results", str(results)],
            env=base_env(), capture_output=True, check=False, timeout=120,
        )  # fmt: skip
        for line in results.read_text().splitlines():
            record = json.loads(line)
            if record["event"] == "plan":
                return record["tests"]
    return []


def test_hidden_tests_each_have_one_category_and_cover_the_points():
    plan = _hidden_plan()
    assert plan, "the hidden tests could not be collected"
    uncategorised = [t["nodeid"] for t in plan if t["category"] is None]
    assert not uncategorised, f"tests without exactly one category marker: {uncategorised}"
    for ex in EXERCISES:
        mine = {t["category"] for t in plan if t["exercise"] == ex.slug}
        for category in CATEGORIES:
            has_points = ex.points[category] > 0
            assert (category in mine) == has_points, (
                f"{ex.slug}: category {category} has {ex.points[category]:g} points "
                f"but {'no' if has_points else 'some'} hidden tests"
            )


def _bare_asserts(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert) and n.msg is None]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.slug)
def test_hidden_asserts_all_have_messages(exercise):
    lines = _bare_asserts(layout.HIDDEN / exercise.test_file)
    assert not lines, (
        f"{exercise.test_file}: asserts without a message on lines {lines} would show "
        "the hidden test's source as the diagnosis"
    )


def test_readme_table_is_generated_from_the_catalogue():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert current_block(readme) == table(CATALOGUE), (
        "README.md's exercise table is out of date: run `grader dev readme`"
    )


def test_an_installed_grader_has_every_data_file():
    """pyproject's package-data covers every non-Python file of the package (a wheel needs it)."""
    import tomllib

    package = ROOT / "grader"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["grader"]
    declared = {p for pattern in globs for p in package.glob(pattern) if p.is_file()}
    data = {
        p
        for p in package.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }
    missing = sorted(str(p.relative_to(package)) for p in data - declared)
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
