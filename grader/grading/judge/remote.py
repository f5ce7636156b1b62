"""How the judge holds the subject's objects and hands over its own callables.

A ``RemoteObject`` stands for an object that stays in the subject: reading an attribute,
setting one or calling it is a round trip (``Subject``); the judge never calls a method of a
student object. A ``JudgeProxy`` is a judge callable registered with the subject; passed as
an argument it reaches student code as a callable that calls back. Both cross as ``Remote``
values whose type name says which side's they are (the subject reads only those two).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from grader.harness.calling import Token
from grader.wire.codec import (
    HANDLE,
    JUDGE_COPY,
    JUDGE_VALUE,
    PLAIN_TYPES,
    PROXY,
    THREAD,
    ExceptionInfo,
    Remote,
)

if TYPE_CHECKING:
    from grader.grading.judge.subject import Subject


@dataclass(frozen=True)
class JudgeProxy:
    """A judge callable as an argument: number ``number`` in the subject's connection.

    ``kind`` ``"iter"``: an iterator of the judge's; student code sees an iterator whose
    ``__next__`` calls back (the callable registered is its ``next``). ``"notice"``: a
    ``Notice``, called one way (student code does not wait for it). ``JUDGE_VALUE``: a
    ``Token``, never called, held by student code and handed back by reference.
    """

    number: int
    kind: str = PROXY


@dataclass(frozen=True)
class StudentThread:
    """A thread of the subject's, as the judge knows it: equal for the same thread, never
    for another (``serial`` is the subject's count of threads, not a reusable ident)."""

    serial: int
    name: str = field(default="", compare=False)

    @property
    def ident(self) -> int:
        """The serial, where a record keeps a thread's ident."""
        return self.serial


class RemoteObject:
    """An object in the subject, by handle; equal RemoteObjects are the very same object there."""

    __slots__ = ("_judge_handle", "_judge_label", "_judge_subject", "_judge_type")

    def __init__(self, subject: Subject, handle: int, type_name: str, label: str = "") -> None:
        object.__setattr__(self, "_judge_subject", subject)
        object.__setattr__(self, "_judge_handle", handle)
        object.__setattr__(self, "_judge_type", type_name)
        object.__setattr__(self, "_judge_label", label or f"{type_name} #{handle}")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # protocol lookups (copy, pickle) stay judge-side
        return self._judge_subject.get(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._judge_subject.set(self, name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._judge_subject.call(self, None, *args, **kwargs)

    def _judge_invoke(self, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        """``self.name(*args, **kwargs)`` in one round trip (``grader.harness.calling``)."""
        return self._judge_subject.call(self, name, *args, **kwargs)

    def _judge_each(self, points: list[list[Any]]) -> list[tuple[bool, Any]]:
        """This callable with each point's arguments, in turn, in one round trip
        (``grader.harness.calling.each``)."""
        return self._judge_subject.each(self, points)

    def _judge_lanes(self, lanes: list[list[Any]]) -> tuple[list[Any], list[Any]]:
        """Run the lanes of calls together in the subject (``grader.harness.together``)."""
        return self._judge_subject.lanes(lanes)

    def _judge_acall(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Await this coroutine function in a fresh loop in the subject (``harness.aio``)."""
        return self._judge_subject.acall(self, args, kwargs)

    def _judge_inside(self) -> list[int]:
        """Where the lane threads running in the subject are (``together.lanes_inside``)."""
        return self._judge_subject.request("inside", "asking where the threads are")

    def _judge_attributes(self, objects: list[RemoteObject], name: str) -> list[Any]:
        """``name`` of each object, read in one round trip (``harness.calling.attributes``)."""
        return self._judge_subject.get_many(objects, name)

    def _judge_isinstance(self, cls: type) -> bool:
        """``isinstance(self, cls)`` in the subject (``grader.harness.calling.is_instance``)."""
        return self._judge_subject.isinstance(self, cls)

    def _judge_same(self, other: object) -> bool:
        """``self is other`` there (``grader.harness.calling.same``)."""
        return isinstance(other, RemoteObject) and self == other

    def _judge_type_name(self) -> str:
        """The object's type name there (``grader.harness.calling.type_name``)."""
        return self._judge_type

    def __enter__(self) -> Any:
        """``with remote:`` runs the object's own ``__enter__`` in the subject."""
        return self._judge_subject.request(
            "enter", f"entering {self._judge_label}", target=self._judge_handle
        )

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> bool:
        """The object's own ``__exit__``, told of the block's exception (if any)."""
        fields = {"target": self._judge_handle, "error": self._judge_subject.described(error)}
        return bool(self._judge_subject.request("exit", f"leaving {self._judge_label}", **fields))

    def __iter__(self) -> Any:
        """Iterating a remote object reads its items as data at once (``list(kept)``: a copy,
        now), iterated in the subject as ``list(obj)`` would."""
        return iter(self._judge_subject.items(self))

    def __len__(self) -> int:
        return len(self._judge_subject.items(self))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RemoteObject):
            return NotImplemented
        return (other._judge_subject, other._judge_handle) == (
            self._judge_subject,
            self._judge_handle,
        )

    def __hash__(self) -> int:
        return hash((id(self._judge_subject), self._judge_handle))

    def __repr__(self) -> str:
        return f"<remote {self._judge_type} #{self._judge_handle}>"


def handle_of(obj: RemoteObject) -> int:
    return obj._judge_handle


def label_of(obj: RemoteObject) -> str:
    """How the judge reached ``obj`` (the attribute name it was read as), for messages."""
    return obj._judge_label


def labelled(value: Any, label: str) -> Any:
    """``value``, named ``label`` if it is a RemoteObject."""
    if isinstance(value, RemoteObject):
        object.__setattr__(value, "_judge_label", label)
    return value


def type_name_of(obj: RemoteObject) -> str:
    """The type's qualified name as the subject read it (student-chosen text)."""
    return obj._judge_type


def outbound(
    value: Any,
    proxy: Callable[[Any], Any] | None = None,
    described: Callable[[BaseException], ExceptionInfo] | None = None,
) -> Any:
    """``value`` with RemoteObjects and JudgeProxies swapped for the Remotes that stand for them.

    With ``proxy``, any other callable (not a class), iterator (a generator, a recording
    source) or ``Token`` is made a JudgeProxy by it first; with ``described``, an exception
    (a local service's planned failure) crosses as its descriptor, the judge's by tag.
    """
    if type(value) in PLAIN_TYPES:
        return value
    if isinstance(value, RemoteObject):
        return Remote(value._judge_handle, HANDLE)
    if isinstance(value, JudgeProxy):
        return Remote(value.number, value.kind)
    if type(value) is StudentThread:  # the thread itself, there (``calling_thread()``)
        return Remote(value.serial, THREAD)
    if type(value) is list:
        return [outbound(item, proxy, described) for item in value]
    if type(value) is tuple:
        return tuple(outbound(item, proxy, described) for item in value)
    if type(value) is dict:
        return {key: outbound(item, proxy, described) for key, item in value.items()}
    if described is not None and isinstance(value, BaseException):
        return described(value)
    judge_made = is_iterator(value) or callable(value) or type(value) is Token
    if proxy is not None and judge_made and not isinstance(value, type):
        return outbound(proxy(value))
    return value


def is_iterator(value: Any) -> bool:
    """An iterator of the judge's (a generator, a source that records its pulls)."""
    kind = type(value)
    return hasattr(kind, "__next__") and hasattr(kind, "__iter__")


def inbound(value: Any, subject: Subject) -> Any:
    """``value`` from the subject with its Remotes made RemoteObjects of ``subject``, and its
    exceptions live ones (the judge's own by identity)."""
    if type(value) in PLAIN_TYPES:
        return value
    if type(value) is Remote:
        if value.type_name in (JUDGE_VALUE, JUDGE_COPY):
            token = subject.token(value.handle)
            return token if value.type_name == JUDGE_VALUE else copy.copy(token)
        return subject.remote(value.handle, value.type_name)
    if type(value) is ExceptionInfo:
        return subject.connection.resolve(value)
    if type(value) is list:
        return [inbound(item, subject) for item in value]
    if type(value) is tuple:
        return tuple(inbound(item, subject) for item in value)
    if type(value) is dict:
        return {key: inbound(item, subject) for key, item in value.items()}
    return value
