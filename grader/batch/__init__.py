"""Grading a whole class: ``grader batch``."""
