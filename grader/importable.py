"""A student's file as a fresh module under a name that worker processes can import again.

Every load gets a unique name, ``grader.importable.<label>_<serial>_<digest>_<path>``:
it carries the file's path (base32) and the first hex digits of its SHA-256. A worker
started by ``spawn`` or ``forkserver`` unpickles the student's functions by importing
their module by name; importing this module there installs :class:`SubmissionFinder`,
which loads the same file under the same name and refuses it if its bytes changed since
it was loaded. A forked worker simply inherits the module. Used by the harness (tests in
the student's process) and by the subject runtime; stdlib only.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.abc
import importlib.machinery
import os
import sys
import types
from itertools import count
from pathlib import Path

# This module is also the package that holds the loaded files' names (a module with
# ``__path__`` is a package): importing one of them imports this module first, which
# installs the finder below.
__path__: list[str] = []

_serial = count()
_DIGEST_CHARS = 16  # hex digits of the SHA-256 of the file's bytes carried in the name


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:_DIGEST_CHARS]


def compile_file(source: str | bytes, path: Path) -> types.CodeType:
    """The module's code object (known to the caller: the race amplifier targets it)."""
    if isinstance(source, bytes):
        source = source.decode("utf-8")
    return compile(source, str(path), "exec", dont_inherit=True)


def module_name(label: str, path: Path, file_digest: str, serial: int) -> str:
    """The importable name of one load of ``path`` (whose bytes have ``file_digest``)."""
    where = base64.b32encode(os.fsencode(path)).decode().rstrip("=").lower()
    return f"{__name__}.{label}_{serial}_{file_digest}_{where}"


def parse_name(fullname: str) -> tuple[Path, str] | None:
    """The path and digest a :func:`module_name` carries, or ``None`` if it is not one."""
    prefix = __name__ + "."
    if not fullname.startswith(prefix) or "." in fullname[len(prefix) :]:
        return None
    parts = fullname[len(prefix) :].rsplit("_", 2)
    if len(parts) != 3:
        return None
    _, file_digest, where = parts
    try:
        raw = base64.b32decode(where.upper() + "=" * (-len(where) % 8))
    except ValueError:  # binascii.Error
        return None
    path = os.fsdecode(raw)
    if "\0" in path or not os.path.isabs(path):
        return None  # only names of absolute paths are made
    return Path(path), file_digest


class SubmissionLoader(importlib.abc.Loader):
    """Executes the file in a worker process, if its bytes are those the parent loaded."""

    def __init__(self, path: Path, file_digest: str) -> None:
        self.path, self.digest = path, file_digest

    def exec_module(self, module: types.ModuleType) -> None:
        try:
            data = self.path.read_bytes()
        except (OSError, ValueError) as exc:
            raise ImportError(f"cannot read {self.path}: {exc}", name=module.__name__) from None
        if digest(data) != self.digest:
            raise ImportError(
                f"{self.path} changed after the grader loaded it: a worker process "
                "would run other code than the caller",
                name=module.__name__,
            )
        module.__file__ = str(self.path)
        exec(compile_file(data, self.path), module.__dict__)


class SubmissionFinder(importlib.abc.MetaPathFinder):
    """Finds the names made by :func:`module_name` (in worker processes started afresh)."""

    def find_spec(self, fullname, path=None, target=None):
        parsed = parse_name(fullname)
        if parsed is None:
            return None
        file, file_digest = parsed
        return importlib.machinery.ModuleSpec(
            fullname, SubmissionLoader(file, file_digest), origin=str(file)
        )


if not any(isinstance(f, SubmissionFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, SubmissionFinder())


def new_module(label: str, path: Path, data: bytes) -> types.ModuleType:
    """An empty module for ``path`` (bytes ``data``) under a fresh importable name.

    It is registered in ``sys.modules`` (dataclasses and pickling look modules up by
    name); the caller executes the code in it, and calls :func:`forget` if that fails.
    """
    file_digest = digest(data)
    name = module_name(label, path, file_digest, next(_serial))
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__loader__ = SubmissionLoader(path, file_digest)  # what a worker process uses
    module.__spec__ = importlib.machinery.ModuleSpec(name, module.__loader__, origin=str(path))
    sys.modules[name] = module
    return module


def forget(module: types.ModuleType) -> None:
    sys.modules.pop(module.__name__, None)
