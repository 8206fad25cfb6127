"""The checkpoint tables, kept from stored events, and their queries.

`apply_checkpoint_events` runs inside the event store's append transaction
(connection of the asyncpg driver), so a checkpoint is readable exactly when
the event that carries it is stored. `CheckpointReader` answers the
checkpoint service's reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh import envelope as ev
from graphmesh.checkpoints import events as cpe
from graphmesh.db import driver_connection
from graphmesh.envelope import Event

_UPSERT_CHECKPOINT = """
INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id,
                         checkpoint_type, checkpoint, metadata_type, metadata, metadata_json)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
    parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, run_id = EXCLUDED.run_id,
    checkpoint_type = EXCLUDED.checkpoint_type, checkpoint = EXCLUDED.checkpoint,
    metadata_type = EXCLUDED.metadata_type, metadata = EXCLUDED.metadata,
    metadata_json = EXCLUDED.metadata_json
"""

_WRITES_SOURCE = """
INSERT INTO checkpoint_writes
    (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, value_type, value, task_path)
SELECT $1, $2, $3, $4, w.idx, w.channel, w.value_type, w.value, $5
FROM unnest($6::int[], $7::text[], $8::text[], $9::bytea[]) AS w(idx, channel, value_type, value)
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO
"""
_INSERT_WRITES = _WRITES_SOURCE + " NOTHING"
_UPSERT_WRITES = (
    _WRITES_SOURCE
    + """ UPDATE SET channel = EXCLUDED.channel, value_type = EXCLUDED.value_type,
    value = EXCLUDED.value, task_path = EXCLUDED.task_path"""
)

_DELETE_THREAD = """
WITH c AS (DELETE FROM checkpoints WHERE thread_id = $1)
DELETE FROM checkpoint_writes WHERE thread_id = $1
"""

_COPY_THREAD = """
WITH c AS (
    INSERT INTO checkpoints
    SELECT $2, checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id, checkpoint_type,
           checkpoint, metadata_type, metadata, metadata_json
    FROM checkpoints WHERE thread_id = $1
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO NOTHING
)
INSERT INTO checkpoint_writes
SELECT $2, checkpoint_ns, checkpoint_id, task_id, idx, channel, value_type, value, task_path
FROM checkpoint_writes WHERE thread_id = $1
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO NOTHING
"""

_PRUNE_KEEP_LATEST = """
WITH latest AS (
    SELECT checkpoint_ns, max(checkpoint_id COLLATE "C") AS checkpoint_id
    FROM checkpoints WHERE thread_id = $1 GROUP BY checkpoint_ns
), c AS (
    DELETE FROM checkpoints k WHERE k.thread_id = $1
      AND (k.checkpoint_ns, k.checkpoint_id) NOT IN (SELECT * FROM latest)
)
DELETE FROM checkpoint_writes w WHERE w.thread_id = $1
  AND (w.checkpoint_ns, w.checkpoint_id) NOT IN (SELECT * FROM latest)
"""

_DELETE_RUNS = """
WITH gone AS (
    DELETE FROM checkpoints WHERE thread_id = $1 AND run_id = ANY($2::text[])
    RETURNING checkpoint_ns, checkpoint_id
)
DELETE FROM checkpoint_writes w USING gone
WHERE w.thread_id = $1 AND w.checkpoint_ns = gone.checkpoint_ns
  AND w.checkpoint_id = gone.checkpoint_id
"""

_THREADS_OF_RUNS = """
SELECT DISTINCT thread_id FROM checkpoints WHERE run_id = ANY($1::text[]) ORDER BY thread_id
"""


async def apply_checkpoint_events(conn: Any, events: Sequence[Event]) -> None:
    """Applies stored events to the checkpoint tables, in order (inside the
    append transaction). Events of other types change nothing here."""
    for event in events:
        if event.type == cpe.CHECKPOINT_SAVED:
            await _save_checkpoint(conn, event)
        elif event.type == cpe.WRITES_SAVED:
            await _save_writes(conn, event)
        elif event.type in (cpe.CHECKPOINTS_DELETED, cpe.THREAD_DELETED):
            await conn.execute(_DELETE_THREAD, event.thread_id)
        elif event.type == cpe.CHECKPOINTS_COPIED:
            source = json.loads(event.payload_json)["source_thread_id"]
            await conn.execute(_COPY_THREAD, source, event.thread_id)
        elif event.type == cpe.CHECKPOINTS_PRUNED:
            strategy = json.loads(event.payload_json)["strategy"]
            statement = _DELETE_THREAD if strategy == "delete" else _PRUNE_KEEP_LATEST
            await conn.execute(statement, event.thread_id)
        elif event.type == cpe.RUN_CHECKPOINTS_DELETED:
            run_ids = json.loads(event.payload_json)["run_ids"]
            await conn.execute(_DELETE_RUNS, event.thread_id, run_ids)
        elif event.type == ev.RUN_CANCELLED and _is_rollback(event):
            # The rollback strategy: the cancelled run leaves no state behind.
            await conn.execute(_DELETE_RUNS, event.thread_id, [event.run_id])


def _is_rollback(event: Event) -> bool:
    return bool(json.loads(event.payload_json).get("action") == "rollback")


async def _save_checkpoint(conn: Any, event: Event) -> None:
    saved = cpe.SavedCheckpoint.from_payload(json.loads(event.payload_json))
    await conn.execute(
        _UPSERT_CHECKPOINT,
        event.thread_id,
        saved.checkpoint_ns,
        saved.checkpoint_id,
        saved.parent_checkpoint_id,
        saved.run_id,
        saved.checkpoint[0],
        saved.checkpoint[1],
        saved.metadata[0],
        saved.metadata[1],
        json.dumps(saved.metadata_json),
    )


async def _save_writes(conn: Any, event: Event) -> None:
    saved = cpe.SavedWrites.from_payload(json.loads(event.payload_json))
    await conn.execute(
        _UPSERT_WRITES if saved.overwrite else _INSERT_WRITES,
        event.thread_id,
        saved.checkpoint_ns,
        saved.checkpoint_id,
        saved.task_id,
        saved.task_path,
        [w.idx for w in saved.writes],
        [w.channel for w in saved.writes],
        [w.value[0] for w in saved.writes],
        [w.value[1] for w in saved.writes],
    )


@dataclass(frozen=True, slots=True)
class StoredWrite:
    """A pending write as read back."""

    task_id: str
    channel: str
    value: cpe.Typed
    task_path: str
    idx: int


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint row with its pending writes."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    parent_checkpoint_id: str
    run_id: str
    checkpoint: cpe.Typed
    metadata: cpe.Typed
    pending_writes: tuple[StoredWrite, ...]


@dataclass(frozen=True, slots=True)
class CheckpointQuery:
    """Which checkpoints to list (see LangGraph's `BaseCheckpointSaver.list`)."""

    thread_id: str = ""
    checkpoint_ns: str | None = None
    checkpoint_id: str = ""
    before_checkpoint_id: str = ""
    metadata_filter: dict[str, Any] | None = None
    limit: int | None = None


_CHECKPOINT_COLUMNS = (
    "thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id, "
    "checkpoint_type, checkpoint, metadata_type, metadata"
)

_WRITES_OF = """
SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, value_type, value,
       task_path
FROM checkpoint_writes
WHERE (thread_id, checkpoint_ns, checkpoint_id) IN (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
ORDER BY task_path COLLATE "C", task_id COLLATE "C", idx
"""


class CheckpointReader:
    """Reads the checkpoint tables."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str
    ) -> StoredCheckpoint | None:
        """The checkpoint, or the latest of the thread and namespace."""
        query = CheckpointQuery(
            thread_id=thread_id, checkpoint_ns=checkpoint_ns, checkpoint_id=checkpoint_id, limit=1
        )
        found = await self.search(query)
        return found[0] if found else None

    async def search(self, query: CheckpointQuery) -> list[StoredCheckpoint]:
        """Checkpoints matching the query, newest first."""
        clauses: list[str] = []
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if query.thread_id:
            clauses.append(f"thread_id = {arg(query.thread_id)}")
        if query.checkpoint_ns is not None:
            clauses.append(f"checkpoint_ns = {arg(query.checkpoint_ns)}")
        if query.checkpoint_id:
            clauses.append(f"checkpoint_id = {arg(query.checkpoint_id)}")
        if query.before_checkpoint_id:
            clauses.append(f'checkpoint_id COLLATE "C" < {arg(query.before_checkpoint_id)}')
        for key, value in (query.metadata_filter or {}).items():
            # Equality of each entry, as LangGraph's savers filter metadata.
            clauses.append(f"metadata_json -> {arg(key)} = {arg(json.dumps(value))}::jsonb")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        limit = f"LIMIT {arg(query.limit)}" if query.limit is not None else ""
        sql = (
            f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints {where} "
            f'ORDER BY checkpoint_id COLLATE "C" DESC, thread_id, checkpoint_ns {limit}'
        )
        async with driver_connection(self._engine, "list checkpoints") as conn:
            rows = await conn.fetch(sql, *args)
            if not rows:
                return []
            keys = [(r["thread_id"], r["checkpoint_ns"], r["checkpoint_id"]) for r in rows]
            write_rows = await conn.fetch(
                _WRITES_OF, [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]
            )
        writes: dict[tuple[str, str, str], list[StoredWrite]] = {}
        for w in write_rows:
            writes.setdefault((w["thread_id"], w["checkpoint_ns"], w["checkpoint_id"]), []).append(
                StoredWrite(
                    task_id=w["task_id"],
                    channel=w["channel"],
                    value=(w["value_type"], bytes(w["value"])),
                    task_path=w["task_path"],
                    idx=w["idx"],
                )
            )
        return [
            StoredCheckpoint(
                thread_id=r["thread_id"],
                checkpoint_ns=r["checkpoint_ns"],
                checkpoint_id=r["checkpoint_id"],
                parent_checkpoint_id=r["parent_checkpoint_id"],
                run_id=r["run_id"],
                checkpoint=(r["checkpoint_type"], bytes(r["checkpoint"])),
                metadata=(r["metadata_type"], bytes(r["metadata"])),
                pending_writes=tuple(writes.get(k, ())),
            )
            for r, k in zip(rows, keys, strict=True)
        ]

    async def threads_of_runs(self, run_ids: Sequence[str]) -> list[str]:
        """Threads holding checkpoints written by these runs."""
        async with driver_connection(self._engine, "threads of runs") as conn:
            return [r["thread_id"] for r in await conn.fetch(_THREADS_OF_RUNS, list(run_ids))]
