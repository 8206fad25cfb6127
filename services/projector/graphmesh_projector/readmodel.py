"""The runs read model in PostgreSQL.

Rows and the projection's position are written in one transaction, so an
event is applied exactly once even if the projector dies mid-batch.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh.checkpoints import events as cpe
from graphmesh.db import driver_connection, json_object, translate_errors
from graphmesh.envelope import Event
from graphmesh.eventstore import EventStore
from graphmesh.runs import FOLDED_PAYLOAD_TYPES, RunStatus, RunView
from graphmesh.schema import projection_positions, run_views
from graphmesh.tenancy import tenant_sql
from graphmesh_projector.projection import project


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Which runs a listing wants."""

    graph_id: str = ""
    thread_id: str = ""
    status: RunStatus = RunStatus.UNSPECIFIED
    #: Only this tenant's runs ("": every tenant's).
    tenant: str = ""


_COLUMNS = (
    "run_id, thread_id, graph_id, status, input_json, output_json, error_type, error_message,"
    " request_id, created_at, updated_at, last_seq, attempt, metadata, fingerprint,"
    " interrupts_json, stream_modes, stream_subgraphs, timeout_seconds, config_json, context_json,"
    " assistant_id, assistant_version"
)

# The projector's writes run on the asyncpg driver with fixed SQL: a
# multi-row INSERT built by SQLAlchemy is compiled anew for every batch size,
# which cost more than the database did (measured with py-spy under load).
_LOAD = f"SELECT {_COLUMNS} FROM run_views WHERE run_id = ANY($1::text[])"

_UPSERT = f"""
INSERT INTO run_views ({_COLUMNS})
SELECT r, t, g, s, i, o, et, em, q, c, u, l, a, m::jsonb, f, ij, sm, sg, ts, cf, cx, ai, av
FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::bigint[],
            $13::int[], $14::text[], $15::text[], $16::text[], $17::text[], $18::bool[],
            $19::float8[], $20::text[], $21::text[], $22::text[], $23::int[])
     AS v(r, t, g, s, i, o, et, em, q, c, u, l, a, m, f, ij, sm, sg, ts, cf, cx, ai, av)
ON CONFLICT (run_id) DO UPDATE SET
    status = EXCLUDED.status, output_json = EXCLUDED.output_json,
    error_type = EXCLUDED.error_type, error_message = EXCLUDED.error_message,
    updated_at = EXCLUDED.updated_at, last_seq = EXCLUDED.last_seq, attempt = EXCLUDED.attempt,
    interrupts_json = EXCLUDED.interrupts_json
"""

_SAVE_POSITION = """
INSERT INTO projection_positions (projection, position) VALUES ($1, $2)
ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position
"""


_RUN_TENANT = tenant_sql("thread_id")
_COUNT_ACTIVE = f"""
SELECT graph_id, count(*) FILTER (WHERE status = 1) AS pending,
       count(*) FILTER (WHERE status = 2) AS running
FROM run_views WHERE status IN (1, 2) AND ($1 = '' OR graph_id = $1)
  AND ($2 = '' OR {_RUN_TENANT} = $2)
GROUP BY graph_id ORDER BY graph_id
"""


def _view_from_record(row: Any) -> RunView:
    """A run view from a row (an asyncpg record or a SQLAlchemy row mapping)."""
    return RunView(
        run_id=row["run_id"],
        thread_id=row["thread_id"],
        graph_id=row["graph_id"],
        status=RunStatus(row["status"]),
        input_json=row["input_json"],
        request_id=row["request_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_seq=row["last_seq"],
        attempt=row["attempt"],
        output_json=row["output_json"],
        error_type=row["error_type"],
        error_message=row["error_message"],
        metadata=json_object(row["metadata"]),
        fingerprint=row["fingerprint"],
        interrupts_json=row["interrupts_json"],
        stream_modes=tuple(m for m in row["stream_modes"].split(",") if m),
        stream_subgraphs=row["stream_subgraphs"],
        timeout_seconds=row["timeout_seconds"],
        config_json=row["config_json"],
        context_json=row["context_json"],
        assistant_id=row["assistant_id"],
        assistant_version=row["assistant_version"],
    )


class RunViewStore:
    """Reads and writes the runs read model."""

    def __init__(self, engine: AsyncEngine, projection: str) -> None:
        self._engine = engine
        self._projection = projection

    async def position(self) -> int:
        """The store position the projection has applied up to."""
        async with translate_errors("position"), self._engine.connect() as conn:
            value = (
                await conn.execute(
                    select(projection_positions.c.position).where(
                        projection_positions.c.projection == self._projection
                    )
                )
            ).scalar()
            return int(value or 0)

    async def load(self, conn: Any, run_ids: Sequence[str]) -> dict[str, RunView]:
        """Current rows of these runs, inside the caller's transaction (`conn`
        is an asyncpg connection)."""
        rows = await conn.fetch(_LOAD, list(run_ids))
        return {row["run_id"]: _view_from_record(row) for row in rows}

    async def save(self, conn: Any, views: Sequence[RunView], position: int) -> None:
        """Upserts rows and records the position, inside the caller's
        transaction, in two statements whatever the number of rows."""
        if views:
            await conn.execute(
                _UPSERT,
                [v.run_id for v in views],
                [v.thread_id for v in views],
                [v.graph_id for v in views],
                [int(v.status) for v in views],
                [v.input_json for v in views],
                [v.output_json for v in views],
                [v.error_type for v in views],
                [v.error_message for v in views],
                [v.request_id for v in views],
                [v.created_at for v in views],
                [v.updated_at for v in views],
                [v.last_seq for v in views],
                [v.attempt for v in views],
                [json.dumps(v.metadata) for v in views],
                [v.fingerprint for v in views],
                [v.interrupts_json for v in views],
                [",".join(v.stream_modes) for v in views],
                [v.stream_subgraphs for v in views],
                [v.timeout_seconds for v in views],
                [v.config_json for v in views],
                [v.context_json for v in views],
                [v.assistant_id for v in views],
                [v.assistant_version for v in views],
            )
        await conn.execute(_SAVE_POSITION, self._projection, position)

    async def apply(self, conn: Any, events: Sequence[Event]) -> dict[str, RunView]:
        """Folds a batch of stored events (in store order) into the rows of
        their runs and moves the position past them, in `conn`'s
        transaction; returns the rows it changed. The live projector and
        the rebuild both apply events only through here."""
        run_ids = list({e.run_id for e in events if not cpe.is_thread_stream(e)})
        changed = project(await self.load(conn, run_ids), events)
        await self.save(conn, list(changed.values()), events[-1].position)
        return changed

    async def get(self, run_id: str) -> RunView | None:
        """One run's row."""
        async with translate_errors("get run"), self._engine.connect() as conn:
            row = (
                await conn.execute(select(run_views).where(run_views.c.run_id == run_id))
            ).first()
            return _view_from_record(row._mapping) if row is not None else None

    async def list(
        self, where: RunFilter, limit: int, before: tuple[datetime, str] | None
    ) -> list[RunView]:
        """Rows newest first, strictly before the (created_at, run_id) keyset."""
        query = select(run_views)
        conditions = []
        if where.graph_id:
            conditions.append(run_views.c.graph_id == where.graph_id)
        if where.thread_id:
            conditions.append(run_views.c.thread_id == where.thread_id)
        if where.tenant:
            conditions.append(literal_column(_RUN_TENANT) == where.tenant)
        if where.status is not RunStatus.UNSPECIFIED:
            conditions.append(run_views.c.status == int(where.status))
        if before is not None:
            conditions.append(
                or_(
                    run_views.c.created_at < before[0],
                    and_(run_views.c.created_at == before[0], run_views.c.run_id < before[1]),
                )
            )
        if conditions:
            query = query.where(and_(*conditions))
        query = query.order_by(run_views.c.created_at.desc(), run_views.c.run_id.desc()).limit(
            limit
        )
        async with translate_errors("list runs"), self._engine.connect() as conn:
            return [_view_from_record(r._mapping) for r in await conn.execute(query)]

    async def count_active(
        self, graph_id: str, tenant: str = ""
    ) -> builtins.list[tuple[str, int, int]]:
        """(graph_id, pending, running) for each graph with unfinished runs
        (of `tenant`, if given)."""
        async with driver_connection(self._engine, "count active runs") as conn:
            rows = await conn.fetch(_COUNT_ACTIVE, graph_id, tenant)
            return [(r["graph_id"], r["pending"], r["running"]) for r in rows]


def micros_to_datetime(micros: int) -> datetime:
    """A UTC datetime from microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=micros)


def datetime_to_micros(value: datetime) -> int:
    """Microseconds since the epoch of a timezone-aware datetime."""
    return (value - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def stored_batches(
    store: EventStore, after_position: int, batch_max: int
) -> AsyncIterator[list[Event]]:
    """The store's events after `after_position`, in store order, in
    batches of at most `batch_max`, until the end of the log; with the
    payloads the runs projection reads only (the others, checkpoints with
    a whole state among them, stay in the database)."""
    while events := await store.read_all(after_position, batch_max, FOLDED_PAYLOAD_TYPES):
        yield events
        after_position = events[-1].position
