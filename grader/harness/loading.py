"""Load an exercise module from a root folder laid out like ``exercises/``.

Tests never import ``exercises`` or ``solutions`` by name: the same tests run
against stubs, references, mutants and real submissions. The module is compiled
here so that its top-level code object is known, which lets the race amplifier
target exactly the student's code.

Every load is a fresh module under a unique, importable name,
``grader.harness.loading.<slug>_<serial>_<digest>_<path>``: the name carries
the file's path (base32) and the first bytes of its SHA-256. A worker process
started by ``spawn`` or ``forkserver`` unpickles the student's functions by
importing their module by name; importing this package there installs
:class:`SubmissionFinder`, which loads the same file under the same name, and
refuses it if its bytes changed since the parent loaded it. A forked worker
simply inherits the parent's module.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
import types
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from grader.catalogue import Exercise

# This module is also the package that holds the loaded exercises' names
# (a module with ``__path__`` is a package): importing one of them imports
# this module first, which installs the finder below.
__path__: list[str] = []

_serial = count()
_DIGEST_CHARS = 16  # hex digits of the SHA-256 of the file's bytes carried in the name


class ExerciseNotLoadable(Exception):
    """The submission's module is missing or fails at import; the message says why."""


@dataclass(frozen=True)
class LoadedExercise:
    module: types.ModuleType
    code: types.CodeType
    path: Path


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:_DIGEST_CHARS]


def module_name(slug: str, path: Path, digest: str, serial: int) -> str:
    """The importable name of one load of ``path`` (whose bytes have ``digest``)."""
    where = base64.b32encode(os.fsencode(path)).decode().rstrip("=").lower()
    return f"{__name__}.{slug}_{serial}_{digest}_{where}"


def _parse_name(fullname: str) -> tuple[Path, str] | None:
    """The path and digest a :func:`module_name` carries, or ``None`` if it is not one."""
    prefix = __name__ + "."
    if not fullname.startswith(prefix) or "." in fullname[len(prefix) :]:
        return None
    parts = fullname[len(prefix) :].rsplit("_", 2)
    if len(parts) != 3:
        return None
    _, digest, where = parts
    try:
        raw = base64.b32decode(where.upper() + "=" * (-len(where) % 8))
    except ValueError:  # binascii.Error
        return None
    path = os.fsdecode(raw)
    if "\0" in path or not os.path.isabs(path):
        return None  # the loader only makes names of absolute paths
    return Path(path), digest


class SubmissionLoader(importlib.abc.Loader):
    """Executes an exercise file in a worker process, if its bytes are those the parent loaded."""

    def __init__(self, path: Path, digest: str) -> None:
        self.path, self.digest = path, digest

    def exec_module(self, module: types.ModuleType) -> None:
        try:
            data = self.path.read_bytes()
        except (OSError, ValueError) as exc:
            raise ImportError(f"cannot read {self.path}: {exc}", name=module.__name__) from None
        if _digest(data) != self.digest:
            raise ImportError(
                f"{self.path} changed after the grader loaded it: a worker process "
                "would run other code than the caller",
                name=module.__name__,
            )
        module.__file__ = str(self.path)
        exec(_compile(data.decode("utf-8"), self.path), module.__dict__)


class SubmissionFinder(importlib.abc.MetaPathFinder):
    """Finds the names made by :func:`module_name` (in worker processes started afresh)."""

    def find_spec(self, fullname, path=None, target=None):
        parsed = _parse_name(fullname)
        if parsed is None:
            return None
        file, digest = parsed
        return importlib.machinery.ModuleSpec(
            fullname, SubmissionLoader(file, digest), origin=str(file)
        )


def _install_finder() -> None:
    if not any(isinstance(f, SubmissionFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, SubmissionFinder())


_install_finder()


def _compile(source: str, path: Path) -> types.CodeType:
    return compile(source, str(path), "exec", dont_inherit=True)


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
        code = _compile(source, path)
    except SyntaxError as exc:
        raise ExerciseNotLoadable(
            f"{exercise.module_file} has a syntax error on line {exc.lineno}: {exc.msg}"
        ) from None
    digest = _digest(data)
    name = module_name(exercise.slug, path, digest, next(_serial))
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__loader__ = SubmissionLoader(path, digest)  # what a worker process will use
    module.__spec__ = importlib.machinery.ModuleSpec(name, module.__loader__, origin=str(path))
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    error = _execute(code, module, timeout)
    if error is not None:
        sys.modules.pop(name, None)
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
