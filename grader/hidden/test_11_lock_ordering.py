"""Hidden tests for exercise 11, lock_ordering (never released to students)."""

import random
import threading
from functools import partial

import pytest

from grader.harness.calling import attributes, calling_thread
from grader.harness.checks import RATIO, fail, raised, returned
from grader.harness.lock_checks import check_hang, check_lock_order
from grader.harness.service import SimulatedService
from grader.harness.timing import median_verdict
from grader.harness.together import each_lane

ADVICE = "Take both locks in one global order (for example by account id)"


class Bank:
    """Accounts built from the exercise's ``Account``, with recording locks and a watched audit.

    ``locks`` is the ``lock_recorder`` fixture: the recorder lives where the student's code
    takes the locks (in the judge, in the subject). Account ids are kept here as given, so
    reading them costs nothing; balances and locks are read from the accounts themselves.
    """

    def __init__(self, exercise, ids, balances, *, locks, audit_delay=0.002, recorder=None):
        self.recorder = recorder or locks()
        self.service = SimulatedService(audit_delay)
        self.audits = []  # (account id, its own lock held?, number of account locks held)
        self.seen = []  # (account id, the balance its audit saw)
        self.negative = []  # balances seen below zero
        self.accounts = []
        self.ids = list(ids)
        self._id_of = {}
        for account_id, balance in zip(ids, balances, strict=True):
            account = exercise.Account(account_id, balance)
            account.lock = self.recorder.lock(self.lock_name(account_id))
            account.audit = self._audit_of(account, account_id)
            self.accounts.append(account)
            self._id_of[id(account)] = account_id
        self.initial = self.balances
        self.history = []  # ((src, dst, amount), returned value) of every checked run

    @staticmethod
    def lock_name(account_id):
        return f"account {account_id}'s lock"

    def id_of(self, account):
        return self._id_of[id(account)]

    def _audit_of(self, account, account_id):
        own = self.lock_name(account_id)

        def audit():
            held = self.recorder.held_names(calling_thread())
            self.audits.append((account_id, own in held, len(held)))
            balances = self.balances
            self.seen.append((account_id, balances[account_id]))
            self.negative += [(i, b) for i, b in balances.items() if b < 0]
            self.service(account_id)

        return audit

    @property
    def balances(self):
        return dict(zip(self.ids, attributes(self.accounts, "balance"), strict=True))

    @property
    def total(self):
        return sum(self.balances.values())

    def check_released(self, when):
        held = [a.lock.name for a in self.accounts if a.lock.locked()]
        if held:
            fail(f"{held[0]} was still locked {when}: release both locks before returning")

    def check_audits_locked(self):
        for account_id, own_held, n_held in self.audits:
            if not own_held or n_held < 2:
                fail(
                    f"account {account_id} was audited while not locked by the transfer "
                    f"({n_held} account lock(s) held): hold both accounts' locks while "
                    "checking, moving the money and auditing"
                )

    def check_never_negative(self):
        if self.negative:
            account_id, balance = self.negative[0]
            fail(
                f"account {account_id} went negative ({balance}): two transfers both passed "
                "the balance check before either moved the money; check the balance while "
                "holding both locks"
            )

    def check_ledger(self, outcomes):
        """Conservation, and each balance = initial + accepted in - accepted out."""
        self.history += outcomes
        expected = dict(self.initial)
        for (src, dst, amount), accepted in self.history:
            if accepted is True:
                expected[self.id_of(src)] -= amount
                expected[self.id_of(dst)] += amount
        if self.total != sum(self.initial.values()):
            fail(
                f"money was created or lost: the total went from {sum(self.initial.values())} "
                f"to {self.total} (a lost update: an account was changed without holding "
                "its lock)"
            )
        if self.balances != expected:
            fail(
                f"the balances {self.balances} do not match the transfers that returned True "
                f"(expected {expected}): a lost update, or a wrong return value"
            )


def distinct_ids(rng, n):
    return rng.sample(range(1, 1000), n)


def run_transfers(exercise, jobs_per_thread):
    """Each list of (src, dst, amount) runs in its own thread, all released together; returns
    the outcomes ((job, returned value), of the threads that raised nothing) and the errors."""
    lanes = [[partial(exercise.transfer, *job) for job in jobs] for jobs in jobs_per_thread]
    outcomes, errors = [], []
    for jobs, (results, error) in zip(jobs_per_thread, each_lane(lanes), strict=True):
        if error is not None:
            errors.append(error)
        else:
            outcomes += zip(jobs, results, strict=True)
    return outcomes, errors


def check_run(bank, obs, what, check_overlap=None):
    """The checks every concurrent run must pass, most telling first."""
    if obs.hung and bank.recorder.wait_cycle() is None and not bank.recorder.deadlocks:
        bank.recorder.abort()  # ends threads spinning on a try-lock too
        fail(
            f"{what} did not finish in time, and no transfer was waiting for a lock: "
            "transfers that retry a lock while still holding the other one spin forever "
            "(a livelock); to back off, release every lock before you retry"
        )
    check_hang(bank.recorder, obs.hung, what)
    check_lock_order(bank.recorder, what)
    outcomes, errors = returned(obs, what)
    if errors:
        err = errors[0]
        fail(f"a transfer raised {type(err).__name__}: {err}")
    if check_overlap:
        check_overlap()
    bad = [r for _, r in outcomes if r not in (True, False)]
    if bad:
        fail(f"transfer returned {bad[0]!r}: it must return True or False")
    bank.check_never_negative()
    bank.check_ledger(outcomes)
    bank.check_audits_locked()
    bank.check_released("after the transfers")
    return outcomes


# --- correctness ------------------------------------------------------------------------------


@pytest.mark.correctness
def test_moves_money_and_audits_under_both_locks(exercise, watch, race_seed, lock_recorder):
    """A transfer moves the money, returns True and audits both accounts under both locks"""
    rng = random.Random(race_seed)
    ids = distinct_ids(rng, 2)
    start = [rng.randrange(50, 100), rng.randrange(7, 50)]  # b can always send back 7
    bank = Bank(exercise, ids, start, locks=lock_recorder)
    a, b = bank.accounts
    for src, dst, amount in [(a, b, rng.randrange(1, 40)), (b, a, 7), (a, b, None)]:
        amount = src.balance if amount is None else amount  # the last one empties src exactly
        before, audits_before = bank.balances, len(bank.seen)
        got = returned(watch(exercise.transfer, src, dst, amount, timeout=5), "transfer")
        assert got is True, (
            f"transfer of {amount} from a balance of {before[bank.id_of(src)]} returned {got!r}"
        )
        expected = dict(before)
        expected[bank.id_of(src)] -= amount
        expected[bank.id_of(dst)] += amount
        assert bank.balances == expected, (
            f"after moving {amount}, balances are {bank.balances}, expected {expected}"
        )
        for account_id, balance in bank.seen[audits_before:]:
            if balance != expected[account_id]:
                fail(
                    f"the audit of account {account_id} saw a balance of {balance}, not the "
                    f"moved balance {expected[account_id]}: move the money first, then audit"
                )
        bank.check_released("after a transfer")
    audited = {account_id for account_id, _, _ in bank.audits}
    if audited != {bank.id_of(a), bank.id_of(b)}:
        fail("a transfer must call audit() on both accounts")
    bank.check_audits_locked()
    check_lock_order(bank.recorder, "transfer")


@pytest.mark.correctness
def test_a_transfer_between_accounts_as_given(exercise, watch):
    """A transfer between accounts as given (their own locks and audit) moves the money"""
    src, dst = exercise.Account(1, 100), exercise.Account(2, 5)
    moved = returned(watch(exercise.transfer, src, dst, 30), "transfer")
    assert moved is True, f"transfer(30) from a balance of 100 returned {moved!r}, not True"
    assert (src.balance, dst.balance) == (70, 35), (
        f"after moving 30, the balances are {src.balance} and {dst.balance}, not 70 and 35"
    )


@pytest.mark.correctness
def test_short_funds_are_refused(exercise, watch, race_seed, lock_recorder):
    """A transfer larger than the balance returns False and changes nothing"""
    rng = random.Random(race_seed)
    ids = distinct_ids(rng, 2)
    bank = Bank(exercise, ids, [rng.randrange(0, 30), rng.randrange(0, 30)], locks=lock_recorder)
    a, b = bank.accounts
    before = bank.balances
    amount = a.balance + rng.randrange(1, 20)
    got = returned(watch(exercise.transfer, a, b, amount, timeout=5), "transfer")
    had = before[bank.id_of(a)]
    assert got is False, (
        f"a transfer of {amount} from a balance of {had} returned {got!r}, not False"
    )
    assert bank.balances == before, f"a refused transfer changed the balances to {bank.balances}"
    bank.check_released("after a refused transfer")


@pytest.mark.correctness
def test_same_account_is_an_error(exercise, watch, race_seed, lock_recorder):
    """A transfer from an account to itself raises ValueError and changes nothing"""
    rng = random.Random(race_seed)
    bank = Bank(exercise, distinct_ids(rng, 1), [rng.randrange(10, 90)], locks=lock_recorder)
    (a,) = bank.accounts
    obs = watch(exercise.transfer, a, a, 5, timeout=5)
    check_hang(bank.recorder, obs.hung, "a transfer from an account to itself")
    error = raised(obs, "a transfer from an account to itself")
    if not isinstance(error, ValueError):
        fail(
            f"a transfer from an account to itself raised {type(error).__name__}: {error} "
            "instead of ValueError (check before taking any lock)"
        )
    assert bank.balances == bank.initial, "a transfer from an account to itself changed the balance"
    bank.check_released("after a transfer from an account to itself")


@pytest.mark.correctness
def test_opposite_directions_take_locks_in_one_order(exercise, watch, race_seed, lock_recorder):
    """Transfers in opposite directions take the two locks in the same order"""
    rng = random.Random(race_seed)
    bank = Bank(exercise, distinct_ids(rng, 3), [100, 100, 100], locks=lock_recorder)
    a, b, c = bank.accounts
    for src, dst in [(a, b), (b, a), (c, a), (b, c), (a, c), (c, b)]:
        returned(watch(exercise.transfer, src, dst, rng.randrange(1, 10), timeout=5), "transfer")
    check_lock_order(bank.recorder, "transfer")


@pytest.mark.correctness
def test_balance_is_checked_under_the_locks(exercise, watch, race_seed, lock_recorder):
    """Two transfers that together overdraw an account: exactly one goes through"""
    rng = random.Random(race_seed)
    ids = distinct_ids(rng, 3)
    bank = Bank(exercise, ids, [10, 0, 0], locks=lock_recorder)
    a, b, c = bank.accounts

    def two_transfers_while_a_is_locked():
        # Both transfers start while the test holds a's lock, so both are
        # blocked before they can move money; then the lock is let go.
        with a.lock:
            jobs = [[(a, b, 8)], [(a, c, 8)]]
            runner = threading.Thread(target=lambda: result.append(run_transfers(exercise, jobs)))
            runner.start()
            for _ in range(200):  # up to 1 s for both to reach a's lock
                if a.lock.attempts >= 3:  # the test's own acquire, then both transfers
                    break
                threading.Event().wait(0.005)
        runner.join()
        return result[0]

    result = []
    obs = watch(two_transfers_while_a_is_locked, timeout=8)
    outcomes = check_run(bank, obs, "two transfers from one account")
    accepted = sorted(r for _, r in outcomes)
    assert accepted == [False, True], (
        f"two transfers of 8 from a balance of 10 returned {accepted}: exactly one can succeed"
    )


# --- timing -----------------------------------------------------------------------------------

AUDIT = 0.05
PAIRS = 10


def disjoint_round(exercise, watch, race, rng, lock_recorder):
    """One round: 10 transfers between disjoint pairs at once; wall time ÷ sequential time."""
    ids = distinct_ids(rng, 2 * PAIRS)
    bank = Bank(
        exercise, ids, [rng.randrange(50, 100) for _ in ids], audit_delay=AUDIT, locks=lock_recorder
    )
    pairs = [bank.accounts[i : i + 2] for i in range(0, 2 * PAIRS, 2)]
    jobs = [[(s, d, rng.randrange(1, 40))] for s, d in (rng.sample(p, 2) for p in pairs)]
    with race():
        obs = watch(run_transfers, exercise, jobs, timeout=10)
    elapsed = obs.elapsed

    def check_overlap():
        if bank.service.peak_in_flight <= 1:
            fail(
                "transfers between disjoint pairs of accounts ran one at a time, serialised: "
                "use only the two accounts' own locks, never one lock for every account"
            )

    outcomes = check_run(bank, obs, "transfers between disjoint pairs", check_overlap)
    if not all(r is True for _, r in outcomes):
        fail("a transfer with enough funds returned False")
    # The opposite direction on every pair must take the locks in the same order.
    reverse = [[(d, s, 1)] for [(s, d, _)] in jobs]
    with race():
        obs = watch(run_transfers, exercise, reverse, timeout=10)
    check_run(bank, obs, "transfers in the opposite direction")
    return elapsed / (2 * PAIRS * AUDIT)  # two audits per transfer, one after another


@pytest.mark.timing
def test_disjoint_transfers_overlap(exercise, watch, race, race_seed, lock_recorder):
    """10 transfers between disjoint pairs overlap: at most 0.4 × the sequential time"""
    rng = random.Random(race_seed)
    verdict = median_verdict(
        lambda: disjoint_round(exercise, watch, race, rng, lock_recorder), lambda r: r <= 0.4
    )
    if not verdict.passed:
        RATIO.set(verdict.value)  # the ratio the failure states, for the class report
        fail(
            f"10 transfers between disjoint pairs took {verdict.value:.2f} × the sequential "
            "time (limit 0.4): they were serialised; use only the two accounts' own locks"
        )


# --- stress -----------------------------------------------------------------------------------


def random_jobs(rng, accounts, n_threads, per_thread):
    """Transfers over every ordered pair (each at least twice), shuffled among the threads."""
    pairs = [(s, d) for s in accounts for d in accounts if s is not d]
    jobs = [(s, d, rng.randrange(1, 16)) for s, d in pairs * 2]
    while len(jobs) < n_threads * per_thread:
        s, d = rng.sample(accounts, 2)
        jobs.append((s, d, rng.randrange(1, 16)))
    rng.shuffle(jobs)
    return [jobs[i::n_threads] for i in range(n_threads)]


@pytest.mark.stress
@pytest.mark.weight(2)
def test_amplified_random_transfers(exercise, watch, race, race_seed, lock_recorder):
    """Amplified random transfers both ways: no deadlock, money conserved, never negative"""
    rng = random.Random(race_seed)
    bank = Bank(
        exercise,
        distinct_ids(rng, 4),
        [rng.randrange(10, 30) for _ in range(4)],
        locks=lock_recorder,
    )
    jobs = random_jobs(rng, bank.accounts, n_threads=8, per_thread=16)
    with race():
        obs = watch(run_transfers, exercise, jobs, timeout=12)
    outcomes = check_run(bank, obs, "concurrent transfers")
    if not any(r for _, r in outcomes):
        fail("no transfer went through, although funds were available")


@pytest.mark.stress
def test_opposite_transfers_hammered(exercise, watch, race, race_seed, lock_recorder):
    """Many threads move money back and forth between two accounts: no deadlock"""
    rng = random.Random(race_seed)
    bank = Bank(exercise, distinct_ids(rng, 2), [40, 40], audit_delay=0.001, locks=lock_recorder)
    a, b = bank.accounts
    jobs = [
        [(a, b, rng.randrange(1, 12)) if (i + k) % 2 else (b, a, rng.randrange(1, 12))
         for k in range(12)]
        for i in range(6)
    ]  # fmt: skip
    with race():
        obs = watch(run_transfers, exercise, jobs, timeout=12)
    check_run(bank, obs, "transfers back and forth")
