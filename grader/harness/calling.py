"""Calls between a hidden test and student code, read the same in-process and in the judge.

``invoke(module, "name", *args)`` calls a function of the module under test by name: the
same as ``getattr(module, name)(*args)``. When the module lives in the judge's subject
process (a ``RemoteObject``, whose type offers ``_judge_invoke``), the lookup and the call
are one round trip instead of two: hidden tests that make hundreds of direct calls
(property-based ones) pay half the wire.

``each(function, points)`` calls a function once per tuple of arguments, in turn: for a
remote one, all in one round trip (a property test's batch of points).

``attributes(objects, name)`` reads one attribute of each object: for remote objects, in one
round trip (a bank's balances, read by an audit that student code is waiting on).

``is_instance(value, cls)`` is ``isinstance``, asked where the value lives: for a
``RemoteObject`` (its type offers ``_judge_isinstance``), the subject checks its own object
against its own ``cls`` (named by module and qualified name), so a hidden test need not
trust a type name the student chose.

``Notice(fn)`` marks a test's callable as a notice: it only records, returns None and never
raises or blocks. In-process it is ``fn``; in the judge student code does not wait for it:
each call is sent one way, and the judge runs it in channel order, before any later reply is
delivered, so what a call's reply reports includes every notice sent before it.

``Token(label)`` is a value of the test's that student code only holds and hands back (what a
test compute returns, when a test checks that callers get "the very same object"). In the
judge it crosses by reference: student code holds one stand-in per token, and the very token
comes back, so ``is`` still compares identity. Tokens with equal labels are equal.

``caller()`` is, inside a test's callable called by student code, the thread that called
it: ``threading.current_thread()`` in-process. In the judge the callable runs on a judge
thread, and the caller comes with the callback (``calling_from``): the test's own thread
when student code called back on the very thread the test called it on, else the student's
thread as a ``StudentThread`` (the identity the ``thread_set`` fixture lists). Either way it
is equal for calls from the same thread and never for another.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

_calling = threading.local()


class Notice:
    """A recording callable that student code need not wait for (see above)."""

    __slots__ = ("function",)

    def __init__(self, function: Callable[..., None]) -> None:
        self.function = function

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.function(*args, **kwargs)


class Token:
    """A value student code only holds and hands back, by reference in the judge (see above)."""

    __slots__ = ("label",)

    def __init__(self, label: object) -> None:
        self.label = label

    def __eq__(self, other: object) -> bool:
        return type(other) is Token and other.label == self.label

    def __hash__(self) -> int:
        return hash((Token, self.label))

    def __repr__(self) -> str:
        return f"<the value for {self.label!r}>"


def is_instance(value: Any, cls: type) -> bool:
    """``isinstance(value, cls)``, checked in the subject for an object that lives there."""
    check = getattr(type(value), "_judge_isinstance", None)
    if check is not None:
        return bool(check(value, cls))
    return isinstance(value, cls)


def same(a: Any, b: Any) -> bool:
    """``a is b``; for objects that live in the subject, whether they are the very same one."""
    check = getattr(type(a), "_judge_same", None)
    return bool(check(a, b)) if check is not None else a is b


def type_name(value: Any) -> str:
    """The name of ``value``'s type (for an object in the subject, of its type there)."""
    name = getattr(type(value), "_judge_type_name", None)
    return str(name(value)) if name is not None else type(value).__name__


def caller() -> object:
    """The thread calling the current callable of the test (an identity, see above)."""
    who = getattr(_calling, "who", None)
    return threading.current_thread() if who is None else who


def calling_thread() -> object:
    """The calling thread as an argument for the module's side: ``threading.current_thread()``
    in-process; in the judge its ``StudentThread``, even when it runs the test's own request,
    which crosses as that very thread (a recorder's ``held_by(calling_thread())``)."""
    there = getattr(_calling, "there", None)
    return threading.current_thread() if there is None else there


@contextlib.contextmanager
def calling_from(who: object, there: object = None) -> Iterator[None]:
    """Within: ``caller()`` on this thread is ``who`` and ``calling_thread()`` is ``there``
    (the judge serving a callback)."""
    before = getattr(_calling, "who", None), getattr(_calling, "there", None)
    _calling.who, _calling.there = who, there
    try:
        yield
    finally:
        _calling.who, _calling.there = before


def attributes(objects: Sequence[Any], name: str) -> list[Any]:
    """``[getattr(obj, name) for obj in objects]``, in one round trip for remote objects."""
    objects = list(objects)
    hook = getattr(type(objects[0]), "_judge_attributes", None) if objects else None
    if hook is not None and all(type(obj) is type(objects[0]) for obj in objects):
        return list(hook(objects[0], objects, name))
    return [getattr(obj, name) for obj in objects]


def each(function: Any, points: Sequence[Sequence[Any]]) -> list[tuple[bool, Any]]:
    """``function(*point)`` for each point in turn: each call's ``(True, value)``, or
    ``(False, exception)`` if it raised an Exception; one round trip for a remote function."""
    points = [list(point) for point in points]
    remote = getattr(type(function), "_judge_each", None)
    if remote is not None:
        return remote(function, points)
    outcomes: list[tuple[bool, Any]] = []
    for point in points:
        try:
            outcomes.append((True, function(*point)))
        except Exception as exc:  # the outcome the caller checks
            outcomes.append((False, exc))
    return outcomes


def invoke(target: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """``getattr(target, name)(*args, **kwargs)``, in one round trip for a remote module."""
    direct = getattr(type(target), "_judge_invoke", None)
    if direct is not None:
        return direct(target, name, args, kwargs)
    return getattr(target, name)(*args, **kwargs)
