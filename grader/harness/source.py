"""A source of items that records how far its consumer has pulled it: the witness of
backpressure. With a local service (``grader.harness.service``), it is made in the student's
process too, its pulls told by notices.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from grader.harness.calling import Notice
from grader.subject.local import certain_fault

if TYPE_CHECKING:
    from grader.harness.service import _Recorder


class TrackedSource:
    """An iterator that records how far the consumer has pulled it.

    With a service, ``max_pull_ahead`` tells how many items were taken before
    earlier ones completed: the witness of backpressure (or its absence).
    """

    def __init__(
        self,
        items: Iterable[Any],
        service: _Recorder | None = None,
        limit: int | None = None,
        *,
        cut_short: int | None = None,
    ) -> None:
        self.local = service is not None and service.local and limit is None
        self._list = list(items) if self.local else None  # sent to the subject whole
        self._items = iter(self._list if self._list is not None else items)
        self._service = service
        self._limit = limit
        self._cut_short = cut_short
        self.pulled = 0
        self.max_pull_ahead = 0

    def local_spec(self) -> dict[str, Any] | None:
        """How the judge makes this source in the subject (with a local service), else None."""
        if not self.local:
            return None
        return {
            "type": "source",
            "items": self._list,
            "pulled": Notice(self._count_pull),
            "service": self._service,
            "cut_short": self._cut_short,
        }

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        if self._limit is not None and self.pulled >= self._limit:
            raise StopIteration
        if self._cut_short is not None and self._service is not None and self._certain_fault():
            raise StopIteration
        item = next(self._items)
        self._count_pull()
        return item

    def _certain_fault(self) -> bool:
        """End a bad run early, by the same rule as the subject's ``LocalSource``."""
        service, cap = self._service, self._cut_short
        assert service is not None and cap is not None
        return certain_fault(self.pulled, service.completed, service.peak_in_flight, cap)

    def _count_pull(self) -> None:
        self.pulled += 1
        if self._service is not None:
            ahead = self.pulled - self._service.completed
            self.max_pull_ahead = max(self.max_pull_ahead, ahead)
