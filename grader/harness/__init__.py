"""The public test harness: probes shared by the visible and the hidden tests.

* :mod:`~grader.harness.service` - a simulated I/O service that records every call;
* the race amplifier (``go test -race`` for Python) is :mod:`grader.amplifier`, a bottom
  module, since the judge's subject process runs it too;
* :mod:`~grader.harness.timing` - ideal times computed from known delays;
* :mod:`~grader.harness.observe` - run student code under a watchdog and
  hygiene checks (leftover threads, ``threading.excepthook``, stderr);
* :mod:`~grader.harness.loading` - load an exercise module from any root folder.
"""
