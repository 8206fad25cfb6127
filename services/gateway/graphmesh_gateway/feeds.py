"""Live run feeds: one watch of the event store per run, shared by all of
the run's subscribers in this gateway.

A subscriber first reads the stored events after its cursor, then takes
the feed's batches from its own bounded queue, skipping what it already has
and filling any gap from the store, so it gets every event exactly once, in
order, whenever it joined. The feed never waits for a subscriber: a batch
that does not fit a subscriber's queue drops that subscriber, which ends its
stream with RESOURCE_EXHAUSTED (reason STREAM_TOO_SLOW) and the cursor to
resume from once it has sent what it holds. The executor and the other
subscribers never wait for a slow one.

When the last subscriber of a run leaves (its client disconnected, its
deadline passed), the feed's watch is cancelled at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import structlog

from graphmesh.envelope import Event
from graphmesh.errors import GraphmeshError, ResourceExhausted
from graphmesh.eventstore.remote import RemoteEventStore
from graphmesh_gateway.tokens import Tokens

log = structlog.get_logger(__name__)

_READ_PAGE = 1000


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[list[Event] | GraphmeshError | None]
    dropped: bool = False


@dataclass(eq=False)
class _Feed:
    run_id: str
    subscribers: set[_Subscriber] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class RunFeeds:
    """The gateway's live feeds, by run id."""

    def __init__(self, store: RemoteEventStore, buffer: int, tokens: Tokens) -> None:
        self._store = store
        self._buffer = buffer
        self._tokens = tokens
        self._feeds: dict[str, _Feed] = {}
        self._following = 0

    @property
    def feeds(self) -> int:
        """Runs with a live watch."""
        return len(self._feeds)

    @property
    def subscribers(self) -> int:
        """Streams being served (reading stored events or following a feed)."""
        return self._following

    async def read(self, run_id: str, after_seq: int, limit: int = _READ_PAGE) -> list[Event]:
        """Stored events of a run after `after_seq`; NotFound for no run."""
        return await self._store.read(run_id, after_seq, limit)

    async def follow(self, run_id: str, after_seq: int) -> AsyncIterator[list[Event]]:
        """The run's events after `after_seq`, stored ones first, then live
        ones, until the run's terminal event. NotFound for no run."""
        self._following += 1
        try:
            async for batch in self._follow(run_id, after_seq):
                yield batch
        finally:
            self._following -= 1

    async def _follow(self, run_id: str, after_seq: int) -> AsyncIterator[list[Event]]:
        last = after_seq
        async for batch in self.stored(run_id, last):
            yield batch
            last = batch[-1].seq
            if batch[-1].is_terminal:
                return
        subscriber = _Subscriber(asyncio.Queue(self._buffer))
        self._join(run_id, subscriber, last)
        try:
            while True:
                if subscriber.dropped and subscriber.queue.empty():
                    raise _too_slow(run_id, last, self._tokens.cursor(run_id, last) if last else "")
                item = await subscriber.queue.get()
                if isinstance(item, GraphmeshError):
                    raise item
                if item is None or item[0].seq > last + 1:
                    # Joined between the feed's batches, or the feed ended
                    # because the run has (its end may have been handed out
                    # before we joined): what is missing is in the store.
                    before = item[0].seq if item else None
                    async for batch in self.stored(run_id, last, before):
                        yield batch
                        last = batch[-1].seq
                        if batch[-1].is_terminal:
                            return
                    if item is None:
                        return  # the run ended at or before the cursor
                fresh = [e for e in item if e.seq > last]
                if fresh:
                    yield fresh
                    last = fresh[-1].seq
                    if fresh[-1].is_terminal:
                        return
        finally:
            self._leave(run_id, subscriber)

    async def stored(
        self, run_id: str, after_seq: int, before_seq: int | None = None
    ) -> AsyncIterator[list[Event]]:
        """Stored events after `after_seq` (and before `before_seq`), in pages."""
        while before_seq is None or after_seq + 1 < before_seq:
            page = await self.read(run_id, after_seq)
            full = len(page) == _READ_PAGE
            if before_seq is not None:
                page = [e for e in page if e.seq < before_seq]
            if not page:
                return
            yield page
            after_seq = page[-1].seq
            if not full:
                return

    def _join(self, run_id: str, subscriber: _Subscriber, after_seq: int) -> None:
        feed = self._feeds.get(run_id)
        if feed is None:
            feed = self._feeds[run_id] = _Feed(run_id)
            feed.task = asyncio.create_task(self._watch(feed, after_seq))
        feed.subscribers.add(subscriber)

    def _leave(self, run_id: str, subscriber: _Subscriber) -> None:
        feed = self._feeds.get(run_id)
        if feed is None:
            return
        feed.subscribers.discard(subscriber)
        if not feed.subscribers:
            del self._feeds[run_id]
            if feed.task is not None:
                feed.task.cancel()

    async def _watch(self, feed: _Feed, after: int) -> None:
        """Reads the run's new events from the store and hands each batch to
        every subscriber. Starts where its first subscriber had read to: the
        others skip what they have or read what they miss from the store."""
        outcome: GraphmeshError | None = None
        try:
            async with contextlib.aclosing(self._store.watch(feed.run_id, after)) as batches:
                async for batch in batches:
                    self._hand_out(feed, batch)
        except GraphmeshError as exc:
            outcome = exc
        for subscriber in feed.subscribers:
            with contextlib.suppress(asyncio.QueueFull):
                subscriber.queue.put_nowait(outcome)
        if self._feeds.get(feed.run_id) is feed:
            del self._feeds[feed.run_id]

    def _hand_out(self, feed: _Feed, batch: list[Event]) -> None:
        for subscriber in list(feed.subscribers):
            try:
                subscriber.queue.put_nowait(batch)
            except asyncio.QueueFull:
                subscriber.dropped = True
                feed.subscribers.discard(subscriber)
                log.info("stream_subscriber_too_slow", run_id=feed.run_id)


def _too_slow(run_id: str, last_seq: int, cursor: str) -> ResourceExhausted:
    return ResourceExhausted(
        "this stream fell too far behind the run; resume it from the cursor of the last"
        " event received",
        reason="STREAM_TOO_SLOW",
        metadata={"run_id": run_id, "cursor": cursor, "last_seq": str(last_seq)},
        retry_after=0.0,
    )
