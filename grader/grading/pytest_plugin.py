"""The grading run's pytest plugin: signed records out of a hidden-test child.

Loaded with ``-p grader.grading.pytest_plugin`` next to the harness plugin
(:mod:`grader.harness.plugin`, which gives the fixtures), by the command line of
:func:`grader.grading.command.hidden_test_command`. Never auto-loaded: a
student's own pytest run has no use for it.

Options:
  --grader-results F  stream one JSON record per test to F (see :mod:`grader.records`)
  --grader-key-fd N   read the key that signs the records from this pipe
  --grader-subject F  the tests stay here, in the judge; the module loads in a subject
                      process started from the recipe F (:mod:`grader.grading.judge.fixtures`)

Once the hidden tests are imported it writes the plan and takes the tamper baseline;
each test's result is written after its teardown, once the grader is checked intact.
Without ``--grader-subject`` the harness loads the module in this process (a developer's
``--impl`` run, or the coverage of the solutions): never so for a grade.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import pytest

from grader import catalogue as catalogue_mod
from grader.amplifier import MECHANISM
from grader.harness import checks, tamper
from grader.harness.diagnosis import diagnose, is_grader_fault
from grader.harness.plugin import failure_of, info_of
from grader.machine import usable_cpus
from grader.records import RecordWriter, read_key

_WRITER = pytest.StashKey["RecordWriter | None"]()
_SIGNED = pytest.StashKey[bool]()
_BASELINE = pytest.StashKey["tamper.Snapshot"]()
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency-pack-grading")
    group.addoption("--grader-results", default=None, help="JSON-lines file for the grader")
    group.addoption(
        "--grader-key-fd", type=int, default=None, help="pipe with the key that signs records"
    )
    group.addoption(
        "--grader-subject", default=None, help="JSON recipe: load the module in a subject process"
    )


def pytest_configure(config: pytest.Config) -> None:
    results = config.getoption("grader_results")
    key_fd = config.getoption("grader_key_fd")
    key = read_key(key_fd) if key_fd is not None else None
    config.stash[_WRITER] = RecordWriter(results, key=key) if results else None
    config.stash[_SIGNED] = key is not None
    del key
    recipe = config.getoption("grader_subject")
    if recipe:
        from grader.grading.judge.fixtures import JudgeFixtures

        fixtures = JudgeFixtures(recipe, float(config.option.timeout or 30))
        config.pluginmanager.register(fixtures, "grader-judge")


def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    writer = config.stash[_WRITER]
    if writer:
        writer.meta(
            seed=config.getoption("race_seed"),
            python=sys.version.split()[0],
            cpus=usable_cpus(),
            mechanism=MECHANISM,
        )
        writer.plan([info_of(item) for item in session.items])
    # The hidden tests are imported and the plan is written: take the baseline that
    # detects patches to the grader.
    if config.stash.get(_SIGNED, False):
        config.stash[_BASELINE] = tamper.snapshot()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    writer = item.config.stash[_WRITER]
    if writer:
        writer.start(item.nodeid)


# tryfirst: the outermost wrapper, so it sees the report once the harness has judged it
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    writer = item.config.stash[_WRITER]
    if not writer or writer.done(item.nodeid):
        return report
    if report.when == "call":
        item.stash[_CALL_REPORT] = report  # written after teardown, once checked
    elif report.when == "teardown" and _CALL_REPORT in item.stash:
        _write_outcome(writer, item, item.stash[_CALL_REPORT])
    elif report.failed or report.skipped:  # setup failed or skipped: the call never ran
        _write_outcome(writer, item, report)
    return report


# Taken at import, before student code: what the tamper check itself relies on.
_changes = tamper.changes
_changes_code = tamper.changes.__code__
_os_write, _os_exit = os.write, os._exit


def _exit_if_tampered(baseline: tamper.Snapshot) -> None:
    """Patched grader: write no result at all (the writer may be patched too) and exit."""
    intact = _changes.__code__ is _changes_code
    changed = _changes(baseline) if intact else ["grader.harness.tamper.changes"]
    if changed:
        line = f"\n{tamper.STDERR_PREFIX}{', '.join(changed)}\n"
        with contextlib.suppress(OSError):
            _os_write(2, line.encode())
        _os_exit(tamper.EXIT_STATUS)


def _write_outcome(writer: RecordWriter, item: pytest.Item, report: pytest.TestReport) -> None:
    if writer.done(item.nodeid):
        return  # setup failed or skipped already told; teardown adds nothing
    exc = failure_of(item)
    limit = catalogue_mod.load().output_limit
    baseline = item.config.stash.get(_BASELINE, None)
    if baseline is not None:
        _exit_if_tampered(baseline)
    ratio = checks.RATIO.get()
    if report.passed:
        # Passing tests may still tell something (e.g. a measured speedup).
        notes = "; ".join(str(v) for k, v in item.user_properties if k == "feedback")
        writer.result(item.nodeid, "passed", notes, report.duration, ratio)
    elif report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        writer.result(
            item.nodeid, "ungradable", reason.removeprefix("Skipped: "), report.duration, ratio
        )
    elif exc is not None and (is_grader_fault(exc) or _never_started(item.config, exc)):
        writer.result(item.nodeid, "error", diagnose(exc, limit), report.duration, ratio)
    else:
        text = diagnose(exc, limit) if exc is not None else "failed"
        writer.result(item.nodeid, "failed", text, report.duration, ratio)


def _never_started(config: pytest.Config, exc: BaseException) -> bool:
    """A judged run whose subject could not start: the machine's fault (no student code
    ran in this process, so no student class can pass for this one)."""
    if not config.getoption("grader_subject"):
        return False
    from grader.grading.judge.verdicts import SubjectNeverStarted

    return isinstance(exc, SubjectNeverStarted)


def pytest_sessionfinish(session: pytest.Session) -> None:
    writer = session.config.stash.get(_WRITER, None)
    if writer:
        writer.end()


# tryfirst: closed before the harness may end a process that has hung threads
@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    writer = config.stash.get(_WRITER, None)
    if writer:
        writer.close()
