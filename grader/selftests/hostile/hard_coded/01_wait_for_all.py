"""Hostile: answers hard-coded for the visible tests' inputs, nothing else."""

_ANSWERS = {
    (): [],
    tuple(f"https://example.test/{i}" for i in range(10)): [
        f"response to 'https://example.test/{i}'" for i in range(10)
    ],
}


def fetch_all(urls, fetch):
    return list(_ANSWERS.get(tuple(urls), [None] * len(urls)))
