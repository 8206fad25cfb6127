"""Group commit: appends asked for while one is being written go together
in the next transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import Histogram

from graphmesh.envelope import Event
from graphmesh.eventstore.rules import AppendOutcome

APPENDS_PER_TRANSACTION = Histogram(
    "graphmesh_appends_per_transaction",
    "Appends (an AppendEvents call, a batch from Kafka) written by one transaction.",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)

Write = Callable[[list[Event]], Awaitable[list[AppendOutcome]]]


class GroupAppender:
    """Writes appends one transaction at a time (`write`): the batches
    asked for while a transaction runs go together in the next one, each
    caller getting its own events' outcomes. An append alone waits for
    nothing; under load, callers share one transaction (one append lock,
    one round of statements, one WAL flush) instead of queueing for the lock
    one by one. Judging a combined batch is judging its parts one after the
    other (each event is judged against the heads as the events before it
    left them), so every caller gets the outcomes it would have got alone,
    in the order the appends were asked for. When a shared transaction
    fails, each caller's append is written again alone, so that one
    caller's failure is nobody else's."""

    def __init__(self, write: Write) -> None:
        self._write = write
        self._waiting: list[tuple[list[Event], asyncio.Future[list[AppendOutcome]]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def append(self, events: Sequence[Event]) -> list[AppendOutcome]:
        """The outcomes of `events`, stored with whatever else is waiting."""
        if not events:
            return []
        future: asyncio.Future[list[AppendOutcome]] = asyncio.get_running_loop().create_future()
        self._waiting.append((list(events), future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            APPENDS_PER_TRANSACTION.observe(len(group))
            try:
                outcomes = await self._write([e for events, _ in group for e in events])
            except asyncio.CancelledError:
                for _, future in group:
                    future.cancel()
                raise
            except Exception as exc:
                if len(group) == 1:
                    if not group[0][1].done():
                        group[0][1].set_exception(exc)
                    continue
                # One caller's events may be what failed: each alone, so
                # that it fails nobody else's.
                for events, future in group:
                    await self._alone(events, future)
                continue
            start = 0
            for events, future in group:
                if not future.done():
                    future.set_result(outcomes[start : start + len(events)])
                start += len(events)

    async def _alone(
        self, events: list[Event], future: asyncio.Future[list[AppendOutcome]]
    ) -> None:
        try:
            outcomes = await self._write(events)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(outcomes)
