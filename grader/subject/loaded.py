"""Load a student's module file under an importable name, as ``grader.harness.loading`` does.

Each load is a fresh module named ``grader.subject.loaded.<name>_<serial>_<digest>_<path>``:
the name carries the file's path (base32) and the first hex digits of its SHA-256. A worker
started by ``spawn`` or ``forkserver`` unpickles the student's functions by importing that
name; importing this module there installs :class:`SubmissionFinder`, which loads the same
file under the same name and refuses it if its bytes changed. A forked worker inherits it.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
import types
from itertools import count
from pathlib import Path

# A module with ``__path__`` is a package: importing a loaded name imports this first.
__path__: list[str] = []

_serial = count()
_DIGEST_CHARS = 16
_LABEL = re.compile(r"[A-Za-z0-9_]{1,60}")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:_DIGEST_CHARS]


def _compile(data: bytes, path: Path) -> types.CodeType:
    return compile(data.decode("utf-8"), str(path), "exec", dont_inherit=True)


def _parse_name(fullname: str) -> tuple[Path, str] | None:
    """The path and digest a loaded module's name carries, or None if it is not one."""
    prefix = __name__ + "."
    if not fullname.startswith(prefix) or "." in fullname[len(prefix) :]:
        return None
    parts = fullname[len(prefix) :].rsplit("_", 2)
    if len(parts) != 3:
        return None
    try:
        raw = base64.b32decode(parts[2].upper() + "=" * (-len(parts[2]) % 8))
    except ValueError:
        return None
    path = os.fsdecode(raw)
    if "\0" in path or not os.path.isabs(path):
        return None
    return Path(path), parts[1]


class SubmissionLoader(importlib.abc.Loader):
    """Executes the file in a worker process, if its bytes are those the subject loaded."""

    def __init__(self, path: Path, digest: str) -> None:
        self.path, self.digest = path, digest

    def exec_module(self, module: types.ModuleType) -> None:
        try:
            data = self.path.read_bytes()
        except (OSError, ValueError) as exc:
            raise ImportError(f"cannot read {self.path}: {exc}", name=module.__name__) from None
        if _digest(data) != self.digest:
            raise ImportError(f"{self.path} changed after it was loaded", name=module.__name__)
        module.__file__ = str(self.path)
        exec(_compile(data, self.path), module.__dict__)


class SubmissionFinder(importlib.abc.MetaPathFinder):
    """Finds the names :func:`load` makes (in worker processes started afresh)."""

    def find_spec(self, fullname, path=None, target=None):
        parsed = _parse_name(fullname)
        if parsed is None:
            return None
        file, digest = parsed
        return importlib.machinery.ModuleSpec(
            fullname, SubmissionLoader(file, digest), origin=str(file)
        )


if not any(isinstance(f, SubmissionFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, SubmissionFinder())


def load(path: str, label: str) -> types.ModuleType:
    """Compile and run the file at ``path`` as a fresh module; its failure propagates.

    ``label`` (letters, digits, underscores) starts the module's name, to make tracebacks readable.
    """
    if not _LABEL.fullmatch(label):
        raise ValueError("a module name is 1 to 60 letters, digits or underscores")
    file = Path(path).absolute()
    data = file.read_bytes()
    code = _compile(data, file)
    digest = _digest(data)
    where = base64.b32encode(os.fsencode(file)).decode().rstrip("=").lower()
    name = f"{__name__}.{label}_{next(_serial)}_{digest}_{where}"
    module = types.ModuleType(name)
    module.__file__ = str(file)
    module.__loader__ = SubmissionLoader(file, digest)
    module.__spec__ = importlib.machinery.ModuleSpec(name, module.__loader__, origin=str(file))
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        exec(code, module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
