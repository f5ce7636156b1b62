"""Visible tests for exercise 16, concepts: the format only. The grade checks the answers."""

import pytest

CHOICES = {f"q{i}": "abcd" for i in range(1, 11)} | {"q3": "abcde"}


def test_answers_is_a_dict(exercise):
    answers = getattr(exercise, "ANSWERS", None)
    assert isinstance(answers, dict), (
        f"ANSWERS should be a dict of question id → letter, got {answers!r}"
    )


def test_no_unknown_question_ids(exercise):
    unknown = sorted(set(exercise.ANSWERS) - set(CHOICES), key=str)
    assert not unknown, f"ANSWERS has ids that are not questions: {unknown} (use q1 … q10)"


@pytest.mark.parametrize("question", list(CHOICES))
def test_question_has_one_valid_letter(exercise, question):
    answers = exercise.ANSWERS
    assert question in answers, f"ANSWERS has no entry for {question!r}: keep every question id"
    answer = answers[question]
    letters = CHOICES[question]
    assert isinstance(answer, str) and len(answer) == 1 and answer in letters, (
        f"{question} should be one lowercase letter among {', '.join(letters)}; got {answer!r}"
    )
