"""Converters from a :class:`~grader.grading.scoring.GradeReport` to each output format."""
