"""Recording locks: find AB/BA orders without a deadlock, break real deadlocks, stay drop-in."""

from __future__ import annotations

import threading
import time

import pytest

from grader.harness.lock_checks import check_hang, check_lock_order
from grader.locks.recorder import LockOrderRecorder
from grader.locks.recording import DeadlockError


def run_threads(*targets) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)

        return run

    threads = [threading.Thread(target=wrap(t), name=f"T{i + 1}") for i, t in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads), "a thread is still blocked"
    return errors


def test_opposite_orders_are_a_cycle_even_without_a_deadlock():
    rec = LockOrderRecorder()
    a, b = rec.lock("A"), rec.lock("B")
    with a, b:
        pass
    with b, a:  # one thread, one after the other: it cannot deadlock here
        pass
    assert rec.deadlocks == []
    cycles = rec.order_cycles()
    assert [sorted(lk.name for lk in c) for c in cycles] == [["A", "B"]]
    assert rec.order_report().startswith("lock-order cycle A → B → A")
    with pytest.raises(AssertionError, match="can deadlock"):
        check_lock_order(rec, "transfer")


def test_one_global_order_is_clean():
    rec = LockOrderRecorder()
    locks = [rec.lock(f"L{i}") for i in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            with locks[i], locks[j]:
                pass
    assert rec.order_cycles() == []
    check_lock_order(rec, "code")


def test_a_longer_cycle_is_found():
    rec = LockOrderRecorder()
    a, b, c = rec.lock("A"), rec.lock("B"), rec.lock("C")
    for first, second in [(a, b), (b, c), (c, a)]:
        with first, second:
            pass
    (cycle,) = rec.order_cycles()
    assert {lk.name for lk in cycle} == {"A", "B", "C"}


def test_a_real_deadlock_is_broken_and_named():
    rec = LockOrderRecorder()
    a, b = rec.lock("A"), rec.lock("B")
    both_hold = threading.Barrier(2)

    def one(first, second):
        def run():
            with first:
                both_hold.wait()
                with second:
                    pass

        return run

    start = time.monotonic()
    errors = run_threads(one(a, b), one(b, a))
    assert time.monotonic() - start < 2
    assert len(errors) == 1 and isinstance(errors[0], DeadlockError)
    assert len(rec.deadlocks) == 1
    text = rec.deadlocks[0]
    assert "waits for A" in text and "waits for B" in text
    assert not a.locked() and not b.locked()
    with pytest.raises(AssertionError, match="deadlock"):
        check_lock_order(rec, "transfers")


def test_a_hang_is_described_and_released_by_abort():
    rec = LockOrderRecorder(break_deadlocks=False)
    a, b = rec.lock("A"), rec.lock("B")
    both_hold = threading.Barrier(2)
    errors: list[BaseException] = []

    def one(first, second):
        def run():
            try:
                with first:
                    both_hold.wait()
                    with second:
                        pass
            except DeadlockError as exc:
                errors.append(exc)

        return run

    threads = [threading.Thread(target=one(a, b)), threading.Thread(target=one(b, a))]
    for t in threads:
        t.start()
    time.sleep(0.2)
    assert rec.wait_cycle() is not None
    with pytest.raises(AssertionError, match=r"deadlock in transfers: .*waits for"):
        check_hang(rec, True, "transfers")
    for t in threads:
        t.join(2)
    assert not any(t.is_alive() for t in threads)
    assert errors and all(isinstance(e, DeadlockError) for e in errors)


def test_abort_ends_a_livelock_of_try_locks():
    rec = LockOrderRecorder()
    a, b = rec.lock("A"), rec.lock("B")
    both_hold = threading.Barrier(2)
    errors: list[BaseException] = []

    def spin(first, second):
        def run():
            try:
                with first:
                    both_hold.wait()
                    while not second.acquire(blocking=False):  # retries holding `first`
                        time.sleep(0.001)
            except DeadlockError as exc:
                errors.append(exc)

        return run

    threads = [threading.Thread(target=spin(a, b)), threading.Thread(target=spin(b, a))]
    for t in threads:
        t.start()
    time.sleep(0.1)
    assert all(t.is_alive() for t in threads) and rec.wait_cycle() is None
    rec.abort()
    for t in threads:
        t.join(2)
    assert not any(t.is_alive() for t in threads)
    assert len(errors) == 2 and not a.locked() and not b.locked()


def test_relocking_a_plain_lock_is_a_self_deadlock():
    rec = LockOrderRecorder()
    lock = rec.lock("L")
    with lock, pytest.raises(DeadlockError, match="already holds"):
        lock.acquire()
    assert not lock.locked()


def test_try_lock_and_timeouts_add_no_edge():
    rec = LockOrderRecorder()
    a, b = rec.lock("A"), rec.lock("B")
    with a:
        assert b.acquire(blocking=False)
        b.release()
    with b:
        assert a.acquire(timeout=0.1)
        a.release()
    assert rec.edges == []


def test_drop_in_lock_api():
    rec = LockOrderRecorder()
    lock = rec.lock("L")
    assert lock.acquire() is True
    assert lock.locked() and lock.held_by_current_thread()
    assert lock.acquire(blocking=False) is False
    assert lock.acquire(timeout=0.01) is False
    lock.release()
    assert not lock.locked()
    with pytest.raises(RuntimeError):
        lock.release()
    with pytest.raises(ValueError):
        lock.acquire(False, 1)
    # a Lock may be released by another thread, as threading.Lock allows
    lock.acquire()
    t = threading.Thread(target=lock.release)
    t.start()
    t.join()
    assert not lock.locked() and rec.held_by_current_thread() == []


def test_reentrant_lock_and_condition():
    rec = LockOrderRecorder()
    rlock = rec.rlock("R")
    with rlock, rlock:
        assert rec.held_by_current_thread() == [rlock]
    assert not rlock.locked()
    cond = threading.Condition(rec.lock("C"))
    ready = []

    def waiter():
        with cond:
            cond.wait_for(lambda: ready, timeout=5)

    t = threading.Thread(target=waiter)
    t.start()
    with cond:
        ready.append(1)
        cond.notify_all()
    t.join(5)
    assert not t.is_alive()


def test_waiters_and_held_locks_are_visible():
    rec = LockOrderRecorder()
    lock = rec.lock("L")
    with lock:
        t = threading.Thread(target=lambda: lock.acquire() and lock.release())
        t.start()
        deadline = time.monotonic() + 2
        while rec.waiters(lock) == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert rec.waiters(lock) == 1
        assert "waits for L" in rec.describe_waits()
    t.join(2)
    assert rec.waiters(lock) == 0


def test_held_by_names_the_locks_another_thread_holds_oldest_first():
    rec = LockOrderRecorder()
    a, b = rec.lock("A"), rec.lock("B")
    inside, leave = threading.Event(), threading.Event()

    def hold():
        with a, b:
            inside.set()
            leave.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    assert inside.wait(5)
    try:
        assert rec.held_by(worker) == [a, b] and rec.held_names(worker) == ["A", "B"]
        assert rec.held_names(threading.current_thread()) == []
    finally:
        leave.set()
        worker.join()
    assert rec.held_names(worker) == []
