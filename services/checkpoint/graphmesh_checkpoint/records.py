"""Reads of the write side's thread records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh import envelope as ev
from graphmesh.db import SqlArgs, driver_connection
from graphmesh.eventstore.postgres_threads import THREAD_COLUMNS
from graphmesh.tenancy import tenant_sql
from graphmesh.thread_records import ThreadRecord, ThreadStatus

# The status of ThreadRecord.status, in SQL, for filtering.
_STATUS_SQL = {
    ThreadStatus.BUSY: "open_runs > 0",
    ThreadStatus.INTERRUPTED: f"open_runs = 0 AND last_outcome = '{ev.RUN_INTERRUPTED}'",
    ThreadStatus.ERROR: f"open_runs = 0 AND last_outcome = '{ev.RUN_FAILED}'",
    ThreadStatus.IDLE: (
        f"open_runs = 0 AND last_outcome NOT IN ('{ev.RUN_INTERRUPTED}', '{ev.RUN_FAILED}')"
    ),
}


@dataclass(frozen=True, slots=True)
class ThreadFilter:
    """Which thread records to list, and the keyset page."""

    limit: int
    graph_id: str = ""
    status: ThreadStatus | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    before: tuple[datetime, str] | None = None
    #: Only this tenant's threads ("": every tenant's).
    tenant: str = ""


class ThreadRecords:
    """Reads `threads` (deleted threads are not listed)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, thread_id: str) -> ThreadRecord | None:
        """The record, deleted or not; None if the thread never existed."""
        async with driver_connection(self._engine, "get thread") as conn:
            row = await conn.fetchrow(
                f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = $1", thread_id
            )
        return ThreadRecord.from_row(row) if row is not None else None

    async def search(self, where: ThreadFilter) -> list[ThreadRecord]:
        """Live threads, most recently updated first."""
        clauses = ["NOT deleted"]
        arg = SqlArgs()

        if where.graph_id:
            clauses.append(f"graph_id = {arg(where.graph_id)}")
        if where.tenant:
            clauses.append(f"{tenant_sql('thread_id')} = {arg(where.tenant)}")
        if where.status is not None:
            clauses.append(_STATUS_SQL[where.status])
        if where.metadata:
            clauses.append(f"metadata @> {arg(json.dumps(where.metadata))}::jsonb")
        if where.before is not None:
            clauses.append(
                f"(updated_at, thread_id) < ({arg(where.before[0])}, {arg(where.before[1])})"
            )
        sql = (
            f"SELECT {THREAD_COLUMNS} FROM threads WHERE {' AND '.join(clauses)} "
            f"ORDER BY updated_at DESC, thread_id DESC LIMIT {arg(where.limit)}"
        )
        async with driver_connection(self._engine, "list threads") as conn:
            return [ThreadRecord.from_row(r) for r in await conn.fetch(sql, *arg.values)]
