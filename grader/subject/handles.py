"""The subject's objects the judge holds, by handle: the same object always gets the same handle.

Handle 0 is the loaded module. A handle keeps its object alive (so its identity, the key,
stays unique) until the judge releases it. Judge proxies cross as ``Remote(n, "proxy")``
and subject objects sent back as arguments as ``Remote(handle, "handle")``: the judge
writes those type names itself (the codec carries only non-negative handles).
"""

from __future__ import annotations

import threading
from itertools import count
from typing import Any

from grader.wire.codec import ExceptionInfo, Remote, WireError

MODULE = 0
PROXY, HANDLE, ITER, NOTICE = "proxy", "handle", "iter", "notice"
_QUALNAME = type.__dict__["__qualname__"]  # type's own slot: no metaclass property runs
_NAME_CHARS = 200


def type_name(obj: object) -> str:
    """The qualified name of ``obj``'s type, read through type's own descriptor, clipped."""
    name = _QUALNAME.__get__(type(obj))
    return str.__str__(name)[:_NAME_CHARS] if isinstance(name, str) else "?"


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
    make_proxy: Any,
    make_iter: Any = None,
    make_error: Any = None,
) -> Any:
    """``value`` from the judge with its Remotes swapped for subject objects and proxies, and
    its exceptions (``ExceptionInfo``) for live ones (``make_error``)."""
    kind = type(value)
    if kind is ExceptionInfo and make_error is not None:
        return make_error(value)
    if kind is Remote:
        if value.type_name == PROXY:
            return make_proxy(value.handle)
        if value.type_name == NOTICE:
            return make_proxy(value.handle, notice=True)
        if value.type_name == ITER and make_iter is not None:
            return make_iter(value.handle)
        if value.type_name == HANDLE:
            return handles.get(value.handle)
        raise WireError(f"a Remote of unknown kind {value.type_name!r}")
    if kind is list:
        return [resolve(item, handles, make_proxy, make_iter, make_error) for item in value]
    if kind is tuple:
        return tuple(resolve(item, handles, make_proxy, make_iter, make_error) for item in value)
    if kind is dict:
        return {
            key: resolve(item, handles, make_proxy, make_iter, make_error)
            for key, item in value.items()
        }
    return value


def as_data(value: Any, described: Any, max_depth: int, depth: int = 0) -> Any:
    """``value`` with the exceptions in its lists, tuples and dicts ``described`` (as
    ``ExceptionInfo``), so a list of exceptions reads as data, the judge's own by identity."""
    if isinstance(value, BaseException):
        return described(value)
    if depth > max_depth:
        return value  # too deep to send anyway: the encoder says so
    kind = type(value)
    if kind is list:
        return [as_data(item, described, max_depth, depth + 1) for item in value]
    if kind is tuple:
        return tuple(as_data(item, described, max_depth, depth + 1) for item in value)
    if kind is dict:
        return {key: as_data(item, described, max_depth, depth + 1) for key, item in value.items()}
    return value
