"""Rebuilding the runs read model from the event store.

The read model is a pure function of the stored events (`project`), so it
can be thrown away and built again: after a projection bug is fixed, after a
schema change, or to prove that the live rows are what the log says. The
rebuild runs in one transaction that first takes the projection's position
row, so a running projector waits for it (its own next batch is then
skipped as already applied), and readers see the old rows until the new
ones are committed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh import db
from graphmesh.db import driver_connection
from graphmesh.eventstore import EventStore
from graphmesh.eventstore.postgres import PostgresEventStore
from graphmesh.settings import database_from_env
from graphmesh_projector.projection import RUNS_PROJECTION
from graphmesh_projector.readmodel import RunViewStore, stored_batches


@dataclass(frozen=True, slots=True)
class RebuildReport:
    """What a rebuild did."""

    events: int
    runs: int
    position: int


async def rebuild_runs(
    engine: AsyncEngine, store: EventStore, batch_max: int = 5000
) -> RebuildReport:
    """Replaces every row of the runs read model with rows folded from the
    whole event store, and sets the projection's position to its end."""
    views = RunViewStore(engine, RUNS_PROJECTION)
    events_seen = 0
    position = 0
    runs: set[str] = set()
    async with driver_connection(engine, "rebuild") as conn, conn.transaction():
        # The projector upserts this row in every batch: it waits for us.
        await conn.execute(
            "INSERT INTO projection_positions (projection, position) VALUES ($1, 0) "
            "ON CONFLICT (projection) DO UPDATE SET position = 0",
            RUNS_PROJECTION,
        )
        await conn.execute("DELETE FROM run_views")
        async for events in stored_batches(store, 0, batch_max):
            runs.update(await views.apply(conn, events))
            events_seen += len(events)
            position = events[-1].position
    return RebuildReport(events=events_seen, runs=len(runs), position=position)


def main() -> int:
    """`python -m graphmesh_projector.rebuild`: rebuilds the runs read model
    of the database the environment names (GRAPHMESH_DATABASE_URL and the
    projector's other database settings), as `graphmesh projections
    rebuild` asks; prints the report as one JSON line."""
    settings = dataclasses.replace(database_from_env(os.environ), pool_size=2)

    async def rebuild() -> RebuildReport:
        engine = db.create_engine(settings)
        try:
            return await rebuild_runs(engine, PostgresEventStore(engine))
        finally:
            await engine.dispose()

    report = asyncio.run(rebuild())
    print(json.dumps(dataclasses.asdict(report)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
