"""Hostile: find the grader's record writer in memory and write 'passed' for every test."""

import gc


def fetch_all(urls, fetch):
    writers = [o for o in gc.get_objects() if type(o).__name__ == "RecordWriter"]
    items = [o for o in gc.get_objects() if type(o).__name__ == "Function" and hasattr(o, "nodeid")]
    for writer in writers:
        for item in items:
            writer.result(item.nodeid, "passed", "", 0.01)
    return None
