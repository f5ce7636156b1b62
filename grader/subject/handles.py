"""The subject's objects the judge holds, by handle: the same object always gets the same handle.

Handle 0 is the loaded module. A handle keeps its object alive (so its identity, the key,
stays unique) until the judge releases it. Judge proxies cross as ``Remote(n, "proxy")``
and subject objects sent back as arguments as ``Remote(handle, "handle")``: the judge
writes those type names itself (the codec carries only non-negative handles). A judge value
(a ``Token``) crosses as ``Remote(n, JUDGE_VALUE)`` both ways: student code holds its one
``JudgeValue`` here, and the judge gets its very token back (a copy of the stand-in comes
back as ``JUDGE_COPY``: an equal token, not the same).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from itertools import count
from typing import Any

from grader.wire.codec import HANDLE, JUDGE_COPY, JUDGE_VALUE, ExceptionInfo, Remote, WireError

MODULE = 0
_QUALNAME = type.__dict__["__qualname__"]  # type's own slot: no metaclass property runs
_NAME_CHARS = 200


def type_name(obj: object) -> str:
    """The qualified name of ``obj``'s type, read through type's own descriptor, clipped."""
    name = _QUALNAME.__get__(type(obj))
    if not isinstance(name, str):
        return "?"
    name = str.__str__(name)[:_NAME_CHARS]
    return name + "?" if name in (JUDGE_VALUE, JUDGE_COPY) else name  # never a judge value


class Handles:
    """A thread-safe table from handle to object and from object identity to handle."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[int, object] = {}
        self._by_id: dict[int, int] = {}
        self._next = count(1)

    def set_module(self, module: object) -> None:
        with self._lock:
            old = self._objects.pop(MODULE, None)
            if old is not None and self._by_id.get(id(old)) == MODULE:
                del self._by_id[id(old)]
            self._objects[MODULE] = module
            self._by_id.setdefault(id(module), MODULE)

    def remote(self, obj: object) -> Remote:
        """The Remote for ``obj``, registering it if it has no handle yet."""
        with self._lock:
            handle = self._by_id.get(id(obj))
            if handle is None or self._objects.get(handle) is not obj:
                handle = next(self._next)
                self._objects[handle], self._by_id[id(obj)] = obj, handle
        return Remote(handle, type_name(obj))

    def get(self, handle: object) -> object:
        with self._lock:
            if type(handle) is not int or handle not in self._objects:
                raise LookupError(f"no object has the handle {handle!r} (released, or never made)")
            return self._objects[handle]

    def release(self, handles: list[int]) -> None:
        with self._lock:
            for handle in handles:
                if handle == MODULE:
                    continue
                obj = self._objects.pop(handle, None)
                if obj is not None and self._by_id.get(id(obj)) == handle:
                    del self._by_id[id(obj)]


def resolve(
    value: Any,
    handles: Handles,
    makers: dict[str, Callable[[int], Any]],
    make_error: Callable[[ExceptionInfo], BaseException] | None = None,
) -> Any:
    """``value`` from the judge with its Remotes swapped for subject objects (``HANDLE``) or
    what ``makers`` make of the judge's own by kind (proxies, iterators, notices, values), and
    its exceptions (``ExceptionInfo``) for live ones (``make_error``)."""
    kind = type(value)
    if kind is ExceptionInfo and make_error is not None:
        return make_error(value)
    if kind is Remote:
        if value.type_name == HANDLE:
            return handles.get(value.handle)
        make = makers.get(value.type_name)
        if make is None:
            raise WireError(f"a Remote of unknown kind {value.type_name!r}")
        return make(value.handle)
    if kind is list:
        return [resolve(item, handles, makers, make_error) for item in value]
    if kind is tuple:
        return tuple(resolve(item, handles, makers, make_error) for item in value)
    if kind is dict:
        return {key: resolve(item, handles, makers, make_error) for key, item in value.items()}
    return value


def as_data(value: Any, described: Any, max_depth: int, values: JudgeValues, depth: int = 0) -> Any:
    """``value`` with the exceptions in its lists, tuples and dicts ``described`` (as
    ``ExceptionInfo``), so a list of exceptions reads as data, the judge's own by identity,
    and the judge's values (``JudgeValues``) as the references the judge sent."""
    if isinstance(value, BaseException):
        return described(value)
    if depth > max_depth:
        return value  # too deep to send anyway: the encoder says so
    kind = type(value)
    if kind is JudgeValue:
        return values.reference(value)
    if kind is list:
        return [as_data(item, described, max_depth, values, depth + 1) for item in value]
    if kind is tuple:
        return tuple(as_data(item, described, max_depth, values, depth + 1) for item in value)
    if kind is dict:
        return {
            key: as_data(item, described, max_depth, values, depth + 1)
            for key, item in value.items()
        }
    return value


class JudgeValue:
    """A judge's value (``grader.harness.calling.Token``) as student code holds it: opaque,
    the one object for that value in this process, handed back to the judge by reference."""

    __slots__ = ("_number",)

    def __init__(self, number: int) -> None:
        self._number = number

    def __repr__(self) -> str:
        return f"<grader value {self._number}>"


class JudgeValues:
    """One ``JudgeValue`` per number the judge sent; a copy of one is not it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[int, JudgeValue] = {}

    def get(self, number: int) -> JudgeValue:
        with self._lock:
            found = self._made.get(number)
            if found is None:
                found = self._made[number] = JudgeValue(number)
            return found

    def reference(self, value: JudgeValue) -> Remote | JudgeValue:
        """How ``value`` goes back: the judge's token, a copy of it (equal, not the same), or,
        for a stand-in of no token, itself (not data: kept here and sent by handle)."""
        number = value._number
        with self._lock:
            made = self._made.get(number) if type(number) is int else None
        if made is None:
            return value
        return Remote(number, JUDGE_VALUE if made is value else JUDGE_COPY)
