"""Race amplifier: the Python answer to ``go test -race``.

Under the GIL, ``x += 1`` in several threads almost never loses an update, so a
racy solution usually passes by luck. The amplifier forces a thread switch in
the middle of every read-modify-write in *student* code: it sleeps briefly just
before each store to shared state (``STORE_ATTR``, ``STORE_SUBSCR``,
``STORE_GLOBAL``, ``STORE_DEREF``). Other threads then run between the read and
the write, and an unsynchronised update is lost. Code that holds a lock across
the read and the write is only slowed down, never flagged.

Two mechanisms, one per interpreter family (never both in one process, see
FIELD-NOTES: on 3.13 settrace opcode events can stop firing once
``sys.monitoring`` touched a code object):

* 3.12+: ``sys.monitoring`` INSTRUCTION events, set locally on the student's
  code objects only. Non-store offsets return ``DISABLE`` and cost nothing
  afterwards.
* 3.11: ``sys.settrace`` with per-frame opcode events on student frames only.

Every activation first runs a *canary*, a known-racy snippet that must lose an
update. If it does not, :class:`AmplifierInactive` is raised: that is a grader
fault, never a student's failure.
"""

from __future__ import annotations

import dis
import random
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import CodeType

CANARY_DELAY = 0.02  # seconds: the canary's pause before its store
CANARY_TIMEOUT = 10.0  # seconds: the canary's threads never wait longer than this
STORE_OPS = frozenset({"STORE_ATTR", "STORE_SUBSCR", "STORE_GLOBAL", "STORE_DEREF"})
MECHANISM = "sys.monitoring" if sys.version_info >= (3, 12) else "settrace"

# Taken at import, before any student code runs, so a submission that patches
# ``time.sleep`` or ``random`` cannot switch the amplifier off.
_sleep = time.sleep
_Random = random.Random


class AmplifierInactive(RuntimeError):
    """The canary was not caught: the amplifier is not working in this process."""


def code_objects(root: CodeType) -> Iterator[CodeType]:
    """Yield ``root`` and every code object nested in its constants."""
    yield root
    for const in root.co_consts:
        if isinstance(const, CodeType):
            yield from code_objects(const)


def store_offsets(code: CodeType, ops: frozenset[str] = STORE_OPS) -> frozenset[int]:
    """Bytecode offsets of the instructions in ``ops`` in ``code`` (not nested)."""
    return frozenset(i.offset for i in dis.get_instructions(code) if i.opname in ops)


@dataclass
class Stats:
    """What one activation did: handy in failure messages and the benchmark."""

    seed: int
    mechanism: str = MECHANISM
    stores_seen: int = 0
    switches_forced: int = 0
    canary_lost_updates: int = 0


@dataclass
class _Plan:
    """Where and how long to pause; shared by both mechanisms."""

    # Keyed by id(): code objects compare equal across files when their
    # contents match, and only the student's own objects may be amplified.
    offsets: dict[int, frozenset[int]]
    codes: list[CodeType]  # keeps the ids above valid
    delay: float
    probability: float
    seed: int
    stats: Stats = field(init=False)
    _local: threading.local = field(default_factory=threading.local, init=False)

    def __post_init__(self) -> None:
        self.stats = Stats(seed=self.seed)

    def _rng(self) -> random.Random:
        rng = getattr(self._local, "rng", None)
        if rng is None:
            # One stream per thread, derived from the run's seed and the order
            # in which threads first reach a store: replayable for a given seed.
            with _plan_lock:
                index = self.stats.stores_seen
            rng = self._local.rng = _Random(f"{self.seed}:{index}")
        return rng

    def pause_before_store(self) -> None:  # also before any ``also_before`` opcode
        self.stats.stores_seen += 1
        if self.probability >= 1.0 or self._rng().random() < self.probability:
            self.stats.switches_forced += 1
            _sleep(self.delay * (0.5 + self._rng().random()))


_plan_lock = threading.Lock()
_active_lock = threading.Lock()  # one activation per process at a time


class _Monitoring:
    """3.12+: sys.monitoring INSTRUCTION events on the target code objects only."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.tool = self._free_tool_id()

    @staticmethod
    def _free_tool_id() -> int:
        mon = sys.monitoring
        for tool in (4, 3, 5, 2, 1, 0):
            if mon.get_tool(tool) is None:
                return tool
        raise AmplifierInactive("no free sys.monitoring tool id")

    def _on_instruction(self, code: CodeType, offset: int) -> object:
        if offset in self.plan.offsets.get(id(code), ()):
            self.plan.pause_before_store()
            return None
        return sys.monitoring.DISABLE

    def start(self) -> None:
        mon = sys.monitoring
        mon.use_tool_id(self.tool, "race-amplifier")
        mon.register_callback(self.tool, mon.events.INSTRUCTION, self._on_instruction)
        for code in self.plan.codes:
            if self.plan.offsets[id(code)]:
                mon.set_local_events(self.tool, code, mon.events.INSTRUCTION)

    def stop(self) -> None:
        mon = sys.monitoring
        for code in self.plan.codes:
            mon.set_local_events(self.tool, code, 0)
        mon.register_callback(self.tool, mon.events.INSTRUCTION, None)
        mon.free_tool_id(self.tool)


class _Settrace:
    """3.11: opcode-level settrace, installed in this thread and new threads."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self._previous = None

    def _global(self, frame, event, arg):
        offsets = self.plan.offsets.get(id(frame.f_code))
        if not offsets:
            return None
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False

        def local(frame, event, arg):
            if event == "opcode" and frame.f_lasti in offsets:
                self.plan.pause_before_store()
            return local

        return local

    def start(self) -> None:
        self._previous = sys.gettrace()
        threading.settrace(self._global)
        sys.settrace(self._global)

    def stop(self) -> None:
        threading.settrace(None)  # type: ignore[arg-type]
        sys.settrace(self._previous)


_CANARY_SOURCE = """
class Box:
    def __init__(self):
        self.n = 0

def bump(box, barrier):
    try:
        barrier.wait()
    except Exception:  # broken: the other thread could not start
        return
    box.n += 1
"""


def _canary_codes() -> tuple[dict, list[CodeType]]:
    code = compile(_CANARY_SOURCE, "<race-amplifier-canary>", "exec")
    namespace: dict = {}
    exec(code, namespace)
    return namespace, list(code_objects(code))


def _canary_loses_update(namespace: dict) -> bool:
    box = namespace["Box"]()
    barrier = threading.Barrier(2, timeout=CANARY_TIMEOUT)
    threads = [
        threading.Thread(target=namespace["bump"], args=(box, barrier), daemon=True)
        for _ in range(2)
    ]
    try:
        for t in threads:
            t.start()
    except RuntimeError:
        # Out of threads (a thread bomb in the submission): the started one must
        # not wait at the barrier forever, or the process could never exit.
        barrier.abort()
        raise
    finally:
        for t in threads:
            if t.ident is not None:
                t.join(CANARY_TIMEOUT)
    return box.n < 2


def _targets(codes: Iterable[CodeType], ops: frozenset[str]) -> dict[int, frozenset[int]]:
    return {id(c): store_offsets(c, ops) for c in codes}


@contextmanager
def amplify(
    codes: Iterable[CodeType],
    *,
    seed: int | None = None,
    delay: float = 0.001,
    probability: float = 1.0,
    also_before: Iterable[str] = (),
    canary_attempts: int = 5,
) -> Iterator[Stats]:
    """Amplify races in ``codes`` (code objects, e.g. from :func:`code_objects`).

    ``delay`` is the mean pause before a store; ``probability`` the chance that
    a given store pauses (use < 1 for long stress loops). ``also_before`` adds
    opcodes to pause before, e.g. ``{"LOAD_DEREF"}`` to expose closures that
    read a loop variable late (late binding). ``seed`` makes the pause pattern
    replayable; a random one is chosen and recorded otherwise. Raises
    :class:`AmplifierInactive` if the canary is not caught.
    """
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    namespace, canary = _canary_codes()
    codes = list(codes)
    targets = _targets(codes, STORE_OPS | frozenset(also_before))
    targets.update(_targets(canary, STORE_OPS))
    all_codes = [*codes, *canary]
    plan = _Plan(targets, all_codes, delay=delay, probability=probability, seed=seed)
    engine = _Monitoring(plan) if MECHANISM == "sys.monitoring" else _Settrace(plan)
    if not _active_lock.acquire(blocking=False):
        raise RuntimeError("the race amplifier is already active in this process")
    try:
        engine.start()
        try:
            _check_canary(plan, namespace, canary_attempts)
            yield plan.stats
        finally:
            engine.stop()
    finally:
        _active_lock.release()


def _check_canary(plan: _Plan, namespace: dict, attempts: int) -> None:
    saved = plan.probability, plan.delay
    # The canary always pauses, whatever the test asked, and long enough that the
    # other thread gets scheduled inside the window even on a heavily loaded
    # machine: it proves the mechanism fires, it is not a measure of rates.
    plan.probability, plan.delay = 1.0, max(plan.delay, CANARY_DELAY)
    try:
        for _ in range(attempts):
            if _canary_loses_update(namespace):
                plan.stats.canary_lost_updates += 1
                return
    finally:
        plan.probability, plan.delay = saved
    raise AmplifierInactive(
        f"race amplifier ({plan.stats.mechanism}) did not catch its canary in "
        f"{attempts} attempts: results under it cannot be trusted (grader fault)"
    )
