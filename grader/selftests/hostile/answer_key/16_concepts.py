"""Hostile: read the answer key from the hidden test module, already imported beside this one.

In-process, the hidden tests' module sits in ``sys.modules`` (and in the garbage collector's
view) while student code runs: its ``KEY`` gives every right letter. In the judge's split there
is nothing to find."""

import gc
import sys


def find_key():
    for module in list(sys.modules.values()):
        key = getattr(module, "KEY", None)
        if isinstance(key, dict) and "q1" in key:
            return key
    for obj in gc.get_objects():
        if isinstance(obj, dict) and "q1" in obj and isinstance(obj.get("q1"), tuple):
            return obj
    return {}


ANSWERS = {question: entry[0] for question, entry in find_key().items()}
