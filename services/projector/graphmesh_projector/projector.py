"""The projection loop: tail the event store, fold, save with the position."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import structlog
from opentelemetry import trace
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh import tracing
from graphmesh.db import EVENTS_CHANNEL, DatabaseSettings, connect_listener, driver_connection
from graphmesh.envelope import Event
from graphmesh.errors import Unavailable
from graphmesh.eventstore import EventStore
from graphmesh_projector.readmodel import RunViewStore, stored_batches

log = structlog.get_logger(__name__)

_IDLE_POLL_SECONDS = 5.0
_LAG_REFRESH_SECONDS = 2.0

APPLIED = Counter("graphmesh_projector_events_applied", "Stored events applied to the read models.")
BATCH_SECONDS = Histogram(
    "graphmesh_projector_batch_duration_seconds",
    "Time to apply one batch of events (one transaction).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
POSITION = Gauge("graphmesh_projector_position", "Event-store position the read models are at.")
LAG = Gauge(
    "graphmesh_projector_lag_events",
    "Stored events not yet applied to the read models (store head minus position).",
)


def _open_spans(spans: contextlib.ExitStack, events: list[Event]) -> None:
    """One span per run in the batch, continuing the trace of the append
    that stored its first event here (links to the other appends)."""
    by_run: dict[str, list[Event]] = {}
    for event in events:
        by_run.setdefault(event.run_id, []).append(event)
    for run_id, run_events in by_run.items():
        contexts = list(dict.fromkeys(e.trace_context for e in run_events if e.trace_context))
        links = [
            trace.Link(
                trace.get_current_span(tracing.context_from_traceparent(c)).get_span_context()
            )
            for c in contexts[1:]
        ]
        spans.enter_context(
            tracing.tracer.start_as_current_span(
                "project",
                context=tracing.context_from_traceparent(contexts[0] if contexts else ""),
                links=links,
                attributes={
                    "graphmesh.run_id": run_id,
                    "graphmesh.events": len(run_events),
                    "graphmesh.first_position": run_events[0].position,
                },
            )
        )


class Projector:
    """Keeps the runs read model up to date with the event store."""

    def __init__(
        self,
        engine: AsyncEngine,
        store: EventStore,
        views: RunViewStore,
        database: DatabaseSettings,
        batch_max: int = 1000,
        debounce_ms: int = 5,
    ) -> None:
        self._engine = engine
        self._store = store
        self._views = views
        self._database = database
        self._batch_max = batch_max
        self._debounce = debounce_ms / 1000
        self._wake = asyncio.Event()
        self.position = 0
        self.applied = 0

    async def catch_up(self) -> int:
        """Applies every stored event not applied yet; returns how many."""
        total = 0
        async for events in stored_batches(self._store, self.position, self._batch_max):
            started = time.perf_counter()
            with contextlib.ExitStack() as spans:
                if tracing.enabled():
                    _open_spans(spans, events)
                async with (
                    driver_connection(self._engine, "project") as conn,
                    conn.transaction(),
                ):
                    await self._views.apply(conn, events)
            self.position = events[-1].position
            self.applied += len(events)
            total += len(events)
            APPLIED.inc(len(events))
            BATCH_SECONDS.observe(time.perf_counter() - started)
            POSITION.set(self.position)
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Projects until `stop` is set, woken by the store's notifications."""
        self.position = await self._views.position()
        listener = None
        while not stop.is_set():
            if listener is None or listener.is_closed():
                listener = await self._listen()
            try:
                await self.catch_up()
            except Unavailable as exc:
                log.warning("projection_failed_retrying", error=str(exc))
                await asyncio.sleep(0.5)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), _IDLE_POLL_SECONDS)
                # Let a burst of appends gather into one batch: per-batch
                # cost dominates under load, and queries served from the read
                # model tolerate a few milliseconds (WaitRun does not use it).
                await asyncio.sleep(self._debounce)
        if listener is not None:
            await listener.close()

    async def watch_lag(self, stop: asyncio.Event) -> None:
        """Keeps `graphmesh_projector_lag_events` current until `stop`."""
        while not stop.is_set():
            try:
                LAG.set(max(await self._store.last_position() - self.position, 0))
            except Unavailable as exc:
                log.debug("lag_unknown", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _LAG_REFRESH_SECONDS)

    async def _listen(self) -> Any:
        try:
            conn = await connect_listener(self._database)
            await conn.add_listener(EVENTS_CHANNEL, lambda *_: self._wake.set())
            return conn
        except Exception as exc:  # asyncpg raises many types while PostgreSQL is away
            log.warning("listen_failed", error=str(exc))
            return None
