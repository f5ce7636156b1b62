"""``Subject``: one subject process serving the judge, with the student's module loaded.

Start it with ``Subject.start(path, name=...)`` as a context manager; ``subject.module`` is
the loaded module as a ``RemoteObject``. Failures: a student exception is ``SubjectRaised``
(``grader.wire.errors``); the subject hung, died or broke the protocol is ``SubjectHung``,
``SubjectDied`` or ``SubjectMisbehaved`` (``verdicts``), decided here alone.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from grader import layout
from grader.grading.judge.connection import Connection
from grader.grading.judge.process import Child, refuse_start
from grader.grading.judge.remote import (
    JudgeProxy,
    RemoteObject,
    StudentThread,
    handle_of,
    inbound,
    is_iterator,
    label_of,
    labelled,
    outbound,
    type_name_of,
)
from grader.grading.judge.verdicts import SubjectFailed
from grader.harness.calling import Notice, Token
from grader.wire.channel import Channel, hello
from grader.wire.codec import ITER, JUDGE_VALUE, NOTICE, ExceptionInfo, WireError, shown

SHUTDOWN_WAIT = 2.0
#: Attributes read once per load: the module's functions and classes (``exercise.transfer``
#: per job) and an object's bound methods (``cache.get`` per key). Data is read every time.
DEFINITIONS = frozenset({"function", "type", "ABCMeta", "builtin_function_or_method"})
METHODS = frozenset({"method", "builtin_function_or_method", "method-wrapper"})


class Subject:
    """A running subject process and the judge's connection to it."""

    def __init__(self, connection: Connection, child: Child) -> None:
        self.connection, self.child = connection, child
        self._proxies: dict[int, tuple[Callable[..., Any], JudgeProxy]] = {}
        self._remotes: dict[int, RemoteObject] = {}  # one per handle, so `is` means the same
        self._definitions: dict[tuple[int, str], RemoteObject] = {}  # read since the load
        connection.inbound = lambda value: inbound(value, self)
        connection.outbound = lambda value: outbound(value, self.proxy, connection.described)
        self.module = self.remote(0, "module")
        self.module_name = ""

    @classmethod
    def start(
        cls,
        module_path: Path | None,
        *,
        name: str,
        python: str = sys.executable,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        wrap: Callable[[list[str]], list[str]] | None = None,
        call_timeout: float = 30.0,
    ) -> Subject:
        """Spawn the subject, greet it and load ``module_path`` as a module named from ``name``.

        With ``module_path`` None nothing is loaded (a control process without student code).

        With ``env`` None the child inherits this environment, with this ``grader`` package
        first on ``PYTHONPATH``; an ``env`` given is used as it is. ``wrap`` turns the command
        into the one to run (a sandbox launcher); the child is killed if it fails to start.
        """
        if env is None:
            paths = [str(layout.PACK), *filter(None, [os.environ.get("PYTHONPATH")])]
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        ours, theirs = socket.socketpair()
        command = [python, "-P", "-m", "grader.subject.main", "--fd", str(theirs.fileno())]
        try:
            command = wrap(command) if wrap else command
            child = Child(command, theirs.fileno(), env, cwd, wrapped=wrap is not None)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        channel = Channel(ours, send_timeout=call_timeout)
        try:
            hello(channel, "judge", timeout=call_timeout)
        except BaseException as error:
            refuse_start(channel, child, error, call_timeout)
        subject = cls(Connection(channel, child, call_timeout), child)
        if module_path is None:
            return subject
        try:
            subject.load(module_path, name)
        except BaseException:
            subject.close()
            raise
        return subject

    def __enter__(self) -> Subject:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Ask the subject to exit, then kill its process group whatever it did."""
        connection = self.connection
        connection.closing = True
        if connection.failure is None:
            connection.call_timeout = min(connection.call_timeout, SHUTDOWN_WAIT)
            with contextlib.suppress(Exception, SubjectFailed):  # the kill below ends it
                connection.request("shutdown", "shutting down")
                self.child.status(SHUTDOWN_WAIT)  # its own exit first (coverage data, flushes)
        self.child.kill()
        connection.channel.close()

    @property
    def call_timeout(self) -> float:
        """How long a request may take before the subject is declared hung (seconds)."""
        return self.connection.call_timeout

    @call_timeout.setter
    def call_timeout(self, seconds: float) -> None:
        self.connection.call_timeout = seconds

    # requests
    def request(self, op: str, what: str = "", **fields: Any) -> Any:
        return self.connection.request(op, what or f"the request {op!r}", **fields)

    def load(self, path: Path | str, name: str) -> str:
        """Load the file at ``path`` afresh as the module (``self.module``); its name there."""
        self._definitions.clear()
        self.module_name = self.request("load", f"loading {name!r}", path=str(path), name=name)
        return self.module_name

    def get(self, target: RemoteObject, name: str) -> Any:
        handle = handle_of(target)
        known = self._definitions.get((handle, name))
        if known is not None and self.connection.failure is None:  # else: the verdict
            return known
        value = labelled(self.request("get", f"reading {name!r}", target=handle, name=name), name)
        kinds = DEFINITIONS if handle == 0 else METHODS
        if isinstance(value, RemoteObject) and type_name_of(value) in kinds:
            self._definitions[handle, name] = value
        return value

    def get_many(self, targets: list[RemoteObject], name: str) -> list[Any]:
        """``name`` of each of ``targets``, read in the subject in one request."""
        handles = [handle_of(target) for target in targets]
        return self.request("get", f"reading {name!r}", targets=handles, name=name)

    def set(self, target: RemoteObject, name: str, value: Any) -> None:
        self._definitions.pop((handle_of(target), name), None)
        fields = {
            "target": handle_of(target),
            "name": name,
            "value": self.connection.outbound(value),
        }
        self.request("set", f"setting {name!r}", **fields)

    def call(self, target: RemoteObject, name: str | None, *args: Any, **kwargs: Any) -> Any:
        """Call ``target.name(*args, **kwargs)`` in the subject (``name`` None: ``target``)."""
        return self._call(target, name, args, kwargs, keep=False)

    def call_kept(self, target: RemoteObject, *args: Any, **kwargs: Any) -> RemoteObject:
        """Call ``target`` and keep its value in the subject: the very object, by handle."""
        return self._call(target, None, args, kwargs, keep=True)

    def _call(
        self, target: RemoteObject, name: str | None, args: tuple, kwargs: dict, keep: bool
    ) -> Any:
        out = self.connection.outbound
        fields = {"args": out(list(args)), "kwargs": out(kwargs), "keep": keep}
        what = f"the call of {label_of(target) if name is None else name!r}"
        return self.request("call", what, target=handle_of(target), name=name, **fields)

    def each(self, target: RemoteObject, points: list[list[Any]]) -> list[tuple[bool, Any]]:
        """``target(*point)`` for each point in turn there: (True, value) or (False, error)."""
        fields = {"target": handle_of(target), "calls": self.connection.outbound(points)}
        found = self.request("each", f"{len(points)} calls of {label_of(target)!r}", **fields)
        shaped = type(found) is list and len(found) == len(points)
        if not shaped or not all(type(outcome) is list and len(outcome) == 2 for outcome in found):
            raise WireError("the outcomes of a batch of calls, not one [ok, value] per call")
        return [(ok is True, value) for ok, value in found]

    def isinstance(self, target: RemoteObject, cls: type) -> bool:
        """Whether ``target`` is an instance of ``cls`` (the class of that name in the subject)."""
        fields = {"target": handle_of(target), "module": cls.__module__, "name": cls.__qualname__}
        return self.request("isinstance", f"checking the type of {label_of(target)}", **fields)

    def lanes(self, lanes: list[list[Any]]) -> tuple[list[Any], list[Any]]:
        """Each lane of calls (remote objects, or partials of them) on a thread of its own in
        the subject, released together; each lane's results (None if it raised) and
        exception (None if it did not)."""
        out = self.connection.outbound

        def spec(call: Any) -> list[Any]:  # [target, args] or [target, args, kwargs]
            if type(call) is not partial:
                return [handle_of(call), []]
            args = [handle_of(call.func), out(list(call.args))]
            return [*args, out(dict(call.keywords))] if call.keywords else args

        found = self.request(
            "lanes",
            f"{sum(map(len, lanes))} calls in {len(lanes)} threads",
            lanes=[[spec(call) for call in lane] for lane in lanes],
        )
        return found["results"], found["errors"]

    def acall(self, target: RemoteObject, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Await ``target(*args, **kwargs)`` in a fresh event loop in the subject: the
        ``LoopRun`` fields (``grader.subject.loop``), the value, the error."""
        out = self.connection.outbound
        fields = {"target": handle_of(target), "args": out(list(args)), "kwargs": out(kwargs)}
        return self.request("acall", f"the call of {label_of(target)}", **fields)

    def described(self, error: BaseException | None) -> ExceptionInfo | None:
        """``error`` as data for the subject (the judge's own exceptions by tag)."""
        return None if error is None else self.connection.described(error)

    def threads(self) -> frozenset[StudentThread]:
        """The threads alive in the subject now, the runtime's own left out."""
        found = self.request("threads", "listing the threads")
        return frozenset(StudentThread(serial, name) for serial, name in found)

    def items(self, target: RemoteObject) -> list[Any]:
        """``list(target)`` made in the subject, as data (a deque, a set, a generator...)."""
        return self.request(
            "items", f"reading the items of {label_of(target)}", target=handle_of(target)
        )

    def value(self, target: RemoteObject) -> Any:
        """The kept object ``target`` as plain data, as it is now."""
        return self.request("value", f"reading {label_of(target)}", target=handle_of(target))

    def remote(self, handle: int, type_name: str) -> RemoteObject:
        """The one RemoteObject of ``handle`` (made on first sight)."""
        found = self._remotes.get(handle)
        if found is None:
            found = self._remotes[handle] = RemoteObject(self, handle, type_name)
        return found

    def release(self, *objects: RemoteObject) -> None:
        """Let the subject forget these objects (their handles become invalid)."""
        handles = [handle_of(obj) for obj in objects]
        self._definitions = {
            (held, name): value
            for (held, name), value in self._definitions.items()
            if held not in handles and handle_of(value) not in handles
        }
        self.request("release", handles=handles)
        for handle in handles:
            self._remotes.pop(handle, None)

    # the judge's callables
    def proxy(self, function: Callable[..., Any]) -> JudgeProxy | RemoteObject:
        """``function`` as an argument for student code: each call of it comes back here.

        The same function is always the same proxy; any judge callable passed as an argument
        becomes one (a ``SimulatedService``, a lambda, a bound method). One that offers a
        ``local_spec`` (a local service or source, ``harness.service``) is made in the
        subject instead, once, and passed as that object.
        """
        entry = self._proxies.get(id(function))
        if entry is None or entry[0] is not function:
            spec = getattr(function, "local_spec", None)
            spec = spec() if callable(spec) else None
            if spec is not None:
                out = self.connection.outbound(spec)
                made = self.request("local", "making a local stand-in", spec=out)
            elif is_iterator(function):  # each __next__ of student code's comes back here
                made = JudgeProxy(self.connection.register(partial(next, function)), ITER)
            elif isinstance(function, Notice):  # called one way, in channel order
                made = JudgeProxy(self.connection.register(function), NOTICE)
            elif type(function) is Token:  # held by student code, handed back by reference
                made = JudgeProxy(self.connection.register(function), JUDGE_VALUE)
            else:
                made = JudgeProxy(self.connection.register(function))
            entry = self._proxies[id(function)] = (function, made)
        return entry[1]

    def token(self, number: int) -> Token:
        """The judge's token ``number`` (a ``JUDGE_VALUE`` the subject handed back)."""
        found = self.connection.registered(number)
        if type(found) is not Token:
            raise WireError(f"a value the judge never sent ({shown(number)})")
        return found

    def made(self, info: ExceptionInfo) -> BaseException | None:
        """The judge's very exception ``info`` stands for, if it carries the judge's tag."""
        return self.connection.made(info.tag)
