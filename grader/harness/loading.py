"""Load an exercise module from a root folder laid out like ``exercises/``.

Tests never import ``exercises`` or ``solutions`` by name: the same tests run
against stubs, references, mutants and real submissions. The module is compiled
here so that its top-level code object is known, which lets the race amplifier
target exactly the student's code.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from grader.catalogue import Exercise

_serial = count()


class ExerciseNotLoadable(Exception):
    """The submission's module is missing or fails at import; the message says why."""


@dataclass(frozen=True)
class LoadedExercise:
    module: types.ModuleType
    code: types.CodeType
    path: Path


def load_exercise(root: Path, exercise: Exercise) -> LoadedExercise:
    """Compile and execute ``root/NN_slug.py`` as a fresh module, every call."""
    path = Path(root) / exercise.module_file
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExerciseNotLoadable(f"{exercise.module_file} is missing from {root}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExerciseNotLoadable(f"cannot read {exercise.module_file}: {exc}") from None
    try:
        code = compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ExerciseNotLoadable(
            f"{exercise.module_file} has a syntax error on line {exc.lineno}: {exc.msg}"
        ) from None
    name = f"_exercise_{exercise.slug}_{next(_serial)}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        exec(code, module.__dict__)
    except BaseException as exc:
        del sys.modules[name]
        raise ExerciseNotLoadable(
            f"importing {exercise.module_file} failed: {type(exc).__name__}: {exc}"
        ) from exc
    return LoadedExercise(module=module, code=code, path=path)
