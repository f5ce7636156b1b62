"""The project's own tests (the self-check): never part of a student release."""
