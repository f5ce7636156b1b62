"""The judge and the subject as two real processes (issue 14, step 2): requests, proxies, verdicts.

Concurrency is checked by structure (peaks counted by judge callables, a barrier only
concurrent requests can pass), never by timing. Hostile modules are written to tmp_path.
"""

from __future__ import annotations

import ast
import asyncio
import runpy
import sys
import textwrap
import threading
import time
from functools import partial
from pathlib import Path

import pytest

from grader import layout
from grader.grading.judge.remote import RemoteObject, StudentThread, type_name_of
from grader.grading.judge.subject import Subject
from grader.grading.judge.verdicts import SubjectDied, SubjectHung, SubjectMisbehaved
from grader.harness.aio import run_in_loop
from grader.harness.calling import Notice, Token, attributes, caller, is_instance
from grader.harness.service import AsyncSimulatedService, SimulatedService, default_result
from grader.harness.source import TrackedSource
from grader.harness.together import in_threads, lanes_inside, outcomes_in_threads, run_all
from grader.wire.codec import WireError
from grader.wire.raised import SubjectRaised

SHORT = 1.0  # the call timeout of tests that expect a hang


def _module(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "submission.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


class InFlight:
    """A judge callable that sleeps, counting its peak of concurrent callers."""

    def __init__(self, delay: float, reply=lambda arg: f"page of {arg}") -> None:
        self.delay, self.reply = delay, reply
        self.lock = threading.Lock()
        self.now = self.peak = 0
        self.threads: list[str] = []

    def __call__(self, arg):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.threads.append(threading.current_thread().name)
        try:
            time.sleep(self.delay)
            return self.reply(arg)
        finally:
            with self.lock:
                self.now -= 1


def test_a_module_loads_and_its_attributes_are_read():
    path = layout.SOLUTIONS / "16_concepts.py"
    with Subject.start(path, name="concepts") as subject:
        answers = subject.module.ANSWERS
        assert type(answers) is dict
        assert answers == runpy.run_path(str(path))["ANSWERS"]
        assert subject.module_name.startswith("grader.importable.concepts_")
        with pytest.raises(SubjectRaised) as raised:
            _ = subject.module.NO_SUCH_NAME
        assert raised.value.info.type_name == "AttributeError"


def test_a_judge_callable_is_called_concurrently_by_student_threads():
    urls = [f"https://example.com/{i}" for i in range(8)]
    service = InFlight(0.02)
    with Subject.start(layout.SOLUTIONS / "01_wait_for_all.py", name="wait") as subject:
        got = subject.module.fetch_all(urls, subject.proxy(service))
    assert got == [f"page of {url}" for url in urls]
    assert service.peak > 1
    assert len(service.threads) == len(urls)


def test_caller_names_the_students_thread_not_the_judges(tmp_path):
    path = _module(
        tmp_path,
        """
        import threading

        def twice_each(calls):
            mine = []
            together = threading.Barrier(3)  # alive together: an ended thread's ident is reused
            def run():
                mine.append(threading.get_ident())
                together.wait()
                calls()
                calls()
            threads = [threading.Thread(target=run) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return mine
        """,
    )
    seen = []
    with Subject.start(path, name="callers") as subject:
        mine = subject.module.twice_each(lambda: seen.append(caller()))
    assert len(set(seen)) == 3 and all(seen.count(who) == 2 for who in seen)
    assert len(set(mine)) == 3
    assert caller() is threading.current_thread()  # outside a callback: this very thread


def test_a_callback_on_the_calling_thread_names_the_tests_thread(tmp_path):
    path = _module(
        tmp_path,
        """
        import threading

        def here_and_there(call):
            call()
            worker = threading.Thread(target=call)
            worker.start()
            worker.join()
        """,
    )
    seen = []
    with Subject.start(path, name="here") as subject:
        subject.module.here_and_there(lambda: seen.append(caller()))
        students = subject.threads()
    here, there = seen
    assert here is threading.current_thread()  # as in-process: the test's own thread
    assert isinstance(there, StudentThread) and there not in students  # ended since


def test_thread_set_lists_the_students_threads_only(tmp_path):
    path = _module(
        tmp_path,
        """
        import threading

        stop = threading.Event()

        def start(n):
            for _ in range(n):
                threading.Thread(target=stop.wait, name="student").start()

        def release():
            stop.set()
        """,
    )
    with Subject.start(path, name="threads") as subject:
        before = subject.threads()
        subject.module.start(3)
        during = subject.threads()
        subject.module.release()
        time.sleep(0.2)
        after = subject.threads()
    assert len(during - before) == 3
    assert {thread.name for thread in during - before} == {"student"}
    assert not (after & (during - before))


def test_exceptions_in_values_are_data_and_the_judges_own_come_back_as_themselves(tmp_path):
    path = _module(
        tmp_path,
        """
        def collect(*makers):
            errors = []
            for make in makers:
                try:
                    make()
                except Exception as exc:
                    errors.append(exc)
            errors.append(KeyError("own"))
            return errors
        """,
    )
    mine = ValueError("the judge's")

    def boom():
        raise mine

    with Subject.start(path, name="collect") as subject:
        first, second = subject.module.collect(boom)
    assert first is mine
    assert isinstance(second, KeyError) and isinstance(second, SubjectRaised)


def test_with_runs_the_objects_own_enter_and_exit(tmp_path):
    path = _module(
        tmp_path,
        """
        class Managed:
            def __init__(self):
                self.log = []

            def __enter__(self):
                self.log.append("enter")
                return self

            def __exit__(self, kind, error, tb):
                self.log.append(f"exit {kind.__name__ if kind else None}")
                return isinstance(error, KeyError)  # swallows KeyErrors only

        def make():
            return Managed()
        """,
    )
    mine = ValueError("through the block")
    with Subject.start(path, name="managed") as subject:
        managed = subject.module.make()
        with managed as entered:
            assert entered is managed
        with pytest.raises(ValueError) as through, managed:
            raise mine
        assert through.value is mine
        with managed:
            raise KeyError("swallowed")
        assert managed.log == [
            "enter",
            "exit None",
            "enter",
            "exit ValueError",
            "enter",
            "exit KeyError",
        ]


def test_lanes_run_together_in_the_subject_and_raise_the_first_lanes_error(tmp_path):
    path = _module(
        tmp_path,
        """
        import threading, time

        class Meeting:
            def __init__(self, n):
                self.barrier = threading.Barrier(n, timeout=5)
                self.names = []

            def meet(self, tag):
                self.barrier.wait()  # only all lanes at once pass
                self.names.append(threading.current_thread().name)
                return tag

            def echo(self, tag):
                return tag

            def fail(self, tag):
                raise KeyError(tag)
        """,
    )
    with Subject.start(path, name="meeting") as subject:
        meeting = subject.module.Meeting(3)
        timings: list[float] = []
        lanes = [[partial(meeting.meet, i), partial(meeting.meet, -i)] for i in range(3)]
        got = run_all(lanes, timings)
        assert got == [[i, -i] for i in range(3)]
        assert len(set(meeting.names)) == 3 and len(timings) == 1
        assert in_threads([partial(meeting.meet, "a")] * 3) == ["a"] * 3
        with pytest.raises(KeyError) as first:
            run_all([[partial(meeting.echo, 0)], *([partial(meeting.fail, n)] for n in "12")])
        assert "1" in str(first.value)  # the first lane's error, not the second's


def test_a_token_crosses_by_reference_and_a_copy_of_its_stand_in_is_not_it(tmp_path):
    path = _module(
        tmp_path,
        """
        import copy

        class Box:
            def __init__(self, make):
                self.make, self.kept = make, None

            def get(self, key):
                if self.kept is None:
                    self.kept = self.make(key)
                return self.kept

            def nested(self):
                return [self.kept, (self.kept,), {"k": self.kept}]

            def copied(self):
                return copy.copy(self.kept)

        def named_like_a_token():
            class Forged:
                pass
            Forged.__qualname__ = "<judge value>"
            return Forged()
        """,
    )
    token = Token("k")
    with Subject.start(path, name="box") as subject:
        box = subject.module.Box(lambda key: token)
        assert box.get("k") is token and box.get("k") is token
        assert token == Token("k") and token != Token("j")
        assert box.nested() == [token, (token,), {"k": token}]
        assert all(got is token for got in (box.nested()[0], box.nested()[1][0]))
        copied = box.copied()  # a copy of the stand-in: an equal token, not the same
        assert copied == token and copied is not token and type(copied) is Token
        forged = subject.module.named_like_a_token()
        assert isinstance(forged, RemoteObject) and type_name_of(forged) == "<judge value>?"
        outcomes = outcomes_in_threads([partial(box.get, "k")] * 3)
        assert all(kind == "value" and got is token for kind, got in outcomes), outcomes


def test_attributes_reads_one_attribute_of_many_objects_in_one_request(tmp_path):
    path = _module(
        tmp_path,
        """
        class Box:
            def __init__(self, n):
                self.n, self.me = n, self
        """,
    )
    with Subject.start(path, name="boxes") as subject:
        boxes = [subject.module.Box(n) for n in range(5)]
        sent = []
        request = subject.request
        subject.request = lambda op, *args, **kwargs: (
            sent.append(op) or request(op, *args, **kwargs)
        )
        assert attributes(boxes, "n") == list(range(5)) and sent == ["get"]
        assert attributes(boxes, "me") == boxes  # the very objects, by handle
    plain = runpy.run_path(str(path))["Box"]
    assert attributes([plain(7), plain(8)], "n") == [7, 8] and attributes([], "n") == []


def _lanes_module(tmp_path: Path) -> Path:
    return _module(
        tmp_path,
        """
        import time

        class Work:
            def probe(self, probe):
                return probe()

            def sleep(self, seconds):
                time.sleep(seconds)
                return seconds

            def fail(self, tag):
                raise KeyError(tag)
        """,
    )


def _check_lanes_inside(work) -> None:
    seen: list[tuple[int, int]] = []

    def probe():  # called by lane 0: waits until every lane is in its call or done
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            seen.append(lanes_inside(work))
            if seen[-1][0] == seen[-1][1]:
                return "all inside"
            time.sleep(0.002)
        return "timed out"

    calls = [partial(work.probe, probe), partial(work.sleep, 0.3), partial(work.fail, "x")]
    outcomes = outcomes_in_threads(calls)
    assert outcomes[:2] == [("value", "all inside"), ("value", 0.3)], outcomes
    assert outcomes[2][0] == "error" and isinstance(outcomes[2][1], KeyError), outcomes
    assert seen[-1] == (3, 3), seen
    assert lanes_inside(work) == (0, 0)  # no lanes run now


def test_lanes_inside_and_each_lanes_outcome_in_the_subject(tmp_path):
    with Subject.start(_lanes_module(tmp_path), name="work") as subject:
        _check_lanes_inside(subject.module.Work())


def test_lanes_inside_and_each_lanes_outcome_in_process(tmp_path):
    _check_lanes_inside(runpy.run_path(str(_lanes_module(tmp_path)))["Work"]())


def _pool_module(tmp_path: Path) -> Path:
    return _module(
        tmp_path,
        """
        import threading

        def run(service, source, limit):
            lock, results = threading.Lock(), []

            def work():
                while True:
                    with lock:
                        item = next(source, None)
                    if item is None:
                        return
                    results.append(service(item))

            threads = [threading.Thread(target=work) for _ in range(limit)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return sorted(results)
        """,
    )


def _check_local_books(run) -> None:
    items = [f"item-{i}" for i in range(300)]
    service = SimulatedService(0.001, local=True)
    source = TrackedSource(items, service)
    got = run(service, source, 4)
    assert got == sorted(default_result(x) for x in items)
    assert sorted(service.args) == sorted(items) and service.completed == len(items)
    assert source.pulled == len(items) and 1 <= source.max_pull_ahead <= 4 + 1
    assert 1 < service.peak_in_flight <= 4 and service.in_flight == 0
    assert 1 < service.distinct_threads() <= 4


def test_a_local_service_and_source_run_in_the_subject_and_keep_the_books_here(tmp_path):
    with Subject.start(_pool_module(tmp_path), name="pool") as subject:
        _check_local_books(subject.module.run)
        # the subject's objects are its own: the judge's callables were never called
        assert subject.connection.busy == 0


def test_a_local_service_keeps_the_same_books_in_process(tmp_path):
    _check_local_books(runpy.run_path(str(_pool_module(tmp_path)))["run"])


def test_a_local_service_is_only_a_known_delay_and_the_default_result():
    with pytest.raises(ValueError, match="local service"):
        SimulatedService(0.01, failures={"x": KeyError("x")}, local=True)
    with pytest.raises(ValueError, match="local service"):
        SimulatedService(lambda arg: 0.01, local=True)


def _async_module(tmp_path: Path) -> Path:
    return _module(
        tmp_path,
        """
        import asyncio

        async def fetch_all(urls, fetch, timeout, forget=False):
            async def one(url):
                try:
                    async with asyncio.timeout(timeout):
                        return "ok", await fetch(url)
                except TimeoutError:
                    return "timed out", None
                except Exception as exc:
                    return "error", exc

            if forget:
                asyncio.create_task(asyncio.sleep(10))  # left pending
            return await asyncio.gather(*(one(url) for url in urls))
        """,
    )


def _check_async_books(fetch_all) -> None:
    boom = ConnectionError("b is down")
    delays = {"a": 0.01, "b": 0.01, "c": 5.0}
    service = AsyncSimulatedService(
        delays, failures={"b": boom}, result=lambda url: f"page {url}".encode(), local=True
    )
    run = run_in_loop(partial(fetch_all, timeout=0.2), ["a", "b", "c"], service)
    assert run.error is None and run.pending == [], (run.error, run.pending)
    (kind_a, page_a), (kind_b, error_b), (kind_c, _) = run.value
    assert (kind_a, page_a) == ("ok", b"page a") and kind_c == "timed out"
    assert kind_b == "error" and error_b is boom  # the judge's very exception
    calls = {call.arg: call for call in service.calls}
    assert set(calls) == {"a", "b", "c"} and service.in_flight == 0
    assert calls["b"].error is boom and calls["a"].error is None
    assert isinstance(calls["c"].error, asyncio.CancelledError)
    assert 0.15 < calls["c"].duration < 0.6, calls["c"].duration
    assert service.peak_in_flight == 3 and 0.15 < run.elapsed < 2.0
    left = run_in_loop(partial(fetch_all, timeout=0.2, forget=True), [], service)
    assert len(left.pending) == 1 and left.ticks >= 0


def test_a_coroutine_is_awaited_in_the_subject_with_a_local_async_service(tmp_path):
    with Subject.start(_async_module(tmp_path), name="fetcher") as subject:
        _check_async_books(subject.module.fetch_all)


def test_a_local_async_service_keeps_the_same_books_in_process(tmp_path):
    _check_async_books(runpy.run_path(str(_async_module(tmp_path)))["fetch_all"])


def test_notices_are_not_waited_for_and_arrive_before_the_reply(tmp_path):
    path = _module(
        tmp_path,
        """
        import threading

        def tell(notice, callback, n):
            for i in range(n):
                notice(i, threading.current_thread().name)
            callback()  # a callback between: the notices before it come first
            for i in range(n, 2 * n):
                notice(i, "again")
            return n
        """,
    )
    seen: list[int] = []
    at_callback: list[int] = []
    with Subject.start(path, name="tell") as subject:
        notice = Notice(lambda i, _name: seen.append(i))
        assert subject.module.tell(notice, lambda: at_callback.append(len(seen)), 150) == 150
        assert seen == list(range(300))  # all of them, in order, by the time the reply came
    assert at_callback == [150]


def test_is_instance_is_asked_of_the_subject(tmp_path):
    path = _module(
        tmp_path,
        """
        import threading

        class Event:  # named as threading's, but not it
            pass

        def real():
            return threading.Event()

        def fake():
            return Event()
        """,
    )
    with Subject.start(path, name="kinds") as subject:
        real, fake = subject.module.real(), subject.module.fake()
        assert type_name_of(real) == type_name_of(fake) == "Event"
        assert is_instance(real, threading.Event) and not is_instance(fake, threading.Event)
        assert not is_instance(real, threading.Thread)
    assert is_instance(threading.Event(), threading.Event)  # in-process: isinstance itself


def test_an_object_with_methods_is_shared_by_judge_threads(tmp_path):
    audits = []
    with Subject.start(layout.SOLUTIONS / "04_fix_the_race.py", name="race") as subject:
        account = subject.module.Account(10, subject.proxy(lambda op, n: audits.append((op, n))))
        assert isinstance(account, RemoteObject) and type_name_of(account) == "Account"
        assert subject.module.Account == subject.module.Account  # one object, one handle

        def deposits() -> None:
            for _ in range(25):
                subject.call(account, "deposit", 2)

        threads = [threading.Thread(target=deposits) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert account.balance == 10 + 4 * 25 * 2
        assert account.withdraw(1000) is False
        assert sorted(set(audits)) == [("deposit", 2)] and len(audits) == 100
        with pytest.raises(SubjectRaised) as raised:
            account.deposit(0)
    info = raised.value.info
    assert (info.type_name, info.tag) == ("ValueError", None)
    assert raised.value.is_a(ValueError)


def test_judge_requests_run_concurrently_in_the_subject(tmp_path):
    path = _module(tmp_path, "def meet(wait):\n    return wait()\n")
    barrier = threading.Barrier(3)
    with Subject.start(path, name="meet") as subject:
        wait = subject.proxy(lambda: barrier.wait(timeout=30))
        results: list[object] = []
        threads = [
            threading.Thread(target=lambda: results.append(subject.module.meet(wait)))
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(results) == [0, 1, 2]  # only three calls in flight at once pass the barrier


def test_a_student_exception_arrives_with_its_type_and_bases(tmp_path):
    path = _module(
        tmp_path,
        """
        class Late(TimeoutError):
            pass

        def slow():
            raise Late("too slow")
        """,
    )
    with Subject.start(path, name="late") as subject, pytest.raises(SubjectRaised) as raised:
        subject.module.slow()
    info = raised.value.info
    assert (info.type_name, info.message) == ("Late", "too slow")
    assert raised.value.is_a(TimeoutError) and not raised.value.is_a(KeyError)


def test_the_judges_exception_reaches_student_code_and_comes_back_the_same(tmp_path):
    path = _module(
        tmp_path,
        """
        def relay(fetch):
            return fetch()

        def kind(fetch):
            try:
                fetch()
            except TimeoutError as exc:
                return [type(exc).__name__, str(exc), exc.__notes__]

        def copy(fetch):
            try:
                fetch()
            except Exception as exc:
                raise type(exc)(str(exc)) from None
        """,
    )

    class Planned(TimeoutError):
        pass

    def failing():
        error = Planned("planned failure")
        error.add_note("made by the judge")
        raise error

    with Subject.start(path, name="relay") as subject:
        proxy = subject.proxy(failing)
        assert subject.module.kind(proxy) == [
            "TimeoutError",
            "planned failure",
            ["made by the judge"],
        ]
        with pytest.raises(Planned) as raised:
            subject.module.relay(proxy)
        with pytest.raises(SubjectRaised) as copied:
            subject.module.copy(proxy)
        very = raised.value  # passed on by student code: the judge's very exception, raised again
        assert isinstance(very, Planned) and str(very) == "planned failure"
        assert not isinstance(very, SubjectRaised)
        assert subject.made(copied.value.info) is None  # a copy is not the very exception
        assert isinstance(copied.value, TimeoutError)  # but it is of its built-in kind


def test_garbage_written_to_the_channel_is_a_plain_verdict(tmp_path):
    path = _module(
        tmp_path,
        """
        import os, stat
        for name in os.listdir("/proc/self/fd"):
            try:
                if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                    os.write(int(name), b"\\x00\\x00\\x00\\x10not json at all!" * 4)
            except OSError:
                pass
        """,
    )
    with pytest.raises((SubjectMisbehaved, SubjectDied)) as failed:
        Subject.start(path, name="garbage")
    assert "process running your code" in str(failed.value)


def test_a_lying_object_crosses_only_as_a_handle_or_plain_text(tmp_path):
    path = _module(
        tmp_path,
        """
        class Liar:
            def __eq__(self, other):
                return True

        class Text(str):
            def __eq__(self, other):
                return True

            def __str__(self):
                return "a lie"

        def liar():
            return Liar()

        def text():
            return Text("honest")
        """,
    )
    with Subject.start(path, name="liar") as subject:
        liar, text = subject.module.liar(), subject.module.text()
        assert isinstance(liar, RemoteObject) and type_name_of(liar) == "Liar"
        assert liar != "anything" and liar != subject.module.liar()
        assert type(text) is str and text == "honest" and text != "anything"


def test_a_hung_call_kills_the_subject(tmp_path):
    path = _module(tmp_path, "def hang():\n    while True:\n        pass\n")
    with Subject.start(path, name="hang") as subject:
        subject.call_timeout = SHORT
        with pytest.raises(SubjectHung) as hung:
            subject.module.hang()
        assert "'hang'" in str(hung.value)
        assert subject.child.status(10.0) is not None
        with pytest.raises(SubjectHung):
            _ = subject.module.hang  # every later request gets the same verdict


def test_an_exit_is_a_death_with_its_status(tmp_path):
    path = _module(
        tmp_path,
        """
        import os, sys

        def die():
            print("bye", file=sys.stderr, flush=True)
            os._exit(3)
        """,
    )
    with Subject.start(path, name="die") as subject, pytest.raises(SubjectDied) as died:
        subject.module.die()
    assert died.value.status == 3 and "status 3" in str(died.value)
    assert "bye" in died.value.stderr_tail


def test_heavy_printing_does_not_touch_the_channel(tmp_path):
    path = _module(
        tmp_path,
        """
        import os, sys
        print("x" * 300_000)
        os.write(2, b"\\x00\\x00\\x00\\x05hello" * 10_000)

        def shout(n):
            for i in range(n):
                print("y" * 1000)
                print("z" * 1000, file=sys.stderr)
                os.write(1, b"\\x00\\x00\\x00\\x02{}")
            return n
        """,
    )
    with Subject.start(path, name="noisy") as subject:
        assert subject.module.shout(2000) == 2000
        assert subject.module.shout(1) == 1
    assert len(subject.child.stderr_tail()) <= 4096


def test_a_forked_worker_cannot_use_the_judges_callables(tmp_path):
    path = _module(
        tmp_path,
        """
        import os

        def fork_and_call(fetch):
            readable, writable = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    fetch()
                    os.write(writable, b"called the judge")
                except BaseException as exc:
                    os.write(writable, type(exc).__name__.encode())
                os._exit(0)
            os.close(writable)
            os.waitpid(pid, 0)
            return os.read(readable, 100).decode()
        """,
    )
    calls = []
    with Subject.start(path, name="forks") as subject:
        assert (
            subject.module.fork_and_call(subject.proxy(lambda: calls.append(1))) == "RuntimeError"
        )
        assert subject.module.fork_and_call is not None  # the channel still serves
    assert calls == []


def test_a_spawned_worker_imports_the_loaded_module_by_name(tmp_path):
    path = _module(
        tmp_path,
        """
        import multiprocessing

        def square(n):
            return n * n

        def squares(n):
            with multiprocessing.get_context("spawn").Pool(2) as pool:
                return pool.map(square, range(n))
        """,
    )
    with Subject.start(path, name="spawns") as subject:
        assert subject.module.squares(5) == [n * n for n in range(5)]


FORGED = {
    "a reply to no request": {"op": "ok", "id": 10**6, "value": "forged"},
    "a callback to no callable": {
        "op": "callback",
        "id": 1,
        "proxy": [1],
        "args": [],
        "kwargs": {},
        "thread": "x",
        "ident": 1,
    },
    "a callback with no thread ident": {
        "op": "callback",
        "id": 1,
        "proxy": 1,
        "args": [],
        "kwargs": {},
        "thread": "x",
        "ident": "x",
    },
    "notices that are not a list of calls": {"op": "notices", "items": 1},
    "a notice that is not a list": {
        "op": "notices",
        "items": [{"proxy": 1, "args": [], "kwargs": {}, "thread": "x", "ident": 1}],
    },
    "a notice of 5 fields, not 6": {"op": "notices", "items": [[1, [], {}, "x", 1]]},
    "a notice to a callable of the judge's that is not one": {
        "op": "notices",
        "items": [[1, [], {}, "x", 1, None]],
    },
    "an unknown op": {"op": "verdict", "id": 1, "value": "the grader failed"},
}


@pytest.mark.parametrize("verdict", FORGED)
def test_a_forged_message_is_a_plain_verdict(tmp_path, verdict):
    path = _module(
        tmp_path,
        """
        import os, socket, stat
        from grader.wire.channel import Channel

        def forge(message, callback):
            callback()  # the judge's callable number 1 (not a notice)
            for name in os.listdir("/proc/self/fd"):
                try:
                    if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                        sock = socket.socket(fileno=os.dup(int(name)))
                        Channel(sock).send(message)
                except OSError:
                    pass
            return "honest"
        """,
    )
    verdicts = (SubjectMisbehaved, SubjectDied)
    with Subject.start(path, name="forger") as subject, pytest.raises(verdicts) as failed:
        subject.module.forge(FORGED[verdict], lambda: None)
    assert verdict in str(failed.value)


def test_a_forged_token_is_refused_and_a_token_is_never_called(tmp_path):
    path = _module(
        tmp_path,
        """
        import os, socket, stat
        from grader.wire.channel import Channel
        from grader.wire.codec import JUDGE_VALUE, Remote

        def forged_value():
            return Remote(99, JUDGE_VALUE)  # a token number the judge never sent

        def call_the_token(callback, token):
            callback()  # the judge's callable 1; the token is 2
            message = {"op": "callback", "id": 1, "proxy": 2, "args": [], "kwargs": {},
                       "thread": "x", "ident": 1}
            for name in os.listdir("/proc/self/fd"):
                try:
                    if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                        Channel(socket.socket(fileno=os.dup(int(name)))).send(message)
                except OSError:
                    pass
            return "honest"
        """,
    )
    with Subject.start(path, name="forger") as subject:
        with pytest.raises(WireError, match="a value the judge never sent"):
            subject.module.forged_value()
        verdicts = (SubjectMisbehaved, SubjectDied)
        with pytest.raises(verdicts, match="a callback to no callable"):
            subject.module.call_the_token(lambda: None, Token("t"))


def test_the_subject_imports_only_the_wire_the_loader_the_amplifier_the_locks_and_the_stdlib():
    found = set()
    for path in (layout.PACKAGE / "subject").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module == "grader":
                found |= {f"grader.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
    ours = {name for name in found if name.split(".")[0] == "grader"}
    allowed = ("grader.wire", "grader.subject", "grader.importable", "grader.amplifier",
               "grader.locks")  # fmt: skip
    assert ours and all(name.startswith(allowed) for name in ours)
    assert all(name.split(".")[0] in sys.stdlib_module_names for name in found - ours)


def test_a_group_of_the_judges_exceptions_comes_back_with_the_students_notes(tmp_path):
    path = _module(
        tmp_path,
        """
        def gather(tasks):
            errors = []
            for i, task in enumerate(tasks):
                try:
                    task()
                except Exception as exc:
                    exc.add_note(f"task {i}")
                    errors.append(exc)
            raise ExceptionGroup(f"{len(errors)} of {len(tasks)} failed", errors)
        """,
    )
    made = [KeyError(f"k{i}") for i in range(3)]

    def failing(i):
        raise made[i]

    with Subject.start(path, name="gather") as subject:
        tasks = [lambda i=i: failing(i) for i in range(3)]  # each becomes a proxy
        with pytest.raises(ExceptionGroup) as caught:
            subject.module.gather(tasks)
    group = caught.value
    assert group.message == "3 of 3 failed"
    assert all(got is want for got, want in zip(group.exceptions, made, strict=True))
    assert [e.__notes__ for e in made] == [["task 0"], ["task 1"], ["task 2"]]


def test_a_subject_that_never_greets_is_the_sandboxs_fault_not_the_students(tmp_path):
    """No student code runs before the hello: ending there is never the submission's fault."""
    from grader.grading.judge.verdicts import SubjectNeverStarted

    path = _module(tmp_path, "x = 1\n")
    failing = [
        "/bin/sh",
        "-c",
        "echo 'grader-sandbox: could not set up isolation: no' >&2; exit 121",
    ]
    with pytest.raises(SubjectNeverStarted, match="could not set up isolation: no"):
        Subject.start(path, name="never", wrap=lambda command: failing)
    silent = ["/bin/sh", "-c", "exit 3"]
    with pytest.raises(SubjectNeverStarted, match="exit status 3"):
        Subject.start(path, name="never", wrap=lambda command: silent)


def test_judge_iterators_reach_student_code_as_iterators(tmp_path):
    """A generator or a recording source passed to student code is pulled through the judge,
    one ``next`` at a time, and ends as it would (``StopIteration``)."""
    path = _module(
        tmp_path,
        """
        def take(items, n):
            it = iter(items)
            return [next(it) for _ in range(n)]

        def drain(items):
            return [x * 2 for x in items]
        """,
    )
    pulled = []

    def numbers():
        for i in range(5):
            pulled.append(i)
            yield i

    with Subject.start(path, name="iters") as subject:
        assert subject.module.drain(numbers()) == [0, 2, 4, 6, 8]
        source = numbers()
        pulled.clear()
        assert subject.module.take(source, 2) == [0, 1]
        assert pulled == [0, 1]  # pulled only as far as the student asked
        assert subject.module.drain(x for x in ()) == []


def test_invoke_calls_a_remote_function_by_name_in_one_round_trip(monkeypatch):
    import types

    from grader.harness.calling import invoke

    local = types.SimpleNamespace(double=lambda x: 2 * x)
    assert invoke(local, "double", 4) == 8  # in-process: getattr, then call
    with Subject.start(layout.SOLUTIONS / "15_amdahl.py", name="amdahl") as subject:
        sent = []
        real = subject.connection.request
        monkeypatch.setattr(
            subject.connection, "request", lambda op, *a, **k: sent.append(op) or real(op, *a, **k)
        )
        assert invoke(subject.module, "speedup", 0.0, 4) == pytest.approx(4.0)
        assert sent == ["call"]
        with pytest.raises(AttributeError):
            invoke(subject.module, "no_such_function")
