"""The harness's ``watch``, ``race`` and pinning for a module in a subject (issue 14, step 4).

What only the student's interpreter knows (threads left running, exceptions lost in threads,
stderr, a hung call's stacks, the race amplifier) comes from the subject; the judge decides
what a failed canary means with a control process. Hostile modules are written to tmp_path.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from grader.amplifier import AmplifierInactive
from grader.grading.judge import observing
from grader.grading.judge.observing import amplified, pinned_to_one_cpu, watched_call
from grader.grading.judge.subject import Subject
from grader.grading.judge.verdicts import SubjectDied


def _module(tmp_path: Path, source: str, name: str = "submission.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


UNTIDY = """
    import sys, threading, time, warnings

    def untidy(fetch):
        threading.Thread(target=time.sleep, args=(5,), name="left-behind", daemon=True).start()
        threading.Thread(target=lambda: 1 / 0, name="doomed").start()
        print("oops", file=sys.stderr)
        warnings.warn("careful")
        return fetch("x")

    def tidy(fetch):
        done = threading.Thread(target=fetch, args=("y",))
        done.start()
        done.join()
        return "fine"

    def stuck():
        while True:
            time.sleep(0.01)

    def ends_the_process():
        import os
        os._exit(3)
"""


def test_the_subject_reports_threads_left_exceptions_lost_stderr_and_warnings(tmp_path):
    with Subject.start(_module(tmp_path, UNTIDY), name="untidy") as subject:
        module = subject.module
        obs = watched_call(subject, lambda: module.untidy(lambda url: f"page {url}"), timeout=10)
        assert obs.value == "page x" and obs.error is None
        assert obs.leftover_threads == ["daemon thread 'left-behind'"]
        assert len(obs.thread_exceptions) == 1 and "ZeroDivisionError" in obs.thread_exceptions[0]
        assert obs.stderr.strip() == "oops" and obs.warnings == ["UserWarning: careful"]
        clean = watched_call(subject, lambda: module.tidy(lambda url: None), timeout=10)
        assert clean.value == "fine" and not clean.leftover_threads and not clean.stderr
        assert not clean.thread_exceptions  # the runtime's own threads are never reported


def test_a_hung_call_shows_the_students_frames_only(tmp_path):
    with Subject.start(_module(tmp_path, UNTIDY), name="stuck") as subject:
        obs = watched_call(subject, subject.module.stuck, timeout=1.0)
        assert obs.hung and "in stuck" in obs.stacks and "submission.py" in obs.stacks
        assert "runtime.py" not in obs.stacks and "grader-call" not in obs.stacks
        assert "--- thread (the grader's call) ---" in obs.stacks


def test_a_subject_that_dies_in_a_watched_call_fails_with_the_judges_verdict(tmp_path):
    with (
        Subject.start(_module(tmp_path, UNTIDY), name="dies") as subject,
        pytest.raises(SubjectDied, match=r"exited/crashed \(exit status 3\)"),
    ):
        watched_call(subject, subject.module.ends_the_process, timeout=10)


RACY = """
    import threading

    class Counter:
        def __init__(self):
            self.n = 0

    def count(threads, each):
        counter = Counter()
        def work():
            for _ in range(each):
                counter.n += 1
        started = [threading.Thread(target=work) for _ in range(threads)]
        for t in started:
            t.start()
        for t in started:
            t.join()
        return counter.n
"""


def test_the_amplifier_runs_in_the_subject_and_exposes_a_lost_update(tmp_path):
    with Subject.start(_module(tmp_path, RACY), name="racy") as subject:
        options = {"seed": 7, "probability": 1.0, "delay": 0.001, "also_before": []}
        with amplified(subject, options, control=lambda: pytest.fail("no control needed")) as st:
            total = subject.module.count(4, 20)
        assert total < 80 and st.switches_forced > 0 and st.canary_lost_updates == 1
        assert subject.module.count(4, 20) == 80  # off again: nothing amplified


BREAKS_AMPLIFIER = """
    import sys
    if hasattr(sys, "monitoring"):
        for tool in range(6):
            try:
                sys.monitoring.use_tool_id(tool, "mine")
            except ValueError:
                pass
    else:
        import threading
        sys.settrace = lambda *args: None
        threading.settrace = lambda *args: None

    def count():
        return 0
"""


@pytest.mark.parametrize(
    ("control_loads_it", "raises", "says"),
    [
        # The control subject (no student code) catches its canary: the student's fault.
        (False, AssertionError, "could not run beside your module"),
        # The control cannot amplify either (here: it loads the breaking module too): the
        # machine's fault.
        (True, AmplifierInactive, "without student code"),
    ],
)
def test_who_broke_the_amplifier_is_decided_by_a_control_subject(
    tmp_path, control_loads_it, raises, says
):
    path = _module(tmp_path, BREAKS_AMPLIFIER)
    control = path if control_loads_it else None
    with Subject.start(path, name="breaks") as subject:
        options = {"seed": 1, "probability": 1.0, "delay": 0.001, "also_before": []}
        with (
            pytest.raises(raises, match=says),
            amplified(subject, options, control=lambda: Subject.start(control, name="control")),
        ):
            pass


PINNED = """
    import os, threading

    def cpus_seen():
        seen = []
        t = threading.Thread(target=lambda: seen.append(sorted(os.sched_getaffinity(0))))
        t.start()
        t.join()
        return [sorted(os.sched_getaffinity(0)), seen[0]]
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_pinning_reaches_every_thread_of_the_subject_and_is_undone(tmp_path):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: pinning changes nothing to see")
    with Subject.start(_module(tmp_path, PINNED), name="pinned") as subject:
        with pinned_to_one_cpu(subject) as cpu:
            inside = subject.module.cpus_seen()
        after = subject.module.cpus_seen()
        assert inside == [[cpu], [cpu]]  # the serving thread, and a thread it started
        assert after[0] == sorted(os.sched_getaffinity(0))
        assert observing.subject_tasks(subject.child.pid)


THREADS = """
    import threading

    stop = threading.Event()

    def start(n):
        for _ in range(n):
            threading.Thread(target=stop.wait, daemon=True).start()

    def finish():
        stop.set()
"""


def test_the_judge_counts_the_subjects_threads_from_proc(tmp_path):
    with Subject.start(_module(tmp_path, THREADS), name="threads") as subject:
        before = observing.subject_threads(subject)
        subject.module.start(3)
        # (+1 at most: a request may find its serving thread not yet back among the idle)
        assert before + 3 <= observing.subject_threads(subject) <= before + 4
        subject.module.finish()


CHILDREN = """
    import os, subprocess, sys, threading, time

    def me():
        return os.getpid()

    def native():
        return threading.get_native_id()

    def spin(seconds):
        end = time.thread_time() + seconds
        while time.thread_time() < end:
            pass

    _kept = []

    def start_child():
        _kept.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]))
        return _kept[-1].pid

    def end_child():
        for child in _kept:
            child.kill()
            child.wait()
"""


def test_the_judge_reads_the_subjects_pid_children_and_threads_from_proc(tmp_path):
    from grader.harness.descendants import Descendants
    from grader.harness.probes import CpuMeter

    with Subject.start(_module(tmp_path, CHILDREN), name="children") as subject:
        assert observing.subject_pid_inside(subject) == subject.module.me()
        before = observing.subject_children(subject)
        with Descendants(observing.subject_interpreter(subject), every=0.002) as seen:
            inside = subject.module.start_child()
        assert inside in seen.pids
        started = observing.subject_children(subject) - before
        assert len(started) == 1
        subject.module.end_child()
        assert observing.subject_children(subject) == before
        meter = CpuMeter(observing.subject_interpreter(subject))
        assert meter.thread(os.getpid()) is None  # the judge's own thread is not the subject's
        assert meter.process() >= 0
