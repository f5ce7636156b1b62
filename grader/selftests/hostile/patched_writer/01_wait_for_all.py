"""Hostile: patch the grader's result writer and its checks so every test 'passes'."""

import grader.grading.pytest_plugin as plugin
import grader.harness.checks as checks
import grader.records as records

_result = records.RecordWriter.result


def always_passed(self, nodeid, outcome, diagnosis, duration):
    _result(self, nodeid, "passed", "", duration)


records.RecordWriter.result = always_passed
checks.fail = lambda *args, **kwargs: None
plugin.diagnose = lambda exc, limit=300: ""


def fetch_all(urls, fetch):
    return None
