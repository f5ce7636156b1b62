"""The subject's answers to the judge's questions about objects and threads, not calls.

Kept out of ``runtime`` so it stays a dispatcher: ``isinstance`` against a class named by
module and qualified name, the ``with`` protocol as the statement runs it, the student's
threads alive, and where the lane threads of a run are (``lanes.inside``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any


def is_instance(obj: object, module: str, name: str) -> bool:
    """``isinstance(obj, cls)`` for the class ``module.name``, among the modules imported."""
    if module not in sys.modules:  # never imported here: nothing is an instance of it
        return False
    cls: Any = sys.modules[module]
    for part in str.split(name, "."):
        cls = getattr(cls, part)
    if not isinstance(cls, type):
        raise TypeError(f"{name} is not a class here")
    return isinstance(obj, cls)


def with_protocol(op: str, target: Any, exc: object) -> Any:
    """The ``with`` statement's protocol on ``target``, looked up on its type as it does."""
    if op == "enter":
        return type(target).__enter__(target)
    if exc is not None and not isinstance(exc, BaseException):
        raise TypeError("exit takes an exception or None")
    return type(target).__exit__(target, None if exc is None else type(exc), exc, None)


def threads(
    own: Callable[[threading.Thread], bool], serial_of: Callable[[threading.Thread], int]
) -> list[list[Any]]:
    """The threads alive now that are not the runtime's: [serial, name] pairs."""
    alive = [t for t in threading.enumerate() if not own(t)]
    return [[serial_of(t), str.__str__(t.name)[:200]] for t in alive]
