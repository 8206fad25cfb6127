"""Which Kafka offsets an executor may commit: pure bookkeeping.

Runs from one partition finish out of order; an offset may be committed only
when every message before it is done, or a crash would skip a run.
"""

from __future__ import annotations

import heapq


class PartitionProgress:
    """Offsets of one partition that are taken but not yet done."""

    def __init__(self) -> None:
        self._pending: list[int] = []
        self._done: set[int] = set()
        self._highest = -1

    def take(self, offset: int) -> None:
        """A message at `offset` was taken for work."""
        heapq.heappush(self._pending, offset)
        self._highest = max(self._highest, offset)

    def done(self, offset: int) -> None:
        """The work for the message at `offset` is finished and durable."""
        self._done.add(offset)

    def committable(self) -> int | None:
        """The offset to commit (the next one to read after a restart), or
        None when nothing has been taken."""
        while self._pending and self._pending[0] in self._done:
            self._done.discard(heapq.heappop(self._pending))
        if self._pending:
            return self._pending[0]
        return self._highest + 1 if self._highest >= 0 else None

    @property
    def in_flight(self) -> int:
        """How many taken messages are not done."""
        return len(self._pending) - len(self._done)
