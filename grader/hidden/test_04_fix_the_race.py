"""Hidden tests for exercise 4, fix_the_race (never released to students)."""

import random
import time
from collections import Counter
from functools import partial

import pytest

from grader.harness.calling import Notice
from grader.harness.checks import RATIO, fail, raised, returned
from grader.harness.service import SimulatedService
from grader.harness.timing import median_verdict
from grader.harness.together import in_threads, run_all

_clock = time.perf_counter  # taken before any submission runs
AUDIT_DELAY = 0.05  # seconds: the simulated audit log's answer time
NOUNS = {"deposit": "deposits", "withdraw": "withdrawals"}


class AuditLog(Notice):
    """A fast audit callable that only records its calls (``list.append`` is atomic): a
    notice, which student code need not wait for in the judge."""

    def __init__(self) -> None:
        super().__init__(self._record)
        self.calls: list[tuple[str, int]] = []

    def _record(self, op: str, amount: int) -> None:
        self.calls.append((op, amount))


def call_log(local):
    """An audit callable that keeps its calls where the module runs (a stress round makes
    hundreds), read at the end by ``check_audited``."""
    return local({"type": "call log"})


def check_audited(log, expected: list[tuple[str, int]], what: str = "") -> None:
    """The call log's calls are exactly ``expected``, in any order."""
    calls = log.calls()
    prefix = f"{what}: " if what else ""
    plain = (str, int, float, bool, type(None))
    if type(calls) is not list or not all(
        type(args) is list and all(type(arg) in plain for arg in args) for args in calls
    ):
        fail(f"{prefix}audit was called with arguments that are not an op name and an amount")
    got, want = Counter(tuple(args) for args in calls), Counter(expected)
    if got != want:
        fail(
            f"{prefix}audit was called {len(calls)} times for {len(expected)} successful "
            "operations, or with the wrong arguments: call audit(op, amount) once after each "
            "successful deposit or withdrawal, and never for a refused one"
        )


def lost_update(what: str, expected: int, got: int) -> None:
    fail(
        f"lost update: {what} should leave a balance of {expected}, but it is {got}. "
        "Another thread ran between reading and writing the balance; hold one lock, shared "
        "by every call, across the whole read-modify-write"
    )


def went_negative(balance: int) -> None:
    fail(
        f"the balance went negative ({balance}): two withdrawals both passed the check before "
        "either took the money. The check and the update must happen under the same lock"
    )


# --- correctness: the sequential semantics ----------------------------------------------------


def sequential_story(exercise, seed: int):
    """Random deposits and withdrawals, one thread, against a model; returns a problem or None."""
    rng = random.Random(seed)
    opening = rng.randrange(0, 200)
    log = AuditLog()
    account = exercise.Account(opening, log)
    model, expected_log = opening, []
    if account.balance != opening:
        return f"a new Account({opening}) has balance {account.balance}"
    for step in range(60):
        amount = rng.randrange(1, 120)
        if step % 6 == 5:  # now and then, more than the balance: must be refused
            amount = model + rng.randrange(1, 50)
        if step % 6 != 5 and rng.random() < 0.5:
            account.deposit(amount)
            model += amount
            expected_log.append(("deposit", amount))
            what = f"deposit({amount})"
        else:
            ok = account.withdraw(amount)
            allowed = model >= amount
            if ok is not allowed:
                return (
                    f"withdraw({amount}) with a balance of {model} returned {ok!r} "
                    f"instead of {allowed!r}"
                )
            if allowed:
                model -= amount
                expected_log.append(("withdraw", amount))
            what = f"withdraw({amount})"
        if account.balance != model:
            return f"after {what} (step {step}) the balance is {account.balance}, expected {model}"
    if log.calls != expected_log:
        return (
            f"audit was called {len(log.calls)} times for {len(expected_log)} successful "
            "operations: call it once after each success, never for a refused withdrawal"
        )
    return None


@pytest.mark.correctness
def test_sequential_semantics(exercise, watch, race_seed):
    """Deposits and withdrawals in one thread follow the rules"""
    problem = returned(watch(sequential_story, exercise, race_seed, timeout=5), "the account")
    if problem:
        fail(problem)


def exact_withdrawals(exercise):
    account = exercise.Account(75)
    return account.withdraw(75), account.balance, account.withdraw(1), account.balance


@pytest.mark.correctness
def test_withdraw_everything(exercise, watch):
    """Withdrawing exactly the balance succeeds and leaves 0"""
    first, after, second, last = returned(watch(exact_withdrawals, exercise, timeout=5))
    assert (first, after) == (True, 0), (
        f"withdrawing the whole balance of 75 returned {first!r} and left {after}: "
        "a withdrawal succeeds when the balance is at least the amount"
    )
    assert (second, last) == (False, 0), "withdrawing 1 from an empty account must return False"


def rejected(exercise, method: str, amount: int):
    log = AuditLog()
    account = exercise.Account(50, log)
    try:
        getattr(account, method)(amount)
    except ValueError:
        return "ValueError", account.balance, log.calls
    return "no error", account.balance, log.calls


@pytest.mark.correctness
@pytest.mark.parametrize("method", ["deposit", "withdraw"])
@pytest.mark.parametrize("amount", [0, -1, -40])
def test_non_positive_amount(exercise, watch, method, amount):
    """A non-positive amount raises ValueError and changes nothing"""
    outcome, balance, calls = returned(watch(rejected, exercise, method, amount, timeout=5))
    assert outcome == "ValueError", f"{method}({amount}) must raise ValueError"
    assert balance == 50, f"{method}({amount}) was rejected but changed the balance to {balance}"
    assert not calls, f"{method}({amount}) was rejected but audited"


@pytest.mark.correctness
def test_negative_opening_balance(exercise, watch):
    """A negative opening balance raises ValueError"""
    obs = watch(exercise.Account, -10, timeout=5)
    error = raised(obs, "Account(-10)")
    assert isinstance(error, ValueError), f"Account(-10) raised {error!r} instead of ValueError"


def defaults_and_read_only(exercise):
    account = exercise.Account()
    opening = account.balance
    account.deposit(7)
    ok = account.withdraw(3)
    try:
        account.balance = 10**6
        assigned = True
    except AttributeError:
        assigned = False
    return opening, ok, assigned, account.balance


@pytest.mark.correctness
def test_defaults_and_read_only_balance(exercise, watch):
    """Account() opens at 0 without an audit; balance cannot be assigned"""
    opening, ok, assigned, balance = returned(
        watch(defaults_and_read_only, exercise, timeout=5), "the account"
    )
    assert opening == 0, f"Account() opened with a balance of {opening!r} instead of 0"
    assert ok is True, "withdraw(3) after deposit(7) on Account() did not return True"
    if assigned:
        fail(
            "assigning account.balance worked (and set it to "
            f"{balance}): balance is a read-only property, changed only by deposit and withdraw"
        )
    assert balance == 4, f"Account() after deposit(7) and withdraw(3) has balance {balance}"


def audit_sees_new_balance(exercise):
    seen = []
    account = exercise.Account(10, lambda op, amount: seen.append((op, amount, account.balance)))
    account.deposit(5)
    account.withdraw(8)
    return seen


@pytest.mark.correctness
def test_audit_after_the_change(exercise, watch):
    """Audit is called after the balance has changed"""
    seen = returned(watch(audit_sees_new_balance, exercise, timeout=5), "the account")
    assert seen == [("deposit", 5, 15), ("withdraw", 8, 7)], (
        f"audit saw {seen} as (op, amount, balance); expected it to run after each change: "
        "[('deposit', 5, 15), ('withdraw', 8, 7)]"
    )


class AuditDown(Exception):
    pass


def failing_audit(exercise):
    def audit(op, amount):
        raise AuditDown(f"audit log unreachable ({op} {amount})")

    account = exercise.Account(30, audit)
    outcomes = []
    for call in (partial(account.deposit, 20), partial(account.withdraw, 45)):
        try:
            call()
            outcomes.append("returned")
        except AuditDown:
            outcomes.append("raised")
    return outcomes, account.balance


@pytest.mark.correctness
def test_audit_error_reaches_the_caller(exercise, watch):
    """An audit failure reaches the caller, and the change stands"""
    outcomes, balance = returned(watch(failing_audit, exercise, timeout=5), "the account")
    assert outcomes == ["raised", "raised"], (
        f"when audit raises, deposit and withdraw must let the exception through (got {outcomes})"
    )
    assert balance == 5, f"the changes must stand when audit fails: expected 5, got {balance}"


# --- timing: audits overlap, outside the critical section --------------------------------------


def audited_round(exercise, watch, op: str, amounts: list[int], peaks: list[int]) -> float:
    """One round: one thread per amount, each doing one audited ``op``; wall ÷ sequential ideal."""
    extra = sum(amounts) // 3
    opening = sum(amounts) + extra if op == "withdraw" else extra
    service = SimulatedService(AUDIT_DELAY)
    account = exercise.Account(opening, lambda o, a: service((o, a)))
    timings: list[float] = []
    method = getattr(account, op)
    obs = watch(in_threads, [partial(method, a) for a in amounts], timings)
    what = f"{len(amounts)} concurrent {NOUNS[op]}"
    results = returned(obs, what)
    expected = opening + sum(amounts) if op == "deposit" else extra
    balance = account.balance
    if op == "withdraw" and balance < 0:
        went_negative(balance)
    if op == "withdraw" and not all(r is True for r in results):
        fail(
            f"{len(results) - results.count(True)} of {what} were refused although the money "
            "was there (or did not return True)"
        )
    if balance != expected:
        lost_update(what, expected, balance)
    if sorted(service.args) != sorted((op, a) for a in amounts):
        fail(f"audit was not called once per {op}, with (op, amount)")
    peaks.append(service.peak_in_flight)
    return timings[0] / service.ideal_sequential(service.args)


def check_audits_overlap(exercise, watch, race, op: str, amounts: list[int]) -> None:
    peaks: list[int] = []
    # One forced switch in four stores: an unlocked += still loses updates in
    # every round, while a correct lock does not queue up 20 pauses, each of
    # which costs a wake-up on a loaded machine.
    with race(probability=0.25):
        verdict = median_verdict(
            lambda: audited_round(exercise, watch, op, amounts, peaks), lambda r: r <= 0.3
        )
    if verdict.passed:
        return
    RATIO.set(verdict.value)  # the ratio the failure states, for the class report
    what = f"{len(amounts)} concurrent {NOUNS[op]}"
    if max(peaks) <= 1:
        fail(
            f"{what} with a 50 ms audit took {verdict.value:.2f} × the sequential "
            "time (limit 0.3): the audits ran one at a time, serialised. Is the lock held while "
            "audit runs? Release it before calling audit"
        )
    fail(
        f"{what} with a 50 ms audit took {verdict.value:.2f} × the sequential "
        f"time (limit 0.3), with at most {max(peaks)} audits at once: they do not overlap "
        "enough. Keep the critical section small and call audit outside it"
    )


@pytest.mark.timing
def test_deposit_audits_overlap(exercise, watch, race, race_seed):
    """20 concurrent deposits with a 50 ms audit take at most 0.3 × the sequential time"""
    rng = random.Random(race_seed)
    check_audits_overlap(
        exercise, watch, race, "deposit", [rng.randrange(1, 500) for _ in range(20)]
    )


@pytest.mark.timing
def test_withdraw_audits_overlap(exercise, watch, race, race_seed):
    """20 concurrent withdrawals with a 50 ms audit take at most 0.3 × the sequential time"""
    rng = random.Random(race_seed)
    check_audits_overlap(
        exercise, watch, race, "withdraw", [rng.randrange(1, 500) for _ in range(20)]
    )


# --- stress: amplified races -------------------------------------------------------------------

REPEATS = 20
# Besides stores, pause before calls: a check-then-act whose act is a method call
# (a ledger's list.append, setattr) has no store to pause before, and would pass
# the check in every thread only by luck. The pause holds the checked thread
# between its check and its act while the others check the same old balance.
CALL_OPS = ("CALL", "CALL_KW", "CALL_FUNCTION_EX")


@pytest.mark.stress
def test_concurrent_deposits_exact_total(exercise, watch, race, race_seed, local):
    """Amplified: 8 threads × 50 deposits give the exact total"""
    rng = random.Random(race_seed)
    with race(probability=0.03):
        for round_ in range(REPEATS):
            opening = rng.randrange(0, 1000)
            log = call_log(local)
            account = exercise.Account(opening, log)
            plans = [[rng.randrange(1, 100) for _ in range(50)] for _ in range(8)]
            deposit = account.deposit
            calls = [[partial(deposit, a) for a in plan] for plan in plans]
            returned(watch(run_all, calls), "8 threads depositing")
            deposited = sum(map(sum, plans))
            if account.balance != opening + deposited:
                lost_update(
                    f"round {round_}: 400 deposits of {deposited} in total onto {opening}",
                    opening + deposited,
                    account.balance,
                )
            check_audited(log, [("deposit", a) for plan in plans for a in plan], f"round {round_}")


@pytest.mark.stress
def test_racing_withdrawals(exercise, watch, race, race_seed, local):
    """Amplified: racing withdrawals that only some can afford add up exactly"""
    rng = random.Random(race_seed)
    with race(also_before=CALL_OPS):
        for round_ in range(REPEATS):
            opening = rng.randrange(100, 300)
            amounts = [rng.randrange(opening // 4, opening // 2) for _ in range(10)]
            log = call_log(local)
            account = exercise.Account(opening, log)
            withdraw = account.withdraw
            calls = [partial(withdraw, a) for a in amounts]
            results = returned(watch(in_threads, calls), "10 threads withdrawing")
            balance = account.balance
            if balance < 0:
                went_negative(balance)
            taken = sum(a for a, ok in zip(amounts, results, strict=True) if ok is True)
            if opening - taken != balance:
                fail(
                    f"round {round_}: the successful withdrawals took {taken} from {opening}, "
                    f"but the balance is {balance}: a lost update, or a check and an update that "
                    "are not in the same critical section"
                )
            refused = [a for a, ok in zip(amounts, results, strict=True) if ok is False]
            if any(a <= balance for a in refused):
                fail(
                    f"round {round_}: a withdrawal of {min(refused)} was refused although "
                    f"{balance} was left: refuse only when the balance is too low"
                )
            if len(refused) + results.count(True) != len(results):
                fail("withdraw must return True or False")
            check_audited(
                log,
                [("withdraw", a) for a, ok in zip(amounts, results, strict=True) if ok],
                f"round {round_}",
            )


@pytest.mark.stress
def test_mixed_operations_conserve_money(exercise, watch, race, race_seed):
    """Amplified: mixed deposits and withdrawals conserve money"""
    rng = random.Random(race_seed)
    with race(probability=0.03):
        for round_ in range(REPEATS):
            opening = rng.randrange(0, 200)
            account = exercise.Account(opening)
            plans = [
                [(rng.choice(["deposit", "withdraw"]), rng.randrange(1, 60)) for _ in range(25)]
                for _ in range(8)
            ]
            methods = {op: getattr(account, op) for op in ("deposit", "withdraw")}
            calls = [[partial(methods[op], a) for op, a in plan] for plan in plans]
            outcomes = returned(watch(run_all, calls), "8 threads depositing and withdrawing")
            balance = account.balance
            if balance < 0:
                went_negative(balance)
            moved = 0
            for plan, results in zip(plans, outcomes, strict=True):
                for (op, a), ok in zip(plan, results, strict=True):
                    moved += a if op == "deposit" else (-a if ok else 0)
            if opening + moved != balance:
                lost_update(
                    f"round {round_}: 200 mixed operations moving {moved:+} onto {opening}",
                    opening + moved,
                    balance,
                )
