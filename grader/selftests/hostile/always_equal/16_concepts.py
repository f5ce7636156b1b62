"""Hostile: answers equal to every letter. A ``str`` whose ``==`` is always true, whose hash is
a letter's and whose ``strip``/``lower`` return itself passes ``in set(letters)`` and
``given == right`` in-process. Across the judge's wire only its plain ``str`` value travels."""


class Yes(str):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return hash("a")

    def strip(self, *args):
        return self

    def lower(self):
        return self


ANSWERS = {f"q{n}": Yes("") for n in range(1, 11)}
