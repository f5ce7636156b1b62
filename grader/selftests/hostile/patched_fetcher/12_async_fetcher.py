"""Hostile: neutralise the hidden tests' checks, then fetch nothing at all.

In-process, the hidden test module sits in ``sys.modules`` while student code runs: replacing
its ``check_*`` helpers and ``fail`` with no-ops passes 9 of the 14 tests with an empty
report (run in-process). In the judge's split the event loop and this module
run in the subject, the checks in the judge: every url is missing from the report.
"""

import sys
from dataclasses import dataclass, field


@dataclass
class FetchReport:
    results: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    timed_out: list = field(default_factory=list)
    slowest: tuple | None = None


def _neutralise():
    for module in list(sys.modules.values()):
        names = getattr(module, "__dict__", {})
        if "check_partition" in names:
            for name in list(names):
                if name.startswith("check_") or name == "fail":
                    setattr(module, name, lambda *args, **kwargs: None)


async def fetch_report(urls, fetch, *, limit, timeout):
    _neutralise()
    return FetchReport()
