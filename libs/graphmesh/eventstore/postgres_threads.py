"""Threads on the write side of PostgreSQL: their records and streams.

A thread's record (`threads` table) is kept in the append transactions: a
RunCreated opens a run on it (creating the record the first time), a
terminal event closes one, and the thread's own stream (state updates,
deletion...) moves its head. The multitask rules (`judge_admission`) are
applied to a RunCreated against the record, under the append lock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphmesh import envelope as ev
from graphmesh.checkpoints import events as cpe
from graphmesh.db import CANCELS_CHANNEL
from graphmesh.envelope import Event
from graphmesh.eventstore.rules import ThreadHead

_LOCK_THREAD_ROWS = """
SELECT thread_id, open_runs, deleted FROM threads WHERE thread_id = ANY($1::text[])
ORDER BY thread_id FOR UPDATE
"""

# One statement for every thread a batch of run events touched.
_TOUCH_THREADS = """
INSERT INTO threads (thread_id, stream_id, last_seq, metadata, created_at, updated_at, graph_id,
                     last_run_id, last_outcome, open_runs)
SELECT t, s, 0, '{}'::jsonb, u, u, g, r, o, n
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
            $7::int[]) AS x(t, s, u, g, r, o, n)
ON CONFLICT (thread_id) DO UPDATE SET
    updated_at = EXCLUDED.updated_at,
    graph_id = CASE WHEN EXCLUDED.graph_id = '' THEN threads.graph_id ELSE EXCLUDED.graph_id END,
    last_run_id = CASE WHEN EXCLUDED.last_run_id = '' THEN threads.last_run_id
                       ELSE EXCLUDED.last_run_id END,
    last_outcome = CASE WHEN EXCLUDED.last_outcome = '' THEN threads.last_outcome
                        ELSE EXCLUDED.last_outcome END,
    open_runs = threads.open_runs + EXCLUDED.open_runs
"""

_MARK_CANCELLED = """
WITH marked AS (
    UPDATE run_heads SET cancel_action = $3
    WHERE run_id IN (
        SELECT run_id FROM run_heads WHERE thread_id = $1 AND NOT ended AND run_id <> $2
        ORDER BY run_id FOR UPDATE
    )
    RETURNING run_id, lease_owner
)
SELECT pg_notify($4, lease_owner || ' ' || run_id || ' ' || $3) FROM marked
WHERE lease_owner <> ''
"""

THREAD_COLUMNS = (
    "thread_id, stream_id, last_seq, metadata, created_at, updated_at, graph_id, last_run_id, "
    "last_outcome, open_runs, deleted"
)

_LOCK_STREAM = f"SELECT {THREAD_COLUMNS} FROM threads WHERE thread_id = $1 FOR UPDATE"

_SAVE_STREAM = """
INSERT INTO threads (thread_id, stream_id, last_seq, metadata, created_at, updated_at, deleted,
                     graph_id)
VALUES ($1, $2, $3, $4::jsonb, $5, $5, $6, $7)
ON CONFLICT (thread_id) DO UPDATE SET
    last_seq = EXCLUDED.last_seq, metadata = EXCLUDED.metadata,
    updated_at = EXCLUDED.updated_at, deleted = EXCLUDED.deleted,
    graph_id = CASE WHEN EXCLUDED.graph_id = '' THEN threads.graph_id ELSE EXCLUDED.graph_id END
"""


@dataclass(slots=True)
class ThreadTouch:
    """What a batch of run events did to one thread's record."""

    updated_at: datetime
    graph_id: str = ""
    last_run_id: str = ""
    last_outcome: str = ""
    opened: int = 0


async def lock_thread_heads(conn: Any, thread_ids: Sequence[str]) -> dict[str, ThreadHead]:
    """The records of these threads, locked for the transaction; a thread
    with no record gets a head that says so."""
    rows = await conn.fetch(_LOCK_THREAD_ROWS, sorted(set(thread_ids)))
    heads = {r["thread_id"]: ThreadHead(r["thread_id"], r["open_runs"], r["deleted"]) for r in rows}
    for thread_id in thread_ids:
        heads.setdefault(thread_id, ThreadHead(thread_id, exists=False))
    return heads


def touch(touches: dict[str, ThreadTouch], event: Event) -> None:
    """Records what an appended run event does to its thread."""
    t = touches.setdefault(event.thread_id, ThreadTouch(updated_at=event.time))
    t.updated_at = max(t.updated_at, event.time)
    if event.type == ev.RUN_CREATED:
        t.graph_id = str(json.loads(event.payload_json).get("graph_id", ""))
        t.last_run_id = event.run_id
        t.opened += 1
    elif event.is_terminal:
        t.last_outcome = event.type
        t.opened -= 1


async def write_touches(conn: Any, touches: dict[str, ThreadTouch]) -> None:
    """Saves what a batch did to its threads."""
    if not touches:
        return
    ids = sorted(touches)
    await conn.execute(
        _TOUCH_THREADS,
        ids,
        [cpe.thread_stream_id(t) for t in ids],
        [touches[t].updated_at for t in ids],
        [touches[t].graph_id for t in ids],
        [touches[t].last_run_id for t in ids],
        [touches[t].last_outcome for t in ids],
        [touches[t].opened for t in ids],
    )


async def mark_cancelled(conn: Any, thread_id: str, except_run: str, action: str) -> None:
    """Asks every other unfinished run of the thread to stop, and tells the
    executors holding them."""
    await conn.execute(_MARK_CANCELLED, thread_id, except_run, action, CANCELS_CHANNEL)


async def lock_stream(conn: Any, thread_id: str) -> Any:
    """The thread's record row, locked, or None."""
    return await conn.fetchrow(_LOCK_STREAM, thread_id)


async def save_stream(
    conn: Any,
    thread_id: str,
    last_seq: int,
    metadata: dict[str, str],
    updated_at: datetime,
    deleted: bool,
    graph_id: str = "",
) -> None:
    """Saves the thread stream's head (creating the record if needed); a
    `graph_id` given (a copy's: its source's graph) becomes the thread's."""
    await conn.execute(
        _SAVE_STREAM,
        thread_id,
        cpe.thread_stream_id(thread_id),
        last_seq,
        json.dumps(metadata),
        updated_at,
        deleted,
        graph_id,
    )
