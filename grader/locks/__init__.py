"""Recording locks: drop-in ``threading.Lock``/``RLock`` that report to a recorder, which finds
lock-order cycles and breaks real deadlocks (``recorder``, ``recording``, ``graph``).

Stdlib only, below both the harness (in-process tests) and the subject (the judge's tests
make the recorder in the student's process, where the locks are taken).
"""
