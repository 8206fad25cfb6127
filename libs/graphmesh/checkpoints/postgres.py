"""The checkpoint tables, kept from stored events, and their queries.

`apply_checkpoint_events` runs inside the event store's append transaction
(connection of the asyncpg driver), so a checkpoint is readable exactly when
the event that carries it is stored. `PostgresCheckpointReader` answers the
checkpoint service's reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh import envelope as ev
from graphmesh.checkpoints import events as cpe
from graphmesh.checkpoints.reader import (
    CheckpointQuery,
    CheckpointReader,
    StoredCheckpoint,
    StoredWrite,
)
from graphmesh.db import SqlArgs, driver_connection
from graphmesh.envelope import Event

_UPSERT_CHECKPOINTS = """
INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id,
                         checkpoint_type, checkpoint, metadata_type, metadata, metadata_json)
SELECT t, n, i, p, r, ct, c, mt, m, mj::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[],
            $8::text[], $9::bytea[], $10::text[]) AS x(t, n, i, p, r, ct, c, mt, m, mj)
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
    parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, run_id = EXCLUDED.run_id,
    checkpoint_type = EXCLUDED.checkpoint_type, checkpoint = EXCLUDED.checkpoint,
    metadata_type = EXCLUDED.metadata_type, metadata = EXCLUDED.metadata,
    metadata_json = EXCLUDED.metadata_json
"""

_WRITES_SOURCE = """
INSERT INTO checkpoint_writes
    (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, value_type, value, task_path)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[],
                     $7::text[], $8::bytea[], $9::text[])
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
    append transaction). Events of other types change nothing here.
    Consecutive saves are applied together, a few statements per batch: the
    append lock is held meanwhile, so its time is every run's time."""
    saves: list[Event] = []
    for event in events:
        if event.type in (cpe.CHECKPOINT_SAVED, cpe.WRITES_SAVED):
            saves.append(event)
            continue
        if event.type not in _TABLE_CHANGES and event.type != ev.RUN_CANCELLED:
            continue  # progress events: nothing to do here, keep the batch whole
        if saves:
            await _apply_saves(conn, saves)
            saves = []
        await _apply_one(conn, event)
    if saves:
        await _apply_saves(conn, saves)


_TABLE_CHANGES = frozenset(
    {
        cpe.CHECKPOINTS_DELETED,
        cpe.THREAD_DELETED,
        cpe.CHECKPOINTS_COPIED,
        cpe.CHECKPOINTS_PRUNED,
        cpe.RUN_CHECKPOINTS_DELETED,
    }
)


async def _apply_one(conn: Any, event: Event) -> None:
    if event.type in (cpe.CHECKPOINTS_DELETED, cpe.THREAD_DELETED):
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
    elif event.type == ev.RUN_CANCELLED and cpe.is_rollback(event):
        # The rollback strategy: the cancelled run leaves no state behind.
        await conn.execute(_DELETE_RUNS, event.thread_id, [event.run_id])


async def _apply_saves(conn: Any, events: list[Event]) -> None:
    """Checkpoints and writes of consecutive events, in one statement per
    kind. One statement may not touch a row twice, so for each key the last
    checkpoint and overwriting write wins and the first regular write stays,
    as applying the events one by one would leave them."""
    checkpoints: dict[tuple[str, str, str], list[Any]] = {}
    upserts: dict[tuple[str, str, str, str, int], list[Any]] = {}
    inserts: dict[tuple[str, str, str, str, int], list[Any]] = {}
    for event in events:
        payload = json.loads(event.payload_json)
        if event.type == cpe.CHECKPOINT_SAVED:
            c = cpe.SavedCheckpoint.from_payload(payload)
            checkpoints[(event.thread_id, c.checkpoint_ns, c.checkpoint_id)] = [
                event.thread_id,
                c.checkpoint_ns,
                c.checkpoint_id,
                c.parent_checkpoint_id,
                c.run_id,
                c.checkpoint[0],
                c.checkpoint[1],
                c.metadata[0],
                c.metadata[1],
                json.dumps(c.metadata_json),
            ]
            continue
        w = cpe.SavedWrites.from_payload(payload)
        for write in w.writes:
            key = (event.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, write.idx)
            row = [*key, write.channel, write.value[0], write.value[1], w.task_path]
            if w.overwrite:
                upserts[key] = row
            else:
                inserts.setdefault(key, row)
    if checkpoints:
        await conn.execute(_UPSERT_CHECKPOINTS, *_columns(list(checkpoints.values()), 10))
    for rows, statement in ((upserts, _UPSERT_WRITES), (inserts, _INSERT_WRITES)):
        if rows:
            await conn.execute(statement, *_columns(list(rows.values()), 9))


def _columns(rows: list[list[Any]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


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


class PostgresCheckpointReader(CheckpointReader):
    """Reads the checkpoint tables in PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def search(self, query: CheckpointQuery) -> list[StoredCheckpoint]:
        """Checkpoints matching the query, newest first."""
        clauses: list[str] = []
        arg = SqlArgs()

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
            rows = await conn.fetch(sql, *arg.values)
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
