"""The public test harness: probes shared by the visible and the hidden tests.

* :mod:`~grader.harness.service` - a simulated I/O service that records every call;
* :mod:`~grader.harness.amplifier` - the race amplifier (``go test -race`` for Python);
* :mod:`~grader.harness.timing` - ideal times computed from known delays;
* :mod:`~grader.harness.observe` - run student code under a watchdog and
  hygiene checks (leftover threads, ``threading.excepthook``, stderr);
* :mod:`~grader.harness.loading` - load an exercise module from any root folder.
"""
