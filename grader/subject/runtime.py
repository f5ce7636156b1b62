"""The subject's runtime: serve the judge's requests on one channel, beside student code.

Protocol (after ``hello``; every message is a dict of plain data, ``grader.wire.codec``):

- The judge asks ``{"op", "id", ...}``; the subject answers ``{"op": "ok", "id", "value"}``
  or ``{"op": "raised", "id", "error": ExceptionInfo}``. Ops: ``load`` {path, name} (run
  the file as a fresh importable module, ``loaded``; value: its module name), ``get``
  {target, name}, ``set`` {target, name, value}, ``call`` {target, name, args, kwargs}
  (``name`` None calls the target itself; ``keep`` true: the result stays here, sent as a
  handle, so its identity and later changes can be seen), ``value`` {target} (a handle's
  object as data), ``isinstance`` {target, module, name} (against the class of that name
  in a module already imported here), ``items`` {target} (``list(obj)`` as data),
  ``threads`` (the student's threads alive: [serial, name] pairs, a serial never reused),
  ``enter`` / ``exit`` {target, error} (the ``with`` protocol, on the type), ``release``
  {handles}, ``ping``, ``shutdown`` (answered, then the process exits at once); around a
  call the judge watches: ``watch_start``, ``watch_end`` {grace} (``watching``: threads
  left, exceptions lost in threads, stderr, warnings), ``stacks``; the race amplifier on
  the loaded module:
  ``amplify`` {options}, ``amplify_stop`` (its statistics), ``canary`` (alone, no module).
- ``target`` 0 is the loaded module, any other int a handle. A value is sent as plain data
  if the codec takes it, else kept in the handle table and sent as ``Remote(handle, type
  name)``. In arguments, ``Remote(n, "proxy")`` is the judge's callable n (a ``Proxy``),
  ``Remote(n, "iter")`` the judge's iterator n (an ``IterProxy``, each ``next`` a callback) and
  ``Remote(h, "handle")`` the subject's own object h.
- A proxy call sends ``{"op": "callback", "id": m, "proxy", "args", "kwargs", "thread", "ident"}``
  (m counts the subject's own requests) and blocks its thread for the judge's ``ok`` or
  ``raised`` with the same id; a raised reply is raised in the caller (``proxies.rebuild``).

One reader thread dispatches; each request runs on a thread of its own, named
``grader-call-ID`` while it runs (``workers``: idle threads are reused), so requests run
concurrently, and student threads may call proxies concurrently. ``ping``,
``shutdown`` and replies are handled on the reader thread, so they work while calls hang.

The channel is its own fd, not stdout or stderr, so student output cannot corrupt it. It is
not inherited by programs the student starts, and a forked worker closes its copy at once
(``os.register_at_fork``): forked workers must not use the channel, and proxies refuse to
be called outside this process.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import weakref
from itertools import count
from types import CodeType
from typing import Any, NoReturn

from grader.amplifier import amplify
from grader.subject import loaded, watching
from grader.subject.amplifying import Amplifying
from grader.subject.handles import Handles, resolve
from grader.subject.proxies import IterProxy, Proxy, Tags, rebuild
from grader.subject.watching import Watch
from grader.subject.workers import Workers
from grader.wire.channel import Channel
from grader.wire.codec import WireError, encode
from grader.wire.errors import describe

_PLAIN = (str, int, float, bool, bytes, type(None))
_INSPECTING = frozenset({"watch_start", "watch_end", "stacks", "amplify", "amplify_stop", "canary"})


class _Waiter:
    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.done, self.reply = threading.Event(), None


class Runtime:
    """Serves one judge over ``channel`` until it closes the channel or asks to shut down."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.handles = Handles()
        self.tags = Tags()
        self.pid = os.getpid()
        self._ids = count(1)
        self._lock = threading.Lock()
        self._waiting: dict[int, _Waiter] = {}
        self._workers = Workers()
        self._amplifying = Amplifying()
        self._watch = Watch(self._own)
        self._code: CodeType | None = None
        self._serials: weakref.WeakKeyDictionary[threading.Thread, int] = (
            weakref.WeakKeyDictionary()
        )
        self._thread_numbers = count(1)
        self._running = threading.local()  # .request: the judge's request this thread runs
        self._root = ""  # the loaded module's folder: the student's frames are there
        os.register_at_fork(after_in_child=channel.close)

    def _own(self, thread: threading.Thread) -> bool:
        """Whether ``thread`` is the runtime's (never reported as the student's)."""
        return thread in self._workers.threads or thread is threading.main_thread()

    def serve(self) -> NoReturn:
        """Read and dispatch until the end; then exit the process (student threads too)."""
        while True:
            try:
                message = self.channel.recv()
            except (EOFError, WireError, OSError):
                self._exit()
            op, request = message.get("op"), message.get("id")
            if op in ("ok", "raised"):
                with self._lock:
                    waiter = self._waiting.pop(request, None)
                if waiter is not None:
                    waiter.reply = message
                    waiter.done.set()
            elif op in ("ping", "shutdown"):
                self._send({"op": "ok", "id": request, "value": None})
                if op == "shutdown":
                    self._exit()
            elif self._amplifying.active:  # 3.11 traces new threads only: run on a fresh one
                self._workers.run_fresh(f"grader-call-{request}", self._run, message)
            else:
                self._workers.run(f"grader-call-{request}", self._run, message)

    def _exit(self) -> NoReturn:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a stream replaced or closed by student code
                stream.flush()
        os._exit(0)

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self.channel.send(message)
        except OSError:  # the judge is gone
            self._exit()

    def _run(self, message: dict[str, Any]) -> None:
        request = message.get("id")
        self._running.request = request if type(request) is int else None
        try:
            value = self._dispatch(message)
        except BaseException as exc:  # the student's error, or a bad request: sent as data
            self._raised(request, exc)
            return
        try:
            self.channel.send({"op": "ok", "id": request, "value": self._data(value)})
        except Exception as error:  # not plain data, or too big: keep it here, send its handle
            if isinstance(error, OSError) and not isinstance(error, TimeoutError):
                self._exit()  # the judge is gone
            self._send({"op": "ok", "id": request, "value": self.handles.remote(value)})

    def _raised(self, request: object, exc: BaseException) -> None:
        error = describe(exc, tag_of=self.tags.tag_of, bounds=self.channel.bounds)
        self._send({"op": "raised", "id": request, "error": error})

    def _dispatch(self, message: dict[str, Any]) -> Any:
        op = message.get("op")
        if op == "load":
            module, self._code = loaded.load(message["path"], message["name"])
            self._root = os.path.dirname(os.path.abspath(message["path"])) + os.sep
            self.handles.set_module(module)
            return module.__name__
        if op == "release":
            self.handles.release(message["handles"])
            return None
        if op in _INSPECTING:
            return self._inspect(op, message)
        if op == "value":  # a kept object as data, now
            value = self._data(self.handles.get(message["target"]))
            encode(value, self.channel.bounds)  # not plain data: the judge hears why
            return value
        if op == "items":  # list(obj) here, as data
            items = self._data(list(self.handles.get(message["target"])))
            encode(items, self.channel.bounds)
            return items
        if op == "threads":  # the threads alive now that are not the runtime's
            alive = [t for t in threading.enumerate() if not self._own(t)]
            return [[self._serial(t), str.__str__(t.name)[:200]] for t in alive]
        if op in ("enter", "exit"):
            return self._with(op, self.handles.get(message["target"]), message.get("error"))
        if op == "isinstance":  # the class by name, among the modules already imported here
            cls: Any = sys.modules[message["module"]]
            for part in str.split(message["name"], "."):
                cls = getattr(cls, part)
            if not isinstance(cls, type):
                raise TypeError(f"{message['name']} is not a class here")
            return isinstance(self.handles.get(message["target"]), cls)
        if op not in ("get", "set", "call"):
            raise ValueError(f"the subject has no op {op!r}")
        target, name = self.handles.get(message["target"]), message["name"]
        if op == "get":
            return getattr(target, name)
        if op == "set":
            setattr(target, name, self._resolve(message["value"]))
            return None
        function = target if name is None else getattr(target, name)
        value = function(*self._resolve(message["args"]), **self._resolve(message["kwargs"]))
        return self.handles.remote(value) if message.get("keep") is True else value

    def _inspect(self, op: str, message: dict[str, Any]) -> Any:
        """Watching a call, a hung call's stacks, the race amplifier."""
        if op == "watch_start":
            return self._watch.start()
        if op == "watch_end":
            return self._watch.end(float(message.get("grace", 0.5)))
        if op == "stacks":
            return watching.stacks(self._root, self._own)
        if op == "amplify":
            if self._code is None:
                raise RuntimeError("no module is loaded")
            return self._amplifying.start(self._code, dict(message["options"]))
        if op == "amplify_stop":
            return self._amplifying.stop()
        with amplify([], seed=0):  # "canary": the amplifier alone, on no student code
            return None

    def _with(self, op: str, target: Any, error: Any) -> Any:
        """The ``with`` statement's protocol on ``target``, looked up on its type as it does."""
        kind = type(target)
        if op == "enter":
            return kind.__enter__(target)
        exc = self._resolve(error)
        if exc is not None and not isinstance(exc, BaseException):
            raise TypeError("exit takes an exception or None")
        return kind.__exit__(target, None if exc is None else type(exc), exc, None)

    def _resolve(self, value: Any) -> Any:
        return resolve(
            value,
            self.handles,
            lambda number: Proxy(number, self._callback),
            lambda number: IterProxy(number, self._callback),
            lambda info: rebuild(info, self.tags),
        )

    def _data(self, value: Any, depth: int = 0) -> Any:
        """``value`` with the exceptions in its lists, tuples and dicts as ``ExceptionInfo``
        (so a list of exceptions reads as data, the judge's own by identity)."""
        if isinstance(value, BaseException):
            return describe(value, tag_of=self.tags.tag_of, bounds=self.channel.bounds)
        if depth > self.channel.bounds.max_depth:
            return value  # too deep to send anyway: the encoder says so
        kind = type(value)
        if kind is list:
            return [self._data(item, depth + 1) for item in value]
        if kind is tuple:
            return tuple(self._data(item, depth + 1) for item in value)
        if kind is dict:
            return {key: self._data(item, depth + 1) for key, item in value.items()}
        return value

    def _serial(self, thread: threading.Thread) -> int:
        """A number for ``thread``, the same for its whole life and never given to another."""
        with self._lock:
            serial = self._serials.get(thread)
            if serial is None:
                serial = self._serials[thread] = next(self._thread_numbers)
        return serial

    def _out(self, value: Any) -> Any:
        """``value`` as it may cross: itself if plain data, else its handle."""
        if type(value) in _PLAIN:
            return value
        try:
            encode(value, self.channel.bounds)
        except Exception:
            return self.handles.remote(value)
        return value

    def _callback(self, number: int, args: tuple, kwargs: dict[str, Any]) -> Any:
        """Call the judge's callable ``number`` and wait for its answer (a Proxy's call)."""
        if os.getpid() != self.pid:
            raise RuntimeError("the grader's callables cannot be called from another process")
        request, waiter = next(self._ids), _Waiter()
        with self._lock:
            self._waiting[request] = waiter
        current = threading.current_thread()
        thread, running = current.name, getattr(self._running, "request", None)
        self._send(
            {
                "op": "callback",
                "id": request,
                "proxy": number,
                "args": [self._out(arg) for arg in args],
                "kwargs": {str.__str__(k): self._out(v) for k, v in kwargs.items()},
                "thread": str.__str__(thread)[:200] if isinstance(thread, str) else "?",
                "ident": self._serial(current),
                "request": running if current in self._workers.threads else None,
            }
        )
        waiter.done.wait()
        reply = waiter.reply
        if reply["op"] == "raised":
            raise rebuild(reply["error"], self.tags)
        return self._resolve(reply.get("value"))


def serve(channel: Channel) -> NoReturn:
    """Serve the judge on ``channel`` (after the hello); the process exits at the end."""
    Runtime(channel).serve()
