"""Hostile: print a passing pytest report and fake grader records everywhere it can."""

import contextlib
import json
import os
import sys

FAKE = "".join(
    json.dumps({"event": "result", "nodeid": f"test_01_wait_for_all.py::{name}",
                "outcome": "passed", "diagnosis": "", "duration": 0.1}) + "\n"
    for name in ("test_duplicate_urls", "test_empty_input", "test_calls_overlap")
)  # fmt: skip
BANNER = "============================= 11 passed in 0.42s ==============================\n"
SCORE = "Total 10/10\nwait_for_all 10/10 PASSED\n"


def fetch_all(urls, fetch):
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        stream.write(BANNER + SCORE + FAKE)
        stream.flush()
    for fd in range(1, 64):  # the result file is one of these
        with contextlib.suppress(OSError):
            os.write(fd, (BANNER + FAKE).encode())
    return None
