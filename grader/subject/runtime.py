"""The subject's runtime: serve the judge's requests on one channel, beside student code.

Protocol (after ``hello``; every message is a dict of plain data, ``grader.wire.codec``):

- The judge asks ``{"op", "id", ...}``; the subject answers ``{"op": "ok", "id", "value"}``
  or ``{"op": "raised", "id", "error": ExceptionInfo}``. Ops: ``load`` {path, name} (run the
  file as a fresh importable module, ``loaded``; value: its module name), ``get`` {target,
  name} (or {targets, name}: that attribute of each), ``set`` {target, name, value},
  ``call`` {target, name, args, kwargs} (``name`` None calls the target itself; ``keep``
  true: the result stays here, sent as a handle, so its identity and later changes can be
  seen), ``value`` {target} (a handle's object as data), ``items`` {target} (``list(obj)``,
  items as data or handles), ``isinstance`` {target, module, name} (against that class,
  imported here), ``threads`` (the student's threads alive: [serial, name] pairs), ``enter``
  / ``exit`` {target, error} (the ``with`` protocol), ``lanes`` {lanes} (``lanes``; a
  call is [target, args] or [target, args, kwargs]),
  ``inside`` (where their threads are: ``lanes.inside``), ``local`` {spec} (``local``: a
  service or source run here; its handle), ``each`` {target, calls} (the target called
  with each list of args in turn: [True, value] or [False, error] each), ``acall``
  {target, args, kwargs} (``loop``:
  awaited in a fresh event loop), ``release`` {handles}, ``ping``, ``shutdown`` (answered,
  then the process exits at once); around a call the judge watches: ``watch_start``,
  ``watch_end`` {grace} (``watching``), ``stacks``; the race amplifier: ``amplify``
  {options}, ``amplify_stop`` (its statistics), ``canary`` (alone, no module).
- ``target`` 0 is the loaded module, any other int a handle. A value is sent as plain data
  if the codec takes it (exceptions in it as ``ExceptionInfo``), else kept in the handle
  table and sent as ``Remote(handle, type name)``. In arguments, ``Remote(n, "proxy")`` is
  the judge's callable n (a ``Proxy``), ``Remote(n, "iter")`` the judge's iterator n (an
  ``IterProxy``), ``Remote(n, "notice")`` a notice, ``Remote(h, "handle")`` the object h,
  ``Remote(n, JUDGE_VALUE)`` the judge's token n (a ``JudgeValue``, sent back the same way).
- A proxy call sends ``{"op": "callback", "id": m, "proxy", "args", "kwargs", "thread",
  "ident", "request"}`` (m counts the subject's own requests) and blocks its thread for the
  judge's ``ok`` or ``raised`` with the same id; a raised reply is raised in the caller
  (``proxies.rebuild``). A notice is not waited for: its call goes in a batch before the
  next other message (``outbox``), as a list of the ``CALL_FIELDS`` values.

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
from concurrent.futures import Future
from itertools import count
from typing import Any, NoReturn

from grader.subject import lanes, loaded, local, loop, questions
from grader.subject.handles import Handles, JudgeValues, as_data, resolve
from grader.subject.inspecting import INSPECTING, Inspector
from grader.subject.outbox import Outbox
from grader.subject.proxies import IterProxy, Proxy, Tags, rebuild
from grader.subject.workers import Serials, Workers
from grader.wire.channel import Channel
from grader.wire.codec import (
    ITER,
    JUDGE_VALUE,
    NOTICE,
    PLAIN_TYPES,
    PROXY,
    THREAD,
    WireError,
    encode,
)
from grader.wire.errors import describe

MAX_EACH = 1000  # calls in one ``each`` request


class Runtime:
    """Serves one judge over ``channel`` until it closes the channel or asks to shut down."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.handles, self.tags, self.values = Handles(), Tags(), JudgeValues()
        self.pid = os.getpid()
        self._ids = count(1)
        self._lock = threading.Lock()
        self._waiting: dict[int, Future[dict[str, Any]]] = {}
        self._workers = Workers()
        self._inspector = Inspector(self._own)
        self._serials = Serials()
        self._outbox = Outbox(channel)
        self._running = threading.local()  # .request: the judge's request this thread runs
        self._makers = {  # what the judge's own Remotes become here, by kind (``_resolve``)
            PROXY: lambda number: Proxy(number, self._callback),
            NOTICE: lambda number: Proxy(number, self._notice),
            ITER: lambda number: IterProxy(number, self._callback),
            JUDGE_VALUE: self.values.get,
            THREAD: self._serials.thread,
        }
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
                    waiter.set_result(message)
            elif op in ("ping", "shutdown"):
                self._send({"op": "ok", "id": request, "value": None})
                if op == "shutdown":
                    self._exit()
            elif self._inspector.fresh_threads:
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
            self._outbox.send(message)
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
            self._outbox.send({"op": "ok", "id": request, "value": self._data(value)})
        except Exception as error:  # not plain data, or too big: keep it here, send its handle
            if isinstance(error, OSError) and not isinstance(error, TimeoutError):
                self._exit()  # the judge is gone
            self._send({"op": "ok", "id": request, "value": self.handles.remote(value)})

    def _raised(self, request: object, exc: BaseException) -> None:
        self._send({"op": "raised", "id": request, "error": self._described(exc)})

    def _dispatch(self, message: dict[str, Any]) -> Any:
        op = message.get("op")
        if op == "load":
            module, code = loaded.load(message["path"], message["name"])
            self._inspector.loaded(code, message["path"])
            self.handles.set_module(module)
            return module.__name__
        if op == "release":
            self.handles.release(message["handles"])
            return None
        if op in INSPECTING:  # watching a call, a hung call's stacks, the race amplifier
            return self._inspector.handle(op, message)
        if op == "value":  # a kept object as data, now
            value = self._data(self.handles.get(message["target"]))
            encode(value, self.channel.bounds)  # not plain data: the judge hears why
            return value
        if op == "lanes":
            return self._lanes(message["lanes"])
        if op == "local":  # a stand-in made here (``local``), always by handle
            return self.handles.remote(local.build(self._resolve(message["spec"])))
        if op == "acall":  # await a coroutine function in a fresh event loop (``loop``)
            function = self.handles.get(message["target"])
            args, kwargs = self._resolve(message["args"]), self._resolve(message["kwargs"])
            run = loop.run_in_loop(function, *args, **kwargs)
            error = None if run.error is None else self._described(run.error)
            return {**loop.fields(run), "value": self._out(run.value), "error": error}
        if op == "each":  # one callable, with each list of arguments in turn (``calling.each``)
            function = self.handles.get(message["target"])
            calls = message["calls"]
            if type(calls) is not list or len(calls) > MAX_EACH:
                raise ValueError(f"calls must be a list of at most {MAX_EACH} argument lists")
            return [self._outcome(function, args) for args in calls]
        if op == "items":  # list(obj) here: each item as data, or by handle
            return [self._out(item) for item in list(self.handles.get(message["target"]))]
        if op == "threads":
            return questions.threads(self._own, self._serials.of)
        if op == "inside":  # where the lane threads of the runs going on are
            return lanes.inside()
        if op in ("enter", "exit"):
            error = self._resolve(message.get("error"))
            return questions.with_protocol(op, self.handles.get(message["target"]), error)
        if op == "isinstance":
            target = self.handles.get(message["target"])
            return questions.is_instance(target, message["module"], message["name"])
        if op not in ("get", "set", "call"):
            raise ValueError(f"the subject has no op {op!r}")
        if op == "get" and type(message.get("targets")) is list:  # one attribute of many
            name = message["name"]
            return [self._out(getattr(self.handles.get(t), name)) for t in message["targets"]]
        target, name = self.handles.get(message["target"]), message["name"]
        if op == "get":
            return getattr(target, name)
        if op == "set":
            setattr(target, name, self._resolve(message["value"]))
            return None
        function = target if name is None else getattr(target, name)
        value = function(*self._resolve(message["args"]), **self._resolve(message["kwargs"]))
        return self.handles.remote(value) if message.get("keep") is True else value

    def _outcome(self, function: Any, args: Any) -> list[Any]:
        """One call of a batch: [True, its value] or [False, its exception]."""
        try:
            return [True, self._out(function(*self._resolve(args)))]
        except Exception as exc:
            return [False, self._described(exc)]

    def _lanes(self, asked: Any) -> dict[str, list[Any]]:
        if type(asked) is not list:
            raise ValueError("lanes must be a list")
        prepared = [[self._lane_call(*call) for call in lane] for lane in asked]
        run = lanes.run_lanes(prepared, self._workers.start, self._described)
        outs = [None if done is None else [self._out(v) for v in done] for done in run.results]
        return {"results": outs, "errors": run.errors}

    def _lane_call(self, target: Any, args: Any, kwargs: Any = None) -> lanes.Call:
        """A lane's call: [target, args] or [target, args, kwargs] (none, if left out)."""
        kwargs = {} if kwargs is None else self._resolve(kwargs)
        return self.handles.get(target), self._resolve(args), kwargs

    def _described(self, exc: BaseException) -> Any:
        return describe(exc, tag_of=self.tags.tag_of, bounds=self.channel.bounds)

    def _resolve(self, value: Any) -> Any:
        if type(value) in PLAIN_TYPES:
            return value
        return resolve(value, self.handles, self._makers, lambda info: rebuild(info, self.tags))

    def _data(self, value: Any) -> Any:
        return as_data(value, self._described, self.channel.bounds.max_depth, self.values)

    def _out(self, value: Any) -> Any:
        """``value`` as it may cross: itself if plain data, else its handle."""
        if type(value) in PLAIN_TYPES:
            return value
        data = self._data(value)
        try:
            encode(data, self.channel.bounds)
        except Exception:
            return self.handles.remote(value)
        return data

    def _callback(self, number: int, args: tuple, kwargs: dict[str, Any]) -> Any:
        """Call the judge's callable ``number`` and wait for its answer (a Proxy's call)."""
        request, waiter = next(self._ids), Future()
        with self._lock:
            self._waiting[request] = waiter
        self._send({"op": "callback", "id": request, **self._call_fields(number, args, kwargs)})
        reply = waiter.result()
        if reply["op"] == "raised":
            raise rebuild(reply["error"], self.tags)
        return self._resolve(reply.get("value"))

    def _notice(self, number: int, args: tuple, kwargs: dict[str, Any]) -> None:
        """Call the judge's notice ``number`` one way: nothing to wait for, None (``outbox``)."""
        try:
            self._outbox.notice(list(self._call_fields(number, args, kwargs).values()))
        except OSError:  # the judge is gone
            self._exit()

    def _call_fields(self, number: int, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        """What a callback or a notice tells the judge: whom, with what, from which thread."""
        if os.getpid() != self.pid:
            raise RuntimeError("the grader's callables cannot be called from another process")
        current = threading.current_thread()
        thread, running = current.name, getattr(self._running, "request", None)
        return {
            "proxy": number,
            "args": [self._out(arg) for arg in args],
            "kwargs": {str.__str__(k): self._out(v) for k, v in kwargs.items()},
            "thread": str.__str__(thread)[:200] if isinstance(thread, str) else "?",
            "ident": self._serials.of(current),
            "request": running if current in self._workers.threads else None,
        }


def serve(channel: Channel) -> NoReturn:
    """Serve the judge on ``channel`` (after the hello); the process exits at the end."""
    Runtime(channel).serve()
