"""Visible tests for exercise 10, pipeline. The grade adds hidden tests."""

import itertools
import threading
import time

from grader.harness.checks import check_no_leftovers, check_quiet, returned


def slow(seconds, fn=lambda x: x):
    """A stage that takes ``seconds`` and then applies ``fn``."""

    def stage(x):
        time.sleep(seconds)
        return fn(x)

    return stage


def test_items_go_through_every_stage_in_order(exercise, watch):
    got = []
    stages = [slow(0.005, lambda x: x + 1), slow(0.001, lambda x: x * 10)]
    obs = watch(exercise.run_pipeline, range(10), stages, got.append, timeout=5)
    count = returned(obs, "run_pipeline")
    assert got == [(x + 1) * 10 for x in range(10)], f"the sink got {got}"
    assert count == 10, f"run_pipeline should return 10 (items delivered), got {count!r}"
    check_no_leftovers(obs, "run_pipeline")


def test_an_empty_source_returns_zero(exercise, watch):
    got = []
    obs = watch(exercise.run_pipeline, [], [slow(0.01)], got.append, timeout=5)
    assert returned(obs, "run_pipeline") == 0, "an empty source should deliver 0 items"
    assert got == [], f"the sink got {got} from an empty source"


def test_none_is_a_normal_item(exercise, watch):
    got = []
    items = [None, 1, None, 2]
    obs = watch(exercise.run_pipeline, items, [slow(0.001)], got.append, maxsize=1, timeout=5)
    returned(obs, "run_pipeline")
    assert got == items, f"the sink got {got} instead of {items}: is None your end marker?"


def test_stages_work_at_the_same_time(exercise, watch):
    busy = set()
    lock = threading.Lock()
    peak = [0]

    def stage(name):
        def run(x):
            with lock:
                busy.add(name)
                peak[0] = max(peak[0], len(busy))
            time.sleep(0.02)
            with lock:
                busy.discard(name)
            return x

        return run

    obs = watch(exercise.run_pipeline, range(10), [stage("a"), stage("b"), stage("c")],
                lambda x: None, timeout=5)  # fmt: skip
    returned(obs, "run_pipeline")
    assert peak[0] == 3, (
        f"at most {peak[0]} stage(s) were busy at once; expected all 3 working at the same time"
    )


def test_maxsize_below_one_raises_value_error(exercise, watch):
    obs = watch(exercise.run_pipeline, [1, 2], [], lambda x: None, maxsize=0, timeout=5)
    assert isinstance(obs.error, ValueError), f"expected ValueError, got {obs.error or obs.value!r}"


def test_an_error_stops_an_endless_pipeline(exercise, watch):
    boom = RuntimeError("the sink is full")
    delivered = []

    def sink(x):
        if len(delivered) == 5:
            raise boom
        delivered.append(x)

    stages = [slow(0.002), slow(0.002)]
    obs = watch(exercise.run_pipeline, itertools.count(), stages, sink, maxsize=1, timeout=5)
    assert obs.error is boom, f"expected the sink's exception, got {obs.error or obs.value!r}"
    assert obs.elapsed < 1.5, f"run_pipeline took {obs.elapsed:.2f} s to stop after the error"
    check_no_leftovers(obs, "run_pipeline")
    check_quiet(obs, "run_pipeline")


def test_an_error_stops_the_reading(exercise, watch):
    boom = ValueError("stage 0 cannot handle item 3")
    read = []

    def source():
        for i in range(100):
            read.append(i)
            yield i

    def stage(x):
        time.sleep(0.01)
        if x == 3:
            raise boom
        return x

    obs = watch(exercise.run_pipeline, source(), [stage], lambda x: None, maxsize=1, timeout=5)
    assert obs.error is boom, f"expected the stage's exception, got {obs.error or obs.value!r}"
    assert len(read) < 10, (
        f"the source was read {len(read)} times although stage 0 failed on item 3: after an "
        "error, the source is asked for at most one more item"
    )
    check_no_leftovers(obs, "run_pipeline")
