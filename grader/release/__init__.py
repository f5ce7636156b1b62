"""What the instructor hands out: the student pack and Gradescope's autograder zip."""
