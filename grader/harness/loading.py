"""Load an exercise module from a root folder laid out like ``exercises/``.

Tests never import ``exercises`` or ``solutions`` by name: the same tests run
against stubs, references, mutants and real submissions. The module is compiled
here so that its top-level code object is known, which lets the race amplifier
target exactly the student's code.

Every load is a fresh module under a unique, importable name (see
:mod:`grader.importable`), so worker processes started by ``spawn`` or
``forkserver`` can import it again, and refuse it if its bytes changed.
"""

from __future__ import annotations

import threading
import types
from dataclasses import dataclass
from pathlib import Path

from grader import importable
from grader.catalogue import Exercise


class ExerciseNotLoadable(Exception):
    """The submission's module is missing or fails at import; the message says why."""


@dataclass(frozen=True)
class LoadedExercise:
    module: types.ModuleType
    code: types.CodeType
    path: Path


def load_exercise(root: Path, exercise: Exercise, timeout: float | None = None) -> LoadedExercise:
    """Compile and execute ``root/NN_slug.py`` as a fresh module, every call.

    With ``timeout``, the module body runs in a watched thread: an import that
    does not finish in time (an infinite loop at top level) raises
    :class:`ExerciseNotLoadable` instead of hanging the test run.
    """
    path = Path(root).absolute() / exercise.module_file
    try:
        data = path.read_bytes()
        source = data.decode("utf-8")
    except FileNotFoundError:
        raise ExerciseNotLoadable(f"{exercise.module_file} is missing from {root}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExerciseNotLoadable(f"cannot read {exercise.module_file}: {exc}") from None
    try:
        code = importable.compile_file(source, path)
    except SyntaxError as exc:
        raise ExerciseNotLoadable(
            f"{exercise.module_file} has a syntax error on line {exc.lineno}: {exc.msg}"
        ) from None
    module = importable.new_module(exercise.slug, path, data)
    error = _execute(code, module, timeout)
    if error is not None:
        importable.forget(module)
        if isinstance(error, _ImportHung):
            raise ExerciseNotLoadable(
                f"importing {exercise.module_file} did not finish within {timeout:g}s "
                "(an endless loop or a blocking call at module level?)"
            )
        raise ExerciseNotLoadable(
            f"importing {exercise.module_file} failed: {type(error).__name__}: {error}"
        ) from error
    return LoadedExercise(module=module, code=code, path=path)


class _ImportHung(Exception):
    pass


def _execute(code: types.CodeType, module: types.ModuleType, timeout: float | None):
    """Run the module body; return the exception it raised (``_ImportHung`` if it hung)."""
    outcome: list[BaseException | None] = []

    def body() -> None:
        try:
            exec(code, module.__dict__)
            outcome.append(None)
        except BaseException as exc:  # any failure at import is the submission's
            outcome.append(exc)

    if timeout is None:
        body()
        return outcome[0]
    runner = threading.Thread(target=body, name="grader-import", daemon=True)
    runner.start()
    runner.join(timeout)
    if runner.is_alive():
        from grader.harness import observe

        observe.hung_threads_left = True
        return _ImportHung()
    return outcome[0]
