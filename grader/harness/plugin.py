"""The pytest plugin: one set of fixtures for visible tests, hidden tests and the self-check.

Options:
  --impl DIR        load exercise modules from DIR (default: ./exercises)
  --race            run every test under the race amplifier (the local race detector)
  --race-seed N     seed for the amplifier's pauses (recorded; replay with it)

The grading run adds its own plugin (:mod:`grader.grading.pytest_plugin`: the
signed records, the sandbox, the tamper check); it reads what a test is about
(:func:`info_of`) and how it failed (:func:`failure_of`) from here.

Test files are matched to exercises by their mirrored name
(``test_NN_slug.py``); hidden tests mark each test with its category:
``@pytest.mark.correctness``, ``@pytest.mark.timing`` or ``@pytest.mark.stress``
(optionally ``@pytest.mark.weight(2)``).
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import zlib
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader.amplifier import MECHANISM, Stats, amplify, code_objects
from grader.catalogue import CATEGORIES, Exercise
from grader.harness import checks
from grader.harness import observe as observe_mod
from grader.harness.fixtures import (  # noqa: F401  (fixtures of this plugin)
    busy_threads,
    child_processes,
    chunk_probe,
    cpu_meter,
    descendants,
    keep,
    live_threads,
    local,
    lock_recorder,
    module_pid,
    pin_to_one_cpu,
    steered_clocks,
    thread_set,
)
from grader.harness.loading import ExerciseNotLoadable, LoadedExercise, load_exercise
from grader.results import TestInfo

_STASH_EXC = pytest.StashKey[BaseException]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency-pack")
    group.addoption("--impl", default="exercises", help="folder laid out like exercises/")
    group.addoption("--race", action="store_true", help="amplify races in every test")
    group.addoption("--race-seed", type=int, default=None, help="replay the amplifier's seed")


def pytest_configure(config: pytest.Config) -> None:
    for category in CATEGORIES:
        config.addinivalue_line("markers", f"{category}: a hidden test in the {category} category")
    config.addinivalue_line("markers", "weight(n): relative weight of a test in its category")
    if config.getoption("race_seed") is None:
        config.option.race_seed = random.SystemRandom().randrange(2**32)


def pytest_report_header(config: pytest.Config) -> list[str]:
    impl = Path(config.getoption("impl")).resolve()
    race = f", race amplifier on ({MECHANISM})" if config.getoption("race") else ""
    return [f"exercises from: {impl}{race}; race seed {config.getoption('race_seed')}"]


# --- which exercise and category a test belongs to -------------------------------------------


def exercise_of(item: pytest.Item) -> Exercise | None:
    return catalogue_mod.load().by_test_file(str(item.path))


def category_of(item: pytest.Item) -> str | None:
    found = [c for c in CATEGORIES if item.get_closest_marker(c)]
    return found[0] if len(found) == 1 else None


def info_of(item: pytest.Item) -> TestInfo:
    """What the grader records about a test: its exercise, category, weight and title."""
    ex = exercise_of(item)
    weight = item.get_closest_marker("weight")
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    title = doc.strip().splitlines()[0] if doc.strip() else item.name
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        title = f"{title} [{callspec.id}]"
    return TestInfo(
        nodeid=item.nodeid,
        exercise=ex.slug if ex else None,
        category=category_of(item),
        weight=float(weight.args[0]) if weight else 1.0,
        title=title,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    checks.RATIO.set(None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception):
        item.stash.setdefault(_STASH_EXC, call.excinfo.value)
    elif call.excinfo is not None and _raised_by_submission(item, call.excinfo.value):
        # pytest.skip/xfail from student code would leave the test out of the maximum.
        forged = pytest.fail.Exception(_FORGED_SKIP, pytrace=False)
        item.stash.setdefault(_STASH_EXC, forged)
        report.outcome, report.longrepr = "failed", _FORGED_SKIP
    return report


def failure_of(item: pytest.Item) -> BaseException | None:
    """The exception that failed ``item`` (a forged skip counts), if any did."""
    return item.stash.get(_STASH_EXC, None)


_FORGED_SKIP = "the submission tried to skip the test (pytest.skip or xfail from student code)"


def _raised_by_submission(item: pytest.Item, exc: BaseException) -> bool:
    root = str(Path(item.config.getoption("impl")).resolve())
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(root):
            return True
        tb = tb.tb_next
    return False


def pytest_unconfigure(config: pytest.Config) -> None:
    if observe_mod.hung_threads_left:
        # A watched call hung: its threads may never end and would block the
        # interpreter's exit. Every result is already written.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(getattr(config, "_grader_exitstatus", 1))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._grader_exitstatus = int(exitstatus)  # type: ignore[attr-defined]


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def exercise_info(request: pytest.FixtureRequest) -> Exercise:
    """The catalogue entry of the exercise this test file is about."""
    ex = exercise_of(request.node)
    if ex is None:
        pytest.fail(f"{request.node.path.name} matches no exercise in the catalogue", pytrace=False)
    return ex


@pytest.fixture
def impl_root(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.getoption("impl")).resolve()


@pytest.fixture
def race_seed(request: pytest.FixtureRequest) -> int:
    """This test's amplifier seed: the session seed mixed with the test's id."""
    base = request.config.getoption("race_seed")
    return zlib.crc32(f"{base}:{request.node.nodeid}".encode())


@pytest.fixture
def loaded(
    request: pytest.FixtureRequest, exercise_info: Exercise, impl_root: Path, race_seed: int
) -> Iterator[LoadedExercise]:
    """The exercise module, freshly loaded from ``--impl`` for this test.

    A module that fails to import fails every later test at once with the
    same message, instead of failing (or hanging) once per test.
    """
    failures = request.config.stash.setdefault(_LOAD_FAILURES, {})
    key = (str(impl_root), exercise_info.slug)
    if key in failures:
        pytest.fail(failures[key], pytrace=False)
    try:
        loaded = load_exercise(
            impl_root, exercise_info, timeout=_import_timeout(request.config, exercise_info)
        )
    except ExerciseNotLoadable as exc:
        failures[key] = str(exc)
        pytest.fail(str(exc), pytrace=False)
    if request.config.getoption("race"):
        with amplify(code_objects(loaded.code), seed=race_seed) as stats:
            request.node.stash[_ACTIVE_RACE] = stats
            yield loaded
    else:
        yield loaded


_ACTIVE_RACE = pytest.StashKey[Stats]()
_LOAD_FAILURES = pytest.StashKey[dict]()


def _test_timeout(config: pytest.Config, exercise: Exercise) -> float:
    """The per-test limit in force: pytest-timeout's ``--timeout`` if set, else the catalogue's."""
    configured = getattr(config.option, "timeout", None)
    return float(configured) if configured else exercise.test_timeout


def _import_timeout(config: pytest.Config, exercise: Exercise) -> float:
    return max(1.0, min(10.0, _test_timeout(config, exercise) / 3))


@pytest.fixture
def exercise(loaded: LoadedExercise):
    """The exercise module under test (stub, solution, mutant or submission)."""
    return loaded.module


@pytest.fixture
def race(
    request: pytest.FixtureRequest, loaded: LoadedExercise, race_seed: int
) -> Callable[..., contextlib.AbstractContextManager[Stats]]:
    """``with race(probability=p):`` runs the block with races in the exercise amplified.

    ``also_before=("LOAD_DEREF",)`` also pauses before closure reads (late binding).
    """

    def activate(
        probability: float = 1.0, delay: float = 0.001, also_before: tuple[str, ...] = ()
    ) -> contextlib.AbstractContextManager[Stats]:
        outer = request.node.stash.get(_ACTIVE_RACE, None)
        if outer is not None:  # --race already amplifies the whole test
            return contextlib.nullcontext(outer)
        return amplify(
            code_objects(loaded.code),
            seed=race_seed,
            probability=probability,
            delay=delay,
            also_before=also_before,
        )

    return activate


@pytest.fixture
def watch(
    request: pytest.FixtureRequest, impl_root: Path, exercise_info: Exercise
) -> Callable[..., observe_mod.Observation]:
    """``watch(fn, *args)``: call student code under the watchdog and hygiene checks.

    The watchdog fires before pytest-timeout would, so a hang fails only its
    test, with the student's stacks, and the run goes on.
    """
    limit = max(1.0, _test_timeout(request.config, exercise_info) * 0.8)
    return partial(observe_mod.observe, timeout=limit, student_root=str(impl_root))
