"""The projection loop: tail the event store, fold, save with the position."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh.checkpoints import events as cpe
from graphmesh.db import EVENTS_CHANNEL, DatabaseSettings, connect_listener, driver_connection
from graphmesh.errors import Unavailable
from graphmesh.eventstore import EventStore
from graphmesh_projector.projection import project
from graphmesh_projector.readmodel import RunViewStore

log = structlog.get_logger(__name__)

_IDLE_POLL_SECONDS = 1.0


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
        while True:
            events = await self._store.read_all(self.position, self._batch_max)
            if not events:
                return total
            async with (
                driver_connection(self._engine, "project") as conn,
                conn.transaction(),
            ):
                run_ids = list({e.run_id for e in events if not cpe.is_thread_stream(e)})
                current = await self._views.load(conn, run_ids)
                changed = project(current, events)
                await self._views.save(conn, list(changed.values()), events[-1].position)
            self.position = events[-1].position
            self.applied += len(events)
            total += len(events)

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

    async def _listen(self) -> Any:
        try:
            conn = await connect_listener(self._database)
            await conn.add_listener(EVENTS_CHANNEL, lambda *_: self._wake.set())
            return conn
        except Exception as exc:  # asyncpg raises many types while PostgreSQL is away
            log.warning("listen_failed", error=str(exc))
            return None
