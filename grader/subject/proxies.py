"""What student code is handed for a judge callable: a ``Proxy`` whose call is a round trip.

A judge exception comes back as data; it is rebuilt here as the first builtin exception
type its ``bases`` name (else ``RuntimeError``), with its message and notes, and its tag is
remembered for that very object, so a later ``describe`` of it reports the same tag.
Copies and wrappers made by student code carry no tag.
"""

from __future__ import annotations

import builtins
import sys
import threading
from collections.abc import Callable
from typing import Any

from grader.wire.codec import ExceptionInfo

_gettrace, _settrace = sys.gettrace, sys.settrace  # taken at import


def untraced(call: Callable[..., Any], *args: Any) -> Any:
    """``call(*args)`` with this thread's trace function off meanwhile: 3.11's race
    amplifier (``sys.settrace``) is called at every function call of a traced thread, and
    the grader's own code on the student's threads needs none of it."""
    tracer = _gettrace()
    if tracer is None:
        return call(*args)
    _settrace(None)
    try:
        return call(*args)
    finally:
        _settrace(tracer)


class Tags:
    """The tag of each exception rebuilt from the judge's data, by identity (kept alive)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tags: dict[int, tuple[BaseException, str]] = {}

    def remember(self, exc: BaseException, tag: str) -> None:
        with self._lock:
            self._tags[id(exc)] = (exc, tag)

    def tag_of(self, exc: BaseException) -> str | None:
        with self._lock:
            entry = self._tags.get(id(exc))
        return entry[1] if entry is not None and entry[0] is exc else None


def _builtin_type(info: ExceptionInfo) -> type[Exception]:
    for name in info.bases:  # qualified names, the type first: "builtins.TimeoutError"
        module, _, qualname = name.partition(".")
        candidate = getattr(builtins, qualname, None) if module == "builtins" else None
        if isinstance(candidate, type) and issubclass(candidate, Exception):
            return candidate
    return RuntimeError


def rebuild(info: ExceptionInfo, tags: Tags) -> Exception:
    """A live exception standing for the judge's ``info`` (its tag remembered)."""
    try:
        exc = _builtin_type(info)(info.message)
    except Exception:  # a builtin that needs other arguments (ExceptionGroup, UnicodeError...)
        exc = RuntimeError(info.message)
    for note in info.notes:
        exc.add_note(note)
    if info.tag is not None:
        tags.remember(exc, info.tag)
    return exc


class Proxy:
    """A judge callable as student code sees it: calling it asks the judge and waits."""

    __slots__ = ("_call", "_number")

    def __init__(self, number: int, call: Any) -> None:
        self._number, self._call = number, call

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return untraced(self._call, self._number, args, kwargs)

    def __repr__(self) -> str:
        return f"<grader proxy {self._number}>"


class IterProxy:
    """A judge iterator as student code sees it: each ``next`` asks the judge and waits.

    The judge's ``StopIteration`` comes back as one, so a ``for`` loop ends as it would.
    """

    __slots__ = ("_call", "_number")

    def __init__(self, number: int, call: Any) -> None:
        self._number, self._call = number, call

    def __iter__(self) -> IterProxy:
        return self

    def __next__(self) -> Any:
        return untraced(self._call, self._number, (), {})

    def __repr__(self) -> str:
        return f"<grader iterator {self._number}>"
