"""Converters from a :class:`~grader.scoring.GradeReport` to each output format."""
