"""The subject's exceptions as the judge raises them: ``SubjectRaised``, typed by built-in bases.

``SubjectRaised.of(info)`` is an instance of a class made from ``SubjectRaised`` and the most
derived built-in exception class among the descriptor's bases, so ``except ValueError`` and
``pytest.raises(TimeoutError)`` read in the judge as they did in-process, for the student's
subclasses too. Only classes of ``builtins`` are ever used: a student's class name can make
no class here; an unknown or unbuildable base falls back to the next one, then to
``Exception``. The descriptor itself is ``.info``; ``is_a`` answers by qualified name.
"""

from __future__ import annotations

import builtins
import re
import threading
from collections.abc import Callable
from typing import NoReturn

from grader.wire.values import ExceptionInfo

_type = type
_GROUP_SUFFIX = re.compile(r" \(\d+ sub-exceptions?\)$")
Resolve = Callable[[ExceptionInfo], BaseException]
MAX_CLASSES = 512  # typed classes kept for reuse (each a built-in base and a type name)
_made: dict[tuple[type[BaseException], str], type[SubjectRaised] | None] = {}
_lock = threading.Lock()


def _qualified(kind: str | type[BaseException]) -> str:
    if isinstance(kind, str):
        return kind
    if isinstance(kind, type):
        return f"{kind.__module__}.{kind.__qualname__}"
    raise TypeError("is_a takes an exception type, its qualified name, or a tuple of them")


def _builtin(name: str) -> type[BaseException] | None:
    """The built-in exception class ``name`` names, if it is one a test may catch.

    Never ``SystemExit``, ``KeyboardInterrupt`` or ``GeneratorExit``: raised in the judge they
    would end the test session, not the test.
    """
    module, _, qualname = name.rpartition(".")
    kind = getattr(builtins, qualname, None) if module == "builtins" else None
    if not isinstance(kind, type):
        return None
    return kind if issubclass(kind, (Exception, BaseExceptionGroup)) else None


class SubjectRaised(Exception):
    """An exception raised in the subject, as the judge holds it: its descriptor, not the object."""

    def __init__(self, info: ExceptionInfo) -> None:
        if _type(info) is not ExceptionInfo:
            raise TypeError("SubjectRaised takes an ExceptionInfo")
        Exception.__init__(self, info)
        self.info = info
        if info.notes:
            self.__notes__ = list(info.notes)
        if info.cause is not None:
            self.__cause__ = SubjectRaised.of(info.cause)
        elif info.context is not None:
            self.__context__ = SubjectRaised.of(info.context)

    @classmethod
    def of(cls, info: ExceptionInfo, resolve: Resolve | None = None) -> BaseException:
        """``info`` as a SubjectRaised that is also an instance of its built-in bases.

        Its class bears the student's type name, and its text is the message alone, so a
        test's ``f"{type(error).__name__}: {error}"`` reads as it did in-process. A group's
        ``exceptions`` are its members through ``resolve`` (the judge gives back its own
        exceptions there), and its ``message`` is its own, as ``BaseExceptionGroup`` has them.
        """
        for name in (*info.bases, "builtins.Exception"):
            kind = _builtin(name)
            made = _typed(kind, info.type_name) if kind is not None else None
            if made is not None:
                raised = made(info)
                if info.members or issubclass(kind, BaseExceptionGroup):
                    resolve = resolve or SubjectRaised.of
                    raised._members = tuple(resolve(member) for member in info.members)
                return raised
        return cls(info)  # pragma: no cover - Exception always mixes

    def __str__(self) -> str:
        name, message = self.info.type_name, self.info.message
        return f"{name}: {message}" if message else name

    def is_a(self, kind: str | type[BaseException] | tuple[str | type[BaseException], ...]) -> bool:
        """Whether the subject's exception is an instance of ``kind`` (its qualified name)."""
        if isinstance(kind, tuple):
            return any(self.is_a(each) for each in kind)
        names = self.info.bases or (f"{self.info.module}.{self.info.type_name}",)
        return _qualified(kind) in names

    @property
    def tag(self) -> str | None:
        """The tag of the judge's exception this is, if it is one."""
        return self.info.tag

    @property
    def cause(self) -> SubjectRaised | None:
        return None if self.info.cause is None else SubjectRaised.of(self.info.cause)

    @property
    def context(self) -> SubjectRaised | None:
        return None if self.info.context is None else SubjectRaised.of(self.info.context)

    @property
    def members(self) -> tuple[SubjectRaised, ...]:
        return tuple(SubjectRaised.of(member) for member in self.info.members)


def _typed(kind: type[BaseException], name: str) -> type[SubjectRaised] | None:
    """``SubjectRaised`` mixed with the built-in ``kind`` and named ``name``; None if they
    cannot mix. Kept for reuse, up to ``MAX_CLASSES`` of them."""
    key = (kind, name)
    with _lock:
        if key in _made:
            return _made[key]
    made = _mix(kind, name)
    with _lock:
        if len(_made) < MAX_CLASSES:
            _made[key] = made
    return made


def _mix(kind: type[BaseException], name: str) -> type[SubjectRaised] | None:
    def __new__(cls, info):  # built-in __new__s take arguments of their own
        if issubclass(kind, BaseExceptionGroup):
            return kind.__new__(cls, "", [Exception()])
        return kind.__new__(cls, info)

    def __str__(self) -> str:  # the message alone, as the student's exception would say
        return self.info.message

    def __repr__(self) -> str:
        return f"{_type(self).__name__}({self.info.message!r})"

    namespace = {"__new__": __new__, "__str__": __str__, "__repr__": __repr__,
                 "__module__": "subject"}  # fmt: skip
    if issubclass(kind, BaseExceptionGroup):
        namespace["exceptions"] = property(lambda self: getattr(self, "_members", ()))
        namespace["message"] = property(lambda self: _GROUP_SUFFIX.sub("", self.info.message))
    try:
        made = _type(name.rpartition(".")[2] or "?", (SubjectRaised, kind), namespace)
        made(ExceptionInfo("probe", "builtins", ""))  # some cannot be built (their __new__)
    except TypeError:
        return None
    made.__qualname__ = name
    return made


def raise_in_judge(info: ExceptionInfo) -> NoReturn:
    """Raise the subject's exception ``info`` in the judge, as a ``SubjectRaised``."""
    raise SubjectRaised.of(info)
