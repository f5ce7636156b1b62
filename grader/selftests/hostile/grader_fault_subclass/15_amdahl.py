"""Hostile: raise a subclass of the grader's own "the amplifier is inactive" exception, so a
failure is reported as a grader fault ("not your fault") and left out of the maximum. In the
judge, an exception from the subject is a description: it is never one of the grader's."""

from grader.amplifier import AmplifierInactive


class NotMyFault(AmplifierInactive):
    pass


def blame(*args, **kwargs):
    raise NotMyFault("the race amplifier did not catch its canary: regrade by hand")


speedup = max_speedup = serial_fraction_from = workers_needed = blame
