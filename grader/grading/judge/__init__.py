"""The judge's side of the split (issue 14): start a subject process and talk to it.

``subject.Subject`` spawns ``python -m grader.subject`` with one end of a socketpair, loads
the student's module there, and gives the module as a ``RemoteObject``: attribute reads and
calls are round trips, and judge callables handed to student code are proxies served here.
Whether the subject hung, died or broke the protocol is decided by the judge alone
(``verdicts``), never from anything the child says.
"""
