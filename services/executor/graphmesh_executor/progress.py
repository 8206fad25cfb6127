"""Which Kafka offsets an executor may commit: pure bookkeeping.

Runs from one partition finish out of order; an offset may be committed only
when every message before it is done, or a crash would skip a run.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict


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


class StartedAttempts:
    """The attempt this process last started of each recent run: a command
    delivered again (Kafka redelivers from the last committed offset after
    a rebalance) must not run an attempt a second time. Bounded: it keeps
    far more runs than a rebalance redelivers (the uncommitted tail of an
    executor's partitions)."""

    def __init__(self, remembered: int = 100_000) -> None:
        self._started: OrderedDict[str, int] = OrderedDict()
        self._remembered = remembered

    def start(self, run_id: str, attempt: int) -> bool:
        """Records that `attempt` of the run starts here; False when this
        process started it (or a later one) already."""
        if self._started.get(run_id, 0) >= attempt:
            return False
        self._started[run_id] = attempt
        self._started.move_to_end(run_id)
        while len(self._started) > self._remembered:
            self._started.popitem(last=False)
        return True
