"""Detect a submission that patches the grader, pytest or the standard library.

Student code runs in the same process as the hidden tests, so it can replace
``time.perf_counter``, ``threading.Lock``, a builtin, or a function of the
grader's own modules (the result writer, a check). The harness takes its
clocks at import, before student code runs, so such patches fake nothing by
themselves; this module also makes them visible: :func:`snapshot` records the
identity (and code object) of every callable in the modules that judge a test,
before any student code is loaded, and :func:`changes` names what differs.
The plugin fails a test when anything changed by the end of its teardown
(after the test's own ``try/finally`` patches are undone).

This is detection, not prevention: code that patches and restores within one
call, or that patches objects other than module attributes, is not seen.
"""

from __future__ import annotations

import sys
import types

# Modules whose callables judge a test or are used to measure it.
WATCHED_PREFIXES = (
    "grader",
    "_pytest",
    "pytest",
    "pluggy",
    "pytest_timeout",
)
WATCHED_MODULES = (
    "builtins",
    "time",
    "threading",
    "_thread",
    "json",
    "json.encoder",
    "json.decoder",
    "hmac",
    "hashlib",
    "_hashlib",
    "os",
    "posix",
    "sys",
    "random",
    "queue",
    "traceback",
    "linecache",
    "contextlib",
    "functools",
    "dataclasses",
    "asyncio.tasks",
    "asyncio.events",
    "multiprocessing.process",
    "concurrent.futures.thread",
    "concurrent.futures.process",
    "concurrent.futures._base",
)
# Swapped legitimately while a test runs (pytest's hooks, the watchdog).
IGNORED = frozenset(
    {
        ("sys", "excepthook"),
        ("sys", "unraisablehook"),
        ("sys", "displayhook"),
        ("sys", "breakpointhook"),
        ("threading", "excepthook"),
        ("threading", "_trace_hook"),  # threading.settrace: coverage, the amplifier on 3.11
        ("threading", "_profile_hook"),
    }
)

_HEAPTYPE = 1 << 9
#: Exit status of a child that found the grader patched: it writes no result,
#: so the test in progress fails, and names what changed on stderr.
EXIT_STATUS = 86
STDERR_PREFIX = "grader-tamper: "
Snapshot = list[tuple[str, dict, list[tuple[str, object, object]]]]


def _watched(name: str) -> bool:
    return name in WATCHED_MODULES or any(
        name == p or name.startswith(p + ".") or name.startswith(p + "_") for p in WATCHED_PREFIXES
    )


def _code(value: object) -> object:
    return value.__code__ if isinstance(value, types.FunctionType) else None


def _namespaces(modname: str, module: types.ModuleType):
    """(label, namespace dict) pairs: the module, and the classes it defines."""
    namespace = vars(module)
    yield modname, namespace
    for attr, value in list(namespace.items()):
        if (
            isinstance(value, type)
            and value.__flags__ & _HEAPTYPE  # built-in types cannot be patched
            and getattr(value, "__module__", None) == modname
        ):
            yield f"{modname}.{attr}", value.__dict__


def snapshot() -> Snapshot:
    """The identity of every watched callable, now (call before student code runs)."""
    taken = []
    for modname, module in list(sys.modules.items()):
        if not isinstance(module, types.ModuleType) or not _watched(modname):
            continue
        for label, namespace in _namespaces(modname, module):
            entries = [
                (attr, value, _code(value))
                for attr, value in list(namespace.items())
                if (modname, attr) not in IGNORED
                and not (label == modname and attr.startswith("__"))
                and (callable(value) or isinstance(value, (property, staticmethod, classmethod)))
            ]
            taken.append((label, namespace, entries))
    return taken


def changes(before: Snapshot, limit: int = 3) -> list[str]:
    """The watched names that were replaced or removed since ``before``."""
    changed = []
    missing = object()
    for label, namespace, entries in before:
        for attr, value, code in entries:
            now = namespace.get(attr, missing)
            if now is not value or (code is not None and value.__code__ is not code):
                changed.append(f"{label}.{attr}")
                if len(changed) >= limit:
                    return changed
    return changed
