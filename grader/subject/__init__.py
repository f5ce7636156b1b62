"""The subject: the small runtime that runs beside student code, serving the judge.

``python -P -m grader.subject --fd N`` loads the student's module when asked and
answers the judge's requests over the socket on fd N (protocol: ``runtime``). It
imports only ``grader.wire``, ``grader.importable``, ``grader.amplifier`` and the stdlib; a
worker process imports a loaded module by name through ``grader.importable``, which stays
light.
"""
