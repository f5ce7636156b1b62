"""Exceptions across the wire: described in the subject, code unrun; raised in the judge.

``describe`` reads a live exception only through the C-level descriptors of ``type`` and
``BaseException`` (never ``__class__``, ``__str__``, ``__repr__``, ``__getattribute__``,
``isinstance`` or a metaclass), so a student's exception cannot run code, hang or lie while it
is described; an argument that is not plain data is shown by its type name. The descriptor fits
the bounds with room left for the message around it. The judge raises it as a ``SubjectRaised``
(:mod:`grader.wire.raised`).
"""

from __future__ import annotations

from collections.abc import Callable

from grader.wire.encoding import encode
from grader.wire.values import (
    DEFAULT_BOUNDS,
    MAX_BASES,
    MAX_NAME,
    MAX_NOTES,
    Bounds,
    ExceptionInfo,
    WireError,
    clip,
)

UNREADABLE = "<could not be read>"
CHAIN_CUT = "... the chain goes on (not shown)"
MAX_MEMBERS = 100  # members described per group; the rest are counted in a note
MAX_DESCRIBED = 1000  # exceptions described in one descriptor, chains and groups together
MAX_MESSAGE = 2000  # characters of one message or note
ENVELOPE_DEPTH = 4  # nesting left for the message that carries the descriptor
_WORST_BYTES_PER_CHAR = 12  # an astral character as two \\u escapes in JSON
_ARG_TEXT = 200  # characters of one str or bytes argument shown inside a tuple
_ARG_ITEMS = 20  # arguments (and items of a tuple or list argument) shown
_ARG_INT_BITS = 10_000  # a larger int argument is shown by its size

# Captured at import, before any student code runs: each reads a C slot and runs nothing else.
_type = type
_MRO = type.__dict__["__mro__"]
_QUALNAME = type.__dict__["__qualname__"]
_MODULE = type.__dict__["__module__"]
_ARGS = BaseException.__dict__["args"]
_CAUSE = BaseException.__dict__["__cause__"]
_CONTEXT = BaseException.__dict__["__context__"]
_DICT = BaseException.__dict__["__dict__"]
_GROUP_MESSAGE = BaseExceptionGroup.__dict__["message"]
_GROUP_MEMBERS = BaseExceptionGroup.__dict__["exceptions"]
_OS_FIELDS = tuple(
    OSError.__dict__[name] for name in ("errno", "strerror", "filename", "filename2")
)
_OS_STR = OSError.__dict__["__str__"]
_STR_COPY = str.__dict__["__str__"]  # an exact str from a str subclass, its overrides unread
_SCALARS = (type(None), bool, int, float, str, bytes)


def _mro(kind: type) -> tuple[type, ...]:
    return _MRO.__get__(kind)


def _text(value: object) -> str | None:
    """``value`` as an exact str if it is a str (of any subclass), else None."""
    kind = _type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    return _STR_COPY(value) if str in _mro(kind) else None


def _names(kind: type) -> tuple[str, str]:
    """A type's qualified name and module, read from its slots (a metaclass cannot answer)."""
    qualname = _text(_QUALNAME.__get__(kind)) or "?"
    try:
        module = _text(_MODULE.__get__(kind)) or "?"
    except AttributeError:
        module = "?"
    return clip(qualname, MAX_NAME), clip(module, MAX_NAME)


def _shown(value: object, nested: bool = False) -> str:
    """The repr of a plain argument, cut; any other object is shown by its type name."""
    kind = _type(value)
    if kind in (str, bytes):
        cut = value[:_ARG_TEXT]  # type: ignore[index]
        return repr(cut) + ("..." if len(value) > _ARG_TEXT else "")  # type: ignore[arg-type]
    if kind is int and value.bit_length() > _ARG_INT_BITS:  # type: ignore[attr-defined]
        return f"<int of {value.bit_length()} bits>"  # type: ignore[attr-defined]
    if kind in _SCALARS:
        return repr(value)
    if kind in (tuple, list) and not nested:
        items = [_shown(item, nested=True) for item in value[:_ARG_ITEMS]]  # type: ignore[index]
        items += ["..."] if len(value) > _ARG_ITEMS else []  # type: ignore[arg-type]
        inner = ", ".join(items) + ("," if kind is tuple and len(items) == 1 else "")
        return f"({inner})" if kind is tuple else f"[{inner}]"
    return f"<{_names(kind)[0]} object>"


def _message(exc: BaseException, mro: tuple[type, ...]) -> str:
    """What ``str(exc)`` gives for a built-in exception, computed from plain data only."""
    if BaseExceptionGroup in mro:
        count = len(_GROUP_MEMBERS.__get__(exc))
        text = _text(_GROUP_MESSAGE.__get__(exc)) or ""
        return f"{text} ({count} sub-exception{'s' if count > 1 else ''})"
    args = _ARGS.__get__(exc)
    if OSError in mro and all(_type(f.__get__(exc)) in _SCALARS for f in _OS_FIELDS):
        return _OS_STR(exc)
    if len(args) == 1:
        only = args[0]
        return only if _type(only) is str and KeyError not in mro else _shown(only)
    shown = [_shown(arg) for arg in args[:_ARG_ITEMS]] + ["..."] * (len(args) > _ARG_ITEMS)
    return f"({', '.join(shown)})" if args else ""


def _notes(exc: BaseException) -> list[str]:
    """The notes, if ``__notes__`` in the instance's own dict is a list of str (else none)."""
    found: object = None
    try:
        for key, value in dict.items(_DICT.__get__(exc)):
            if _type(key) is str and key == "__notes__":
                found = value
    except RuntimeError:  # changed by another thread while being read
        return []
    if _type(found) is not list:
        return []
    return [note for note in list(found) if _type(note) is str]  # type: ignore[call-overload]


class _Describer:
    """One description: the budget left (characters, values, exceptions) and the path walked."""

    def __init__(self, tag_of: Callable[[BaseException], str | None], bounds: Bounds, levels: int):
        self.tag_of = tag_of
        self.levels = levels
        self.chars = bounds.max_bytes // _WORST_BYTES_PER_CHAR // 4
        self.items = bounds.max_items // 4
        self.count = MAX_DESCRIBED
        self.limit = min(MAX_MESSAGE, bounds.max_text)
        self.path: set[int] = set()

    def spare(self) -> bool:
        return self.count > 0 and self.chars > 0 and self.items > 0

    def take(self, text: str, limit: int) -> str:
        text = clip(text, max(min(limit, self.chars), 40))
        self.chars -= len(text)
        self.items -= 1
        return text

    def tag(self, exc: BaseException) -> str | None:
        try:
            tag = self.tag_of(exc)
        except Exception:  # a faulty tag_of names no exception
            return None
        return tag if _type(tag) is str and len(tag) <= MAX_NAME else None  # type: ignore[arg-type]

    def bases(self, mro: tuple[type, ...]) -> tuple[str, ...]:
        kinds = [kind for kind in mro if kind is not object]
        if len(kinds) > MAX_BASES:  # the type's own end and the built-in end matter most
            kinds = kinds[: MAX_BASES // 2] + kinds[-(MAX_BASES // 2) :]
        names = []
        for kind in kinds:
            qualname, module = _names(kind)
            names.append(self.take(f"{module}.{qualname}", MAX_NAME))
        return tuple(names)

    def describe(self, exc: BaseException, level: int) -> ExceptionInfo:
        self.count -= 1
        self.items -= 10
        try:
            mro = _mro(_type(exc))
            type_name, module = (self.take(name, MAX_NAME) for name in _names(mro[0]))
        except Exception:  # nothing else can be read either
            return ExceptionInfo("?", "?", UNREADABLE)
        try:
            message = self.take(_message(exc, mro), self.limit)
        except Exception:  # e.g. an int argument over the interpreter's digit limit
            message = UNREADABLE
        try:
            return self.links(exc, level, mro, type_name, module, message)
        except Exception:
            return ExceptionInfo(type_name, module, UNREADABLE, tag=self.tag(exc))

    def links(
        self, exc: BaseException, level: int, mro: tuple[type, ...], *names_and_message: str
    ) -> ExceptionInfo:
        notes = [self.take(note, self.limit) for note in _notes(exc)[: MAX_NOTES - 2]]
        bases, tag = self.bases(mro), self.tag(exc)
        self.path.add(id(exc))
        try:
            cause, context = (self.chained(slot.__get__(exc), level) for slot in (_CAUSE, _CONTEXT))
            if CHAIN_CUT in (cause, context):
                notes.append(CHAIN_CUT)
            group = _GROUP_MEMBERS.__get__(exc) if BaseExceptionGroup in mro else ()
            members = []
            for member in group[:MAX_MEMBERS]:
                if level >= self.levels or not self.spare():
                    break
                members.append(self.describe(member, level + 1))
            if len(group) > len(members):
                notes.append(f"... and {len(group) - len(members)} more")
        finally:
            self.path.discard(id(exc))
        chain = (c if isinstance(c, ExceptionInfo) else None for c in (cause, context))
        return ExceptionInfo(*names_and_message, tuple(notes), *chain, tuple(members), tag, bases)

    def chained(self, exc: BaseException | None, level: int) -> ExceptionInfo | str | None:
        if exc is None or id(exc) in self.path:  # a cycle ends where it comes back
            return None
        if level >= self.levels or not self.spare():
            return CHAIN_CUT
        return self.describe(exc, level + 1)


def describe(
    exc: BaseException,
    *,
    tag_of: Callable[[BaseException], str | None] = lambda e: None,
    bounds: Bounds = DEFAULT_BOUNDS,
    max_chain: int = 8,
) -> ExceptionInfo:
    """``exc`` as data, without running any of its code, within ``bounds`` and ``max_chain`` levels.

    ``tag_of`` names an exception the judge made; it must not hash or compare ``exc`` (use id).
    """
    levels = max(0, min(max_chain, bounds.max_depth - ENVELOPE_DEPTH - 1))
    info = _Describer(tag_of, bounds, levels).describe(exc, 0)
    room = Bounds(
        max_bytes=max(1, bounds.max_bytes // 2),
        max_depth=max(1, bounds.max_depth - ENVELOPE_DEPTH),
        max_items=max(1, bounds.max_items // 2),
        max_text=bounds.max_text,
    )
    try:
        encode(info, room)
    except WireError:  # the budget above is a guess: past it, keep what says what it is
        note = "... the rest could not be described within the bounds"
        message = clip(info.message, 200)
        return ExceptionInfo(
            info.type_name, info.module, message, (note,), tag=info.tag, bases=info.bases
        )
    return info
