"""Exercise modules work in worker processes started by fork, spawn and forkserver.

The loader gives every load a unique importable name; a worker started afresh
(spawn, forkserver: Python 3.14's default on Linux) imports the same file under
that name to unpickle the student's functions and classes. These tests run the
loader directly, the visible tests through the ``exercise`` fixture, and the
nbgrader path, each with a solution that picks its start method explicitly.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader import importable
from grader.dev.check import visible_outcomes
from grader.harness.loading import load_exercise

ROOT = Path(__file__).resolve().parents[2]
ALTERNATIVES = Path(__file__).with_name("alternatives")
CAT = catalogue_mod.load()
CPU = CAT.get("cpu_parallel")
START_METHODS = [
    m for m in ("fork", "spawn", "forkserver") if m in multiprocessing.get_all_start_methods()
]
MODULE = '''
import dataclasses
import os


@dataclasses.dataclass
class Pair:
    left: int
    right: int


def square(x):
    return x * x


def describe(x):
    """The module's name and process seen by the worker, and an instance of its class."""
    return __name__, os.getpid(), Pair(x, -x)
'''


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / CPU.module_file).write_text(MODULE, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("method", START_METHODS)
def test_functions_and_classes_of_a_loaded_module_run_in_workers(root, method):
    module = load_exercise(root, CPU).module
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        assert list(pool.map(module.square, range(6))) == [0, 1, 4, 9, 16, 25]
        name, pid, pair = pool.submit(module.describe, 3).result()
    assert pid != os.getpid()
    assert name == module.__name__  # the worker ran the same module, by the same name
    assert type(pair).__name__ == "Pair" and (pair.left, pair.right) == (3, -3)
    assert type(pair) is module.Pair  # unpickled back into the caller's own class


def test_every_load_is_a_fresh_module_with_its_own_name(root):
    first, second = load_exercise(root, CPU), load_exercise(root, CPU)
    assert first.module is not second.module
    assert first.module.__name__ != second.module.__name__
    assert first.code.co_filename == str(root.absolute() / CPU.module_file)
    # Both stay picklable by reference (each name maps to its own module).
    for loaded in (first, second):
        assert pickle.loads(pickle.dumps(loaded.module.square)) is loaded.module.square


def fresh_import(name: str) -> subprocess.CompletedProcess:
    """Import ``name`` in a new interpreter, as a worker started by spawn does."""
    code = f"import importlib; m = importlib.import_module({name!r}); print(m.square(7))"
    return subprocess.run(
        [sys.executable, "-P", "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_a_new_interpreter_imports_the_module_by_its_name(root):
    name = load_exercise(root, CPU).module.__name__
    done = fresh_import(name)
    assert done.returncode == 0 and done.stdout.strip() == "49", done.stderr


def test_a_file_changed_since_it_was_loaded_is_refused_in_the_worker(root):
    name = load_exercise(root, CPU).module.__name__
    path = root / CPU.module_file
    path.write_text(MODULE.replace("x * x", "x + x"), encoding="utf-8")
    done = fresh_import(name)
    assert done.returncode != 0 and "changed after the grader loaded it" in done.stderr


def test_the_finder_loads_checks_and_refuses_in_this_process_too(root):
    """What a fresh worker does, done here: import by name after forgetting the module."""
    name = load_exercise(root, CPU).module.__name__
    del sys.modules[name]
    again = importlib.import_module(name)
    assert again.square(5) == 25 and again.__file__ == str(root.absolute() / CPU.module_file)
    del sys.modules[name]
    (root / CPU.module_file).write_text(MODULE + "\n# edited\n", encoding="utf-8")
    with pytest.raises(ImportError, match="changed after the grader loaded it"):
        importlib.import_module(name)
    (root / CPU.module_file).unlink()
    with pytest.raises(ImportError, match="cannot read"):
        importlib.import_module(name)


@pytest.mark.parametrize(
    "name",
    [
        "grader.importable.nothing",  # not one of the loader's names
        "grader.importable.x_0_0123_!!notbase32",
        "grader.importable.x_0_0123_" + "a" * 7,  # base32 of no file
    ],
)
def test_names_the_loader_did_not_make_are_not_found(name):
    with pytest.raises(ImportError):
        __import__(name)
    assert importable.parse_name("json") is None


@pytest.mark.pack
@pytest.mark.parametrize("method", START_METHODS)
def test_visible_tests_pass_whichever_method_starts_the_workers(method, tmp_path):
    impl = tmp_path / method
    impl.mkdir()
    (impl / CPU.module_file).write_bytes((ALTERNATIVES / method / CPU.module_file).read_bytes())
    outcomes = visible_outcomes(CPU, impl)
    assert len(outcomes) == 5 and set(outcomes.values()) == {"passed"}, outcomes


@pytest.mark.pack
def test_the_nbgrader_path_grades_a_forkserver_solution_in_full():
    from grader.grading.scoring import score_exercise
    from grader.nbcourse.cell import run_code

    source = (ALTERNATIVES / "forkserver" / CPU.module_file).read_text(encoding="utf-8")
    score = score_exercise(run_code(CPU, source, seed=1))
    failures = [f"{r.info.title}: {r.diagnosis}" for r in score.failures()]
    assert not failures and score.earned == score.possible == CPU.max_points, failures


@pytest.mark.pack
@pytest.mark.parametrize("method", [m for m in START_METHODS if m != "fork"])
def test_a_plain_pool_gets_full_marks_when_the_default_is_not_fork(method, tmp_path):
    """Python 3.14 makes forkserver the default on Linux, macOS has spawn: the reference,
    whose ``ProcessPoolExecutor()`` takes the default, is graded with that default."""
    from grader.grading.scoring import grade

    reference = (ROOT / "solutions" / CPU.module_file).read_text(encoding="utf-8")
    switch = f"import multiprocessing\nmultiprocessing.set_start_method({method!r}, force=True)\n"
    (tmp_path / CPU.module_file).write_text(switch + reference, encoding="utf-8")
    score = grade(tmp_path, CAT, only=[CPU.slug], seed=5).exercises[0]
    failures = [f"{r.info.title}: {r.diagnosis}" for r in score.failures()]
    assert not failures and score.earned == score.possible == CPU.max_points, failures
