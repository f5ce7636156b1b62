"""Exercise 16, another style: the same answers, written with dict() and capitals."""

ANSWERS = dict(
    q1="C",
    q2="A",
    q3="D",
    q4="B",
    q5="C",
    q6="A",
    q7="D",
    q8="B",
    q9="C",
    q10="A",
)
