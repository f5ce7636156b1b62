"""The judge's pytest fixtures: ``exercise`` is the student's module in a subject process.

``watch``, ``race``, ``keep``, ``live_threads``, ``thread_set``, ``pin_to_one_cpu``,
``lock_recorder``, ``cpu_meter`` and ``local`` replace the harness's own
(:mod:`grader.harness.plugin`) with the same call signatures
(:mod:`grader.grading.judge.observing`), so a hidden test reads the same in both.

Registered by :mod:`grader.grading.pytest_plugin` when the runner passes ``--grader-subject
RECIPE`` (an exercise the catalogue marks ``judged``): the hidden tests then run here, outside
the sandbox, and the student's module is loaded in a sandboxed subject
(:class:`~grader.grading.judge.subject.Subject`) that holds nothing of the tests. One subject
serves the whole file, with a fresh ``load`` per test, as the in-process fixture loads afresh
(it is started as the plugin registers, so its start-up overlaps pytest's collection);
after a test that left it hung, dead or still busy, the next test starts a new one.

The recipe (JSON, written by the runner): ``module`` (the module's copy), ``name``, ``wrap``
(the launcher command the subject's command follows, or null), ``env``, ``cwd``, ``python``.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from grader.amplifier import Stats
from grader.grading.judge.observing import (
    amplified,
    pinned_to_one_cpu,
    subject_children,
    subject_interpreter,
    subject_pid_inside,
    subject_threads,
    watched_call,
)
from grader.grading.judge.remote import RemoteObject
from grader.grading.judge.subject import Subject
from grader.grading.judge.verdicts import SubjectFailed, SubjectHung, SubjectNeverStarted
from grader.harness.descendants import Descendants
from grader.harness.observe import Observation
from grader.harness.probes import CpuMeter
from grader.wire.raised import SubjectRaised

_FAILED_LOADS = pytest.StashKey[dict]()


def load_failure(module_file: str, error: BaseException, import_timeout: float) -> str:
    """The plain-words reason a module could not be loaded, as the in-process loader says it."""
    if isinstance(error, SubjectHung):
        return (
            f"importing {module_file} did not finish within {import_timeout:g}s "
            "(an endless loop or a blocking call at module level?)"
        )
    if isinstance(error, SubjectRaised) and error.is_a(FileNotFoundError):
        return f"{module_file} is missing"
    if isinstance(error, SubjectRaised) and error.is_a(SyntaxError):
        return f"{module_file} has a syntax error on {error}"  # "line N: message", the subject's
    if isinstance(error, SubjectRaised):
        return f"importing {module_file} failed: {type(error).__name__}: {error}"
    return f"importing {module_file} failed: {error}"


class Subjects:
    """The file's subject process, started on first use and again after a failure."""

    def __init__(self, recipe: dict[str, Any], call_timeout: float, import_timeout: float):
        self.recipe, self.call_timeout, self.import_timeout = recipe, call_timeout, import_timeout
        self.current: Subject | None = None
        self._early: Future[Subject] | None = None

    def start_early(self) -> None:
        """Start the file's subject now, in the background, without loading the module: its
        start-up overlaps pytest's collection. The first test loads the module as any test
        does; a start that failed is started again there, as after any failure."""
        early: Future[Subject] = Future()

        def start() -> None:
            try:
                early.set_result(self._start(load=False))
            except BaseException as error:  # the first test starts one again
                early.set_exception(error)

        threading.Thread(target=start, name="judge-early-subject", daemon=True).start()
        self._early = early

    def _adopt_early(self) -> None:
        early, self._early = self._early, None
        if early is not None:
            try:
                self.current = early.result()
            except BaseException:
                self.current = None

    def _start(self, load: bool = True) -> Subject:
        recipe = self.recipe
        prefix = recipe.get("wrap")
        return Subject.start(
            Path(recipe["module"]) if load else None,
            name=recipe["name"],
            python=recipe["python"],
            env=recipe["env"],
            cwd=Path(recipe["cwd"]),
            wrap=(lambda command: [*prefix, *command]) if prefix else None,
            call_timeout=self.import_timeout,
        )

    def module(self) -> RemoteObject:
        """A freshly loaded module (a new subject if there is none or it cannot serve)."""
        self._adopt_early()
        subject = self.current
        if subject is None or subject.connection.failure is not None:
            self.close()
            subject = self.current = self._start()  # loads the module
        else:
            subject.call_timeout = self.import_timeout
            subject.load(self.recipe["module"], self.recipe["name"])
        subject.call_timeout = self.call_timeout
        return subject.module

    def control(self) -> Subject:
        """A subject started the same way that loads no student code (to blame a fault)."""
        return self._start(load=False)

    def after_test(self) -> None:
        """A subject still running a call of the test ends with it (its threads may spin on)."""
        subject = self.current
        if subject is not None and (subject.connection.failure or subject.connection.busy):
            self.close()

    def close(self) -> None:
        self._adopt_early()
        if self.current is not None:
            with contextlib.suppress(Exception, SubjectFailed):
                self.current.close()
            self.current = None


class JudgeFixtures:
    """The plugin object registered for a judged run; its ``exercise`` replaces the harness's."""

    def __init__(self, recipe_path: str, test_timeout: float) -> None:
        recipe = json.loads(Path(recipe_path).read_text())
        # The watchdog fires first (as in-process), then a request is declared hung.
        self.watch_timeout = max(1.0, test_timeout * 0.8)
        import_timeout = max(1.0, min(10.0, test_timeout / 3))
        self.subjects = Subjects(recipe, max(1.0, test_timeout * 0.9), import_timeout)
        self.subjects.start_early()
        self.module_file = Path(recipe["module"]).name

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.subjects.close()

    @pytest.fixture
    def exercise(self, request: pytest.FixtureRequest) -> Iterator[RemoteObject]:
        """The exercise module, loaded afresh in the subject for this test."""
        failures = request.config.stash.setdefault(_FAILED_LOADS, {})
        if "load" in failures:
            pytest.fail(failures["load"], pytrace=False)
        try:
            module = self._module()
        except (SubjectRaised, SubjectFailed) as error:
            if isinstance(error, SubjectNeverStarted):
                raise  # a grader fault (after one retry): never the student's failure
            self.subjects.close()
            failures["load"] = load_failure(self.module_file, error, self.subjects.import_timeout)
            pytest.fail(failures["load"], pytrace=False)
        try:
            yield module
        finally:
            self.subjects.after_test()

    def _module(self) -> RemoteObject:
        try:
            return self.subjects.module()
        except SubjectNeverStarted:
            self.subjects.close()
            return self.subjects.module()  # once more: a loaded machine may stall a start

    def _subject(self) -> Subject:
        """The subject the ``exercise`` fixture (which every other one requests) started."""
        subject = self.subjects.current
        assert subject is not None, "the judge's fixtures need the exercise fixture first"
        return subject

    @pytest.fixture
    def watch(self, exercise: RemoteObject) -> Callable[..., Observation]:
        """``watch(fn, *args)``: ``fn`` runs here, the module's hygiene is checked there."""
        subject = self._subject()
        return partial(watched_call, subject, timeout=self.watch_timeout)

    @pytest.fixture
    def race(
        self, exercise: RemoteObject, race_seed: int
    ) -> Callable[..., contextlib.AbstractContextManager[Stats]]:
        """``with race(probability=p):`` amplifies races in the module, in the subject."""
        subject = self._subject()

        def activate(
            probability: float = 1.0, delay: float = 0.001, also_before: tuple[str, ...] = ()
        ) -> contextlib.AbstractContextManager[Stats]:
            options = {"seed": race_seed, "probability": probability, "delay": delay,
                       "also_before": list(also_before)}  # fmt: skip
            return amplified(subject, options, self.subjects.control)

        return activate

    @pytest.fixture
    def keep(self, exercise: RemoteObject) -> Callable[[RemoteObject], Callable[..., Any]]:
        """``keep(exercise.fn)(*args)``: the value stays in the subject, as the very object."""
        subject = self._subject()
        return lambda function: partial(subject.call_kept, function)

    @pytest.fixture
    def live_threads(self, exercise: RemoteObject) -> Callable[[], int]:
        """``live_threads()``: the threads of the student's process now (read from /proc)."""
        subject = self._subject()
        return partial(subject_threads, subject)

    @pytest.fixture
    def thread_set(self, exercise: RemoteObject) -> Callable[[], frozenset[object]]:
        """``thread_set()``: the student's threads now, as the subject lists them (each a
        ``StudentThread``, what ``caller()`` gives for a call from it)."""
        return self._subject().threads

    @pytest.fixture
    def pin_to_one_cpu(
        self, exercise: RemoteObject
    ) -> Callable[[], contextlib.AbstractContextManager[int]]:
        """``with pin_to_one_cpu():`` every thread of the subject runs on one CPU."""
        subject = self._subject()
        return partial(pinned_to_one_cpu, subject)

    @pytest.fixture
    def lock_recorder(self, exercise: RemoteObject) -> Callable[..., RemoteObject]:
        """``lock_recorder(**options)``: a ``LockOrderRecorder`` made in the subject."""
        subject = self._subject()

        def make(**options: Any) -> RemoteObject:
            spec = {**options, "type": "recorder"}  # the recorder's own defaults apply there
            return subject.request("local", "making a lock recorder", spec=spec)

        return make

    @pytest.fixture
    def cpu_meter(self, exercise: RemoteObject) -> CpuMeter:
        """The CPU clocks of the subject's threads, read from ``/proc`` by the judge."""
        pid = subject_interpreter(self._subject())
        return CpuMeter(pid if pid is not None else "0")  # "0": no such process, no thread

    def _local(self, spec: dict[str, Any], what: str) -> RemoteObject:
        subject = self._subject()
        return subject.request("local", what, spec=subject.connection.outbound(spec))

    @pytest.fixture
    def local(self, exercise: RemoteObject) -> Callable[[dict[str, Any]], RemoteObject]:
        """``local(spec)``: a stand-in made in the subject (``grader.subject.local``)."""
        return partial(self._local, what="making a local stand-in")

    @pytest.fixture
    def module_pid(self, exercise: RemoteObject) -> int:
        """The pid of the subject's interpreter, as it sees itself (read from ``/proc``)."""
        pid = subject_pid_inside(self._subject())
        return -1 if pid is None else pid

    @pytest.fixture
    def child_processes(self, exercise: RemoteObject) -> Callable[[], set[int]]:
        """``child_processes()``: the subject's live child processes now (from ``/proc``)."""
        return partial(subject_children, self._subject())

    @pytest.fixture
    def descendants(self, exercise: RemoteObject) -> Callable[[], Descendants]:
        """``with descendants() as seen:`` the subject's new processes, sampled from ``/proc``."""
        pid = subject_interpreter(self._subject())
        return lambda: Descendants(pid if pid is not None else "0", every=0.005)
