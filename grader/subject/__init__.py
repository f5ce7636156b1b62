"""The subject: the small runtime that runs beside student code, serving the judge.

``python -P -m grader.subject --fd N`` loads the student's module when asked and
answers the judge's requests over the socket on fd N (protocol: ``runtime``). It
imports only ``grader.wire`` and the stdlib, and this file imports nothing, so a
worker process that imports a loaded module by name (``loaded``) stays light.
"""
