"""Grading one submission: run the hidden tests in the sandbox and score them."""
