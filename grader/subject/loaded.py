"""Load a student's module file in the subject, under a name workers can import again.

The name and the finder for ``spawn``/``forkserver`` workers are :mod:`grader.importable`'s,
shared with the harness; this module only checks the judge's label and runs the file.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

from grader import importable

_LABEL = re.compile(r"[A-Za-z0-9_]{1,60}")


def load(path: str, label: str) -> tuple[types.ModuleType, types.CodeType]:
    """Compile and run the file at ``path`` as a fresh module; its failure propagates.

    Returns the module and its top-level code object (the race amplifier's target).

    ``label`` (letters, digits, underscores) starts the module's name, to make tracebacks readable.
    """
    if not _LABEL.fullmatch(label):
        raise ValueError("a module name is 1 to 60 letters, digits or underscores")
    file = Path(path).absolute()
    data = file.read_bytes()
    try:
        code = importable.compile_file(data, file)
    except SyntaxError as error:  # told as "line N: message", never with the file's path
        raise SyntaxError(f"line {error.lineno}: {error.msg}") from None
    module = importable.new_module(label, file, data)
    try:
        exec(code, module.__dict__)
    except BaseException:
        importable.forget(module)
        raise
    return module, code
