"""Hidden tests for exercise 16, concepts (never released to students).

One test per question, one point each. A wrong answer's diagnosis names the
topic to revisit, never the right letter.
"""

import pytest

from grader.harness.checks import fail

# question id → (the right letter, the letters offered, the topic to revisit)
KEY = {
    "q1": ("c", "abcd", "what concurrency is (structure) as opposed to parallelism (execution)"),
    "q2": ("a", "abcd", "concurrency without parallelism: what threads that wait give one core"),
    "q3": ("d", "abcde", "the four motivations for concurrency"),
    "q4": ("b", "abcd", "the four motivations for concurrency and what each one buys"),
    "q5": ("c", "abcd", "latency versus throughput"),
    "q6": ("a", "abcd", "the GIL: which threads can run Python code at the same time"),
    "q7": ("d", "abcd", "what controls parallelism in CPython (the analogue of GOMAXPROCS)"),
    "q8": ("b", "abcd", "the default size of a ThreadPoolExecutor since Python 3.8"),
    "q9": ("c", "abcd", "which workloads benefit from threads in CPython (I/O- vs CPU-bound)"),
    "q10": ("a", "abcd", "how to read Amdahl's law: what the serial fraction caps"),
}


def near_miss(answers: dict, question: str) -> str:
    """A note on a key probably meant for ``question`` (``"Q1"``, ``" q1"``, ``1``), or ``""``."""
    number = question[1:]
    for key in answers:
        if isinstance(key, str) and key.lower() == question:
            return f" (found {key!r}: keys are lower-case, exactly {question!r})"
        if isinstance(key, str) and "".join(key.split()).lower() == question:
            return f" (found {key!r}: keys are exactly {question!r}, with no spaces)"
        if isinstance(key, str | int) and not isinstance(key, bool) and str(key).strip() == number:
            return f" (found {key!r}: keys are the question ids, exactly {question!r})"
    return ""


def answer_to(exercise, question: str, letters: str) -> str:
    answers = getattr(exercise, "ANSWERS", None)
    if not isinstance(answers, dict):
        fail(f"ANSWERS should be a dict of question id to letter, got {type(answers).__name__}")
    if question not in answers:
        hint = near_miss(answers, question)
        fail(f"{question} is not answered: ANSWERS has no entry {question!r}{hint}")
    answer = answers[question]
    if not isinstance(answer, str) or answer.strip().lower() not in set(letters):
        fail(
            f"{question} is not answered with one of the letters {', '.join(letters)} "
            f"(got {answer!r})"
        )
    return answer.strip().lower()


@pytest.mark.correctness
@pytest.mark.weight(1)
@pytest.mark.parametrize("question", list(KEY))
def test_answer(exercise, question):
    """Checklist answer"""
    right, letters, topic = KEY[question]
    given = answer_to(exercise, question, letters)
    assert given == right, f"{question} is wrong: revisit {topic}"
