"""The runs read model in PostgreSQL.

Rows and the projection's position are written in one transaction, so an
event is applied exactly once even if the projector dies mid-batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from graphmesh.db import translate_errors
from graphmesh.runs import RunStatus, RunView
from graphmesh.schema import projection_positions, run_views


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Which runs a listing wants."""

    graph_id: str = ""
    thread_id: str = ""
    status: RunStatus = RunStatus.UNSPECIFIED


def _view_from_row(row: Any) -> RunView:
    return RunView(
        run_id=row.run_id,
        thread_id=row.thread_id,
        graph_id=row.graph_id,
        status=RunStatus(row.status),
        input_json=row.input_json,
        request_id=row.request_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_seq=row.last_seq,
        attempt=row.attempt,
        output_json=row.output_json,
        error_type=row.error_type,
        error_message=row.error_message,
        metadata=dict(row.metadata),
        fingerprint=row.fingerprint,
    )


def _row_from_view(view: RunView) -> dict[str, Any]:
    return {
        "run_id": view.run_id,
        "thread_id": view.thread_id,
        "graph_id": view.graph_id,
        "status": int(view.status),
        "input_json": view.input_json,
        "output_json": view.output_json,
        "error_type": view.error_type,
        "error_message": view.error_message,
        "request_id": view.request_id,
        "created_at": view.created_at,
        "updated_at": view.updated_at,
        "last_seq": view.last_seq,
        "attempt": view.attempt,
        "metadata": view.metadata,
        "fingerprint": view.fingerprint,
    }


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

    async def load(self, conn: AsyncConnection, run_ids: Sequence[str]) -> dict[str, RunView]:
        """Current rows of these runs, inside the caller's transaction."""
        rows = await conn.execute(select(run_views).where(run_views.c.run_id.in_(list(run_ids))))
        return {row.run_id: _view_from_row(row) for row in rows}

    async def save(self, conn: AsyncConnection, views: Sequence[RunView], position: int) -> None:
        """Upserts rows and records the position, inside the caller's transaction."""
        if views:
            stmt = pg_insert(run_views).values([_row_from_view(v) for v in views])
            columns = {
                c.name: stmt.excluded[c.name] for c in run_views.columns if c.name != "run_id"
            }
            await conn.execute(stmt.on_conflict_do_update(index_elements=["run_id"], set_=columns))
        pos = pg_insert(projection_positions).values(projection=self._projection, position=position)
        await conn.execute(
            pos.on_conflict_do_update(
                index_elements=["projection"], set_={"position": pos.excluded.position}
            )
        )

    async def get(self, run_id: str) -> RunView | None:
        """One run's row."""
        async with translate_errors("get run"), self._engine.connect() as conn:
            row = (
                await conn.execute(select(run_views).where(run_views.c.run_id == run_id))
            ).first()
            return _view_from_row(row) if row is not None else None

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
            return [_view_from_row(r) for r in await conn.execute(query)]


def micros_to_datetime(micros: int) -> datetime:
    """A UTC datetime from microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=micros)


def datetime_to_micros(value: datetime) -> int:
    """Microseconds since the epoch of a timezone-aware datetime."""
    return (value - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
