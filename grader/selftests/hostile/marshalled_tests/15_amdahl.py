"""Hostile: marshal the hidden test module's code objects into the failure messages, to
rebuild the hidden test file from results.json. In the judge, the hidden tests are in
another process: there is nothing to marshal."""

import base64
import marshal
import sys
import zlib


def stolen():
    for module in list(sys.modules.values()):
        if hasattr(module, "check_speedup") and hasattr(module, "law"):
            for value in vars(module).values():
                code = getattr(value, "__code__", None)
                if code is not None:
                    yield base64.b64encode(zlib.compress(marshal.dumps(code))).decode()
            blob = getattr(module, "__doc__", "") or ""
            yield blob


def leak(*args, **kwargs):
    raise RuntimeError("stolen: " + " ".join(stolen())[:1900] + " nothing found")


speedup = max_speedup = serial_fraction_from = workers_needed = leak
