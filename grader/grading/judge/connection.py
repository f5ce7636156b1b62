"""The judge's end of the channel: requests wait on futures, one thread reads every reply.

The dispatcher thread resolves each reply by its id and runs each callback (a judge
callable called by student code) on a thread of its own (``grader.subject.workers``), since
callables may block. The
first failure of the subject (a timeout, the end of the channel, a malformed message) kills
the child and fails every waiting and later request with that verdict.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from itertools import count
from typing import Any

from grader.grading.judge.process import Child
from grader.grading.judge.remote import StudentThread
from grader.grading.judge.verdicts import (
    SubjectDied,
    SubjectFailed,
    SubjectHung,
    SubjectMisbehaved,
)
from grader.harness.calling import Notice, Token, calling_from
from grader.subject.workers import Workers
from grader.wire.channel import Channel
from grader.wire.codec import CALL_FIELDS, ExceptionInfo, WireError, shown
from grader.wire.errors import describe
from grader.wire.raised import SubjectRaised

MAX_CALLBACKS = 1000  # callbacks served at once (a thread each); more is a flood
EXIT_WAIT = 5.0  # after the channel ends: how long the child may take to exit

Convert = Callable[[Any], Any]
_Call = tuple[
    object, StudentThread, Callable[..., Any], list, dict
]  # who calls, its thread there, what, args, kwargs


class Connection:
    """Requests to one subject and the judge callables it may call back."""

    def __init__(self, channel: Channel, child: Child, call_timeout: float) -> None:
        self.channel, self.child, self.call_timeout = channel, child, call_timeout
        self.inbound: Convert = lambda value: value  # Remotes to RemoteObjects (set by Subject)
        self.outbound: Convert = lambda value: value  # RemoteObjects and proxies to Remotes
        self._lock = threading.Lock()
        self._ids = count(1)
        self._pending: dict[int, Future[dict[str, Any]]] = {}
        self._requesters: dict[int, threading.Thread] = {}  # the judge thread of each request
        self._callables: dict[int, Callable[..., Any]] = {}
        self._tags: dict[int, tuple[BaseException, str]] = {}
        self._made: dict[str, BaseException] = {}
        self._serving = 0  # callbacks being served
        self._workers = Workers()
        self.failure: SubjectFailed | None = None
        self.closing = False
        self._reader = threading.Thread(target=self._read, name="judge-dispatcher", daemon=True)
        self._reader.start()

    # requests
    def request(self, op: str, what: str, **fields: Any) -> Any:
        """Send one request and wait for its value; SubjectRaised or a verdict otherwise.

        ``what`` names the request in a SubjectHung message ("the call of 'fetch_all'").
        """
        future: Future[dict[str, Any]] = Future()
        with self._lock:
            if self.failure is not None:
                raise self.failure
            request = next(self._ids)
            self._pending[request] = future
            self._requesters[request] = threading.current_thread()
        try:
            self.channel.send({"op": op, "id": request, **fields})
        except OSError:  # the child is gone: the reader will say how
            pass
        except BaseException:
            with self._lock:
                self._pending.pop(request, None)
                self._requesters.pop(request, None)
            raise
        try:
            reply = future.result(self.call_timeout)
        except FutureTimeout:
            self.fail(SubjectHung(what, self.call_timeout, self.child.stderr_tail()))
            raise self.failure from None  # type: ignore[misc]
        finally:
            with self._lock:
                self._requesters.pop(request, None)
        if reply["op"] == "raised":
            raise self.resolve(reply["error"])
        return self.inbound(reply["value"])

    @property
    def busy(self) -> int:
        """Requests sent and not answered yet (a call still running in the subject)."""
        with self._lock:
            return len(self._pending)

    def fail(self, verdict: SubjectFailed) -> None:
        """Record the first verdict, kill the child, fail every waiting request."""
        with self._lock:
            if self.failure is None:
                self.failure = verdict
            pending, self._pending = self._pending, {}
        self.child.kill()
        for future in pending.values():
            future.set_exception(self.failure)

    # callables and the exceptions they raise
    def register(self, function: Callable[..., Any]) -> int:
        with self._lock:
            number = len(self._callables) + 1
            self._callables[number] = function
        return number

    def registered(self, number: object) -> object:
        """The judge callable or token registered as ``number``, if any."""
        with self._lock:
            return self._callables.get(number) if type(number) is int else None

    def tag_of(self, exc: BaseException) -> str:
        """The tag of an exception the judge made (given one on first sight)."""
        with self._lock:
            entry = self._tags.get(id(exc))
            if entry is None or entry[0] is not exc:
                entry = (exc, f"judge-{len(self._made) + 1}")
                self._tags[id(exc)], self._made[entry[1]] = entry, exc
            return entry[1]

    def described(self, exc: BaseException) -> ExceptionInfo:
        """``exc`` as data for the subject (the judge's own exceptions by tag)."""
        return describe(exc, tag_of=self.tag_of, bounds=self.channel.bounds)

    def resolve(self, info: ExceptionInfo) -> BaseException:
        """The subject's exception as the judge raises it: the judge's very exception if it is
        one (with the notes student code added to it there), else a ``SubjectRaised``."""
        made = self.made(info.tag)
        if made is None:
            return SubjectRaised.of(info, self.resolve)
        if info.notes:
            made.__notes__ = list(info.notes)
        return made

    def made(self, tag: str | None) -> BaseException | None:
        with self._lock:
            return self._made.get(tag) if tag is not None else None

    # the dispatcher
    def _read(self) -> None:
        while self.failure is None:
            try:
                message = self.channel.recv()
            except EOFError:
                return self._ended()
            except WireError as error:
                return self.fail(SubjectMisbehaved(str(error)))
            except OSError:
                return self._ended()
            try:
                self._dispatch(message)
            except WireError as error:
                return self.fail(SubjectMisbehaved(str(error)))

    def _ended(self) -> None:
        status = self.child.status(EXIT_WAIT)
        if status is None:
            self.child.kill()
        self.fail(SubjectDied(status, self.child.stderr_tail(wait=1.0)))

    def _dispatch(self, message: dict[str, Any]) -> None:
        op, request = message.get("op"), message.get("id")
        if op in ("ok", "raised"):
            if op == "ok" and "value" not in message:
                raise WireError("a reply without a value")
            if op == "raised" and type(message.get("error")) is not ExceptionInfo:
                raise WireError("an error reply without an exception")
            with self._lock:
                future = self._pending.pop(request, None) if type(request) is int else None
            if future is None:
                raise WireError(f"a reply to no request ({shown(request)})")
            future.set_result(message)
        elif op == "notices":  # one way: served here, in channel order, before later replies
            items = message.get("items")
            if type(items) is not list:
                raise WireError("notices that are not a list of calls")
            for item in items:
                call = _notice_call(item)
                who, there, function, args, kwargs = self._callback_of(call)
                if not isinstance(function, Notice):  # run here, it must not wait for anything
                    raise WireError("a notice to a callable of the judge's that is not one")
                with calling_from(who, there), contextlib.suppress(Exception):  # only records
                    function(*self.inbound(args), **self.inbound(kwargs))
        elif op == "callback":
            if type(request) is not int:
                raise WireError("a callback without an id")
            who, there, function, args, kwargs = self._callback_of(message)
            with self._lock:
                self._serving += 1
                if self._serving > MAX_CALLBACKS:
                    raise WireError(f"more than {MAX_CALLBACKS} callbacks in flight at once")
            work = (request, (who, there), function, self.inbound(args), self.inbound(kwargs))
            self._workers.run(f"judge-callback-{request}", self._serve, *work)
        else:
            raise WireError(f"a message with an unknown op {shown(op)}")

    def _callback_of(self, message: dict[str, Any]) -> _Call:
        """A callback's (or notice's) caller, the judge callable it calls, args and kwargs."""
        number = message.get("proxy")
        function = self._callables.get(number) if type(number) is int else None
        fields = ("args", "kwargs", "thread", "ident", "request")
        args, kwargs, thread, ident, running = (message.get(k) for k in fields)
        if type(ident) is not int:
            raise WireError("a callback with no thread ident (an int)")
        if running is not None and type(running) is not int:
            raise WireError("a callback whose request is not an int")
        if function is None or type(function) is Token:
            raise WireError("a callback to no callable of the judge's")
        if type(args) is not list or type(kwargs) is not dict or type(thread) is not str:
            raise WireError("a callback whose args, kwargs or thread are malformed")
        if any(type(key) is not str for key in kwargs):
            raise WireError("a callback with a keyword that is not a str")
        with self._lock:  # called on the very thread that runs a request: its requester
            requester = self._requesters.get(running) if running is not None else None
        there = StudentThread(ident, thread)
        return (there if requester is None else requester), there, function, args, kwargs

    def _serve(
        self,
        request: int,
        who: tuple[object, StudentThread],
        function: Callable[..., Any],
        args: list,
        kwargs: dict[str, Any],
    ) -> None:
        try:
            with calling_from(*who):  # caller(): the calling thread, as in-process
                value = function(*args, **kwargs)
            reply = {"op": "ok", "id": request, "value": self.outbound(value)}
        except BaseException as exc:  # the callable's own exception: student code sees it
            error = self.described(exc)
            reply = {"op": "raised", "id": request, "error": error}
        try:
            self.channel.send(reply)
        except OSError:  # the child is gone: the dispatcher says how
            pass
        except WireError as error:  # the callable returned what cannot cross: the judge's bug
            error.add_note(f"the judge's callable for callback {request} returned it")
            info = self.described(error)
            with contextlib.suppress(OSError):
                self.channel.send({"op": "raised", "id": request, "error": info})
        finally:
            with self._lock:
                self._serving -= 1


def _notice_call(item: object) -> dict[str, object]:
    """A notice's call as the subject sends it (a list of the ``CALL_FIELDS`` values), by name."""
    if type(item) is not list:
        raise WireError("a notice that is not a list")
    if len(item) != len(CALL_FIELDS):
        raise WireError(f"a notice of {len(item)} fields, not {len(CALL_FIELDS)}")
    return dict(zip(CALL_FIELDS, item, strict=True))
