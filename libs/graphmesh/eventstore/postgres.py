"""The event store in PostgreSQL.

SQLAlchemy owns the engine, the pool and the schema (created by the alembic
migrations); the hot statements here run on the pooled connection's asyncpg
driver with hand-written SQL, since they are on every run's critical path
and SQLAlchemy's statement layer costs more than the database does (0.7 ms
against 0.2 ms for a read, measured). Each batch append is one transaction of
a few statements whatever its size.

Appends are serialised by a transaction-level advisory lock, so that store
positions become visible in commit order: the projector tails events by
position and must never skip one that commits late.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh import envelope as ev
from graphmesh.checkpoints import events as cpe
from graphmesh.checkpoints.postgres import apply_checkpoint_events
from graphmesh.db import CANCELS_CHANNEL, EVENTS_CHANNEL, driver_connection, json_object
from graphmesh.envelope import Event
from graphmesh.errors import AlreadyExists, FailedPrecondition
from graphmesh.eventstore import postgres_sql as sql
from graphmesh.eventstore import postgres_threads as threads
from graphmesh.eventstore.group import GroupAppender
from graphmesh.eventstore.interface import EventStore, run_not_found, thread_not_found
from graphmesh.eventstore.rules import (
    AppendOutcome,
    ClaimOutcome,
    ClaimResult,
    RunHead,
    ThreadEventIn,
    apply_to_thread,
    check_latest_parent,
    judge_append,
    judge_claim,
)

#: Key of the advisory lock that serialises appends (an arbitrary constant).
APPEND_LOCK_KEY = 0x6772_6D73_6801
_NOTIFY_CHUNK = 200  # run ids per NOTIFY payload, well under its 8000-byte limit


def _event_from_row(row: Any) -> Event:
    return Event(
        run_id=row["run_id"],
        thread_id=row["thread_id"],
        seq=row["seq"],
        attempt=row["attempt"],
        type=row["type"],
        payload_json=row["payload"],
        time=row["time"],
        schema_version=row["schema_version"],
        event_id=row["event_id"],
        position=row["position"],
        trace_context=row["trace_context"],
    )


def _head_from_row(row: Any) -> RunHead:
    return RunHead(
        run_id=row["run_id"],
        thread_id=row["thread_id"],
        last_seq=row["last_seq"],
        attempt=row["attempt"],
        ended=row["ended"],
        lease_owner=row["lease_owner"],
        lease_until=row["lease_until"],
        republished=row["republished"],
        cancel_action=row["cancel_action"],
    )


class PostgresEventStore(EventStore):
    """The event store over a SQLAlchemy async engine (asyncpg).

    `committed`, if given, hears what each committed append announces on
    the events channel ("run_id", or "run_id!" for a run that ended) and
    the events it stored, as soon as its transaction has committed: the
    service that appended wakes its own watchers without waiting for
    PostgreSQL's notification to come back (which still wakes every other
    process's). Its notifications then start with "@origin", so that the
    process can tell its own from others'."""

    def __init__(
        self,
        engine: AsyncEngine,
        committed: Callable[[list[str], list[Event]], None] | None = None,
        origin: str = "",
    ) -> None:
        self._engine = engine
        self._committed = committed
        self._tag = [f"@{origin}"] if origin and committed is not None else []
        # Concurrent appends share transactions (see GroupAppender).
        self._group = GroupAppender(self._append_together)

    def _driver(self, what: str) -> AbstractAsyncContextManager[Any]:
        return driver_connection(self._engine, what)

    async def append(self, batch: Sequence[Event]) -> list[AppendOutcome]:
        return await self._group.append(batch)

    async def _append_together(self, batch: list[Event]) -> list[AppendOutcome]:
        """One transaction for `batch` (the appends of several callers)."""
        announced: list[str] = []
        async with self._driver("append") as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", APPEND_LOCK_KEY)
            rows = await conn.fetch(sql.LOCK_HEADS, sorted({e.run_id for e in batch}))
            heads: dict[str, RunHead | None] = {r["run_id"]: _head_from_row(r) for r in rows}
            stored = await self._stored_attempts(conn, batch, heads)
            thread_heads = await threads.lock_thread_heads(
                conn, [e.thread_id for e in batch if e.type == ev.RUN_CREATED or e.is_terminal]
            )
            outcomes: list[AppendOutcome] = []
            appended: list[Event] = []
            rejected: list[tuple[Event, AppendOutcome]] = []
            touches: dict[str, threads.ThreadTouch] = {}
            cancels: list[tuple[str, str, str]] = []
            for event in batch:
                key = (event.run_id, event.seq)
                outcome, head = judge_append(heads.get(event.run_id), event, stored.get(key))
                outcome, cancel = apply_to_thread(outcome, event, thread_heads)
                if cancel:
                    cancels.append((event.thread_id, event.run_id, cancel))
                outcomes.append(outcome)
                if outcome is AppendOutcome.APPENDED:
                    heads[event.run_id] = head
                    stored[key] = event.attempt
                    appended.append(event)
                    if event.type == ev.RUN_CREATED or event.is_terminal:
                        threads.touch(touches, event)
                elif outcome.is_rejection:
                    rejected.append((event, outcome))
            if appended:
                announced = await self._write(conn, appended, heads)
                await threads.write_touches(conn, touches)
                for thread_id, run_id, action in cancels:
                    await threads.mark_cancelled(conn, thread_id, run_id, action)
                await apply_checkpoint_events(conn, appended)
            if rejected:
                await _record_rejections(conn, rejected)
        if announced and self._committed is not None:
            self._committed(announced, appended)
        return outcomes

    async def append_thread(
        self,
        thread_id: str,
        events: Sequence[ThreadEventIn],
        *,
        require_no_runs: bool = False,
        require_latest_parent: bool = False,
    ) -> tuple[int, int]:
        async with self._driver("append_thread") as conn, conn.transaction():
            # The append lock first, then the thread's: the order claims
            # cannot cycle with (they take heads, then the thread's lock).
            await conn.execute("SELECT pg_advisory_xact_lock($1)", APPEND_LOCK_KEY)
            await conn.execute(sql.LOCK_THREADS, [thread_id])
            row = await threads.lock_stream(conn, thread_id)
            last_seq = row["last_seq"] if row is not None else 0
            known = {
                r["event_id"]
                for r in await conn.fetch(
                    "SELECT event_id FROM events WHERE event_id = ANY($1::text[])",
                    [e.event_id for e in events],
                )
            }
            fresh = [e for e in events if e.event_id not in known]
            if not fresh:
                return last_seq, 0
            if row is not None and row["deleted"]:
                raise FailedPrecondition(
                    f"thread {thread_id} was deleted",
                    reason="THREAD_DELETED",
                    field="thread_id",
                    metadata={"thread_id": thread_id},
                )
            if require_no_runs and row is not None and row["open_runs"] > 0:
                raise FailedPrecondition(
                    f"thread {thread_id} has a run pending or running",
                    reason="THREAD_BUSY",
                    field="thread_id",
                    metadata={"thread_id": thread_id},
                )
            if require_latest_parent:
                latest = await conn.fetchval(sql.LATEST_ROOT_CHECKPOINT, thread_id) or ""
                check_latest_parent(thread_id, latest, fresh)
            metadata = json_object(row["metadata"]) if row is not None else {}
            graph_id = ""
            deleted = False
            now = datetime.now(UTC)
            stored: list[Event] = []
            for item in fresh:
                if item.type == cpe.THREAD_CREATED:
                    if row is not None or stored:
                        raise AlreadyExists(
                            f"thread {thread_id} exists",
                            reason="THREAD_EXISTS",
                            field="thread_id",
                            metadata={"thread_id": thread_id},
                        )
                    created = json.loads(item.payload_json)
                    metadata = dict(created.get("metadata") or {})
                    graph_id = str(created.get("graph_id") or "")
                elif item.type == cpe.THREAD_UPDATED:
                    if row is None and not any(e.type == cpe.THREAD_CREATED for e in stored):
                        raise thread_not_found(thread_id)
                    metadata.update(json.loads(item.payload_json).get("metadata") or {})
                deleted = deleted or item.type == cpe.THREAD_DELETED
                last_seq += 1
                stored.append(
                    Event(
                        run_id=cpe.thread_stream_id(thread_id),
                        thread_id=thread_id,
                        seq=last_seq,
                        attempt=0,
                        type=item.type,
                        payload_json=item.payload_json,
                        time=now,
                        event_id=item.event_id,
                    )
                )
            await conn.execute(
                sql.INSERT_STREAM_EVENTS,
                [e.event_id for e in stored],
                [e.run_id for e in stored],
                [e.thread_id for e in stored],
                [e.seq for e in stored],
                [e.type for e in stored],
                [e.time for e in stored],
                [e.payload_json for e in stored],
                EVENTS_CHANNEL,
                stored[0].run_id,
            )
            await threads.save_stream(conn, thread_id, last_seq, metadata, now, deleted, graph_id)
            await apply_checkpoint_events(conn, stored)
            return last_seq, len(stored)

    async def cancel_requests(self, run_ids: Sequence[str]) -> dict[str, str]:
        if not run_ids:
            return {}
        async with self._driver("cancel_requests") as conn:
            rows = await conn.fetch(sql.CANCEL_REQUESTS, list(run_ids))
            return {r["run_id"]: r["cancel_action"] for r in rows}

    async def _stored_attempts(
        self, conn: Any, batch: Sequence[Event], heads: dict[str, RunHead | None]
    ) -> dict[tuple[str, int], int]:
        """Attempts of stored events at the (run, seq) of events that would be
        re-sends, so that a duplicate can be told from a conflict."""
        keys = [
            (e.run_id, e.seq)
            for e in batch
            if (head := heads.get(e.run_id)) is not None and e.seq <= head.last_seq
        ]
        if not keys:
            return {}
        rows = await conn.fetch(sql.STORED_ATTEMPTS, [k[0] for k in keys], [k[1] for k in keys])
        return {(r["run_id"], r["seq"]): r["attempt"] for r in rows}

    async def _write(
        self, conn: Any, appended: list[Event], heads: dict[str, RunHead | None]
    ) -> list[str]:
        """Writes the events and their runs' heads; returns what it announced."""
        touched = sorted({e.run_id for e in appended})
        moved = [h for r in touched if (h := heads[r]) is not None]
        created = {e.run_id for e in appended if e.type == ev.RUN_CREATED}
        # "run_id!" announces that the run ended, "run_id+" that it was
        # created (its command is on its way to the executors), "run_id"
        # that it progressed.
        announced = [
            f"{h.run_id}!" if h.ended else f"{h.run_id}+" if h.run_id in created else h.run_id
            for h in moved
        ]
        await conn.execute(
            sql.WRITE,
            [e.event_id for e in appended],
            [e.run_id for e in appended],
            [e.thread_id for e in appended],
            [e.seq for e in appended],
            [e.attempt for e in appended],
            [e.type for e in appended],
            [e.schema_version for e in appended],
            [e.time for e in appended],
            [e.payload_json for e in appended],
            [h.run_id for h in moved],
            [h.thread_id for h in moved],
            [h.last_seq for h in moved],
            [h.attempt for h in moved],
            [h.ended for h in moved],
            EVENTS_CHANNEL,
            ",".join(self._tag + announced[:_NOTIFY_CHUNK]),
            [e.trace_context for e in appended],
        )
        for i in range(_NOTIFY_CHUNK, len(announced), _NOTIFY_CHUNK):
            chunk = ",".join(self._tag + announced[i : i + _NOTIFY_CHUNK])
            await conn.execute("SELECT pg_notify($1, $2)", EVENTS_CHANNEL, chunk)
        return announced

    async def read(self, run_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        async with self._driver("read") as conn:
            events = [
                _event_from_row(r) for r in await conn.fetch(sql.READ, run_id, after_seq, limit)
            ]
        if not events and await self.head(run_id) is None:
            raise run_not_found(run_id)
        return events

    async def head(self, run_id: str) -> RunHead | None:
        async with self._driver("head") as conn:
            row = await conn.fetchrow(sql.HEAD, run_id)
            return _head_from_row(row) if row is not None else None

    async def read_all(
        self, after_position: int, limit: int, payload_types: Collection[str] | None = None
    ) -> list[Event]:
        async with self._driver("read_all") as conn:
            if payload_types is None:
                rows = await conn.fetch(sql.READ_ALL, after_position, limit)
            else:
                rows = await conn.fetch(
                    sql.READ_ALL_TRIMMED, after_position, limit, sorted(payload_types)
                )
            return [_event_from_row(r) for r in rows]

    async def last_position(self) -> int:
        async with self._driver("last_position") as conn:
            return int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM events"))

    async def has_unended_runs(self) -> bool:
        async with self._driver("has_unended_runs") as conn:
            return bool(await conn.fetchval(sql.HAS_UNENDED_RUNS))

    async def claim_many(
        self, run_ids: Sequence[str], executor_id: str, lease_ms: int, max_attempts: int = 0
    ) -> list[ClaimResult]:
        if not run_ids:
            return []
        async with self._driver("claim") as conn, conn.transaction():
            rows = await conn.fetch(sql.LOCK_HEADS, sorted(set(run_ids)))
            heads = {r["run_id"]: _head_from_row(r) for r in rows}
            threads = sorted({h.thread_id for h in heads.values()})
            # Claims of one thread are serialised, so that two executors
            # cannot both find the thread idle and start a run each.
            await conn.execute(sql.LOCK_THREADS, threads)
            active: dict[str, RunHead] = {
                r["thread_id"]: _head_from_row(r)
                for r in await conn.fetch(sql.ACTIVE_RUNS, threads)
            }
            now, lease = datetime.now(UTC), timedelta(milliseconds=lease_ms)
            decided: dict[str, ClaimResult] = {}
            changed: list[RunHead] = []
            for run_id in run_ids:
                if run_id in decided:
                    continue
                head = heads.get(run_id)
                thread_active = active.get(head.thread_id) if head is not None else None
                decided[run_id], new_head = judge_claim(
                    head, executor_id, now, lease, thread_active, max_attempts
                )
                if new_head is not None and new_head != head:
                    changed.append(new_head)
                    if decided[run_id].outcome is ClaimOutcome.CLAIMED:
                        active[new_head.thread_id] = new_head
            if changed:
                await conn.execute(
                    sql.CLAIM,
                    [h.run_id for h in changed],
                    [h.attempt for h in changed],
                    [h.lease_owner for h in changed],
                    [h.lease_until for h in changed],
                    [h.republished for h in changed],
                )
            return [decided[r] for r in run_ids]

    async def mark_cancel(self, run_id: str, action: str) -> RunHead | None:
        async with self._driver("mark_cancel") as conn:
            row = await conn.fetchrow(sql.MARK_CANCEL, run_id, action, CANCELS_CHANNEL)
            if row is not None:
                return _head_from_row(row)
            row = await conn.fetchrow(sql.HEAD, run_id)
            return _head_from_row(row) if row is not None else None

    async def renew(self, executor_id: str, run_ids: Sequence[str], lease_ms: int) -> list[str]:
        if not run_ids:
            return []
        async with self._driver("renew") as conn:
            rows = await conn.fetch(sql.RENEW, list(run_ids), executor_id, lease_ms)
            kept = {r["run_id"] for r in rows}
            return [r for r in run_ids if r not in kept]

    async def take_stale_commands(self, older_than: timedelta, limit: int) -> list[Event]:
        async with self._driver("take_stale_commands") as conn:
            ms = older_than / timedelta(milliseconds=1)
            return [_event_from_row(r) for r in await conn.fetch(sql.TAKE_STALE, ms, limit)]

    async def rejections(self, run_id: str | None = None) -> int:
        async with self._driver("rejections") as conn:
            if run_id is None:
                return int(await conn.fetchval("SELECT count(*) FROM event_rejections"))
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM event_rejections WHERE run_id = $1", run_id
                )
            )


async def _record_rejections(conn: Any, rejected: list[tuple[Event, AppendOutcome]]) -> None:
    now = datetime.now(UTC)
    await conn.execute(
        sql.REJECT,
        [e.event_id for e, _ in rejected],
        [e.run_id for e, _ in rejected],
        [e.seq for e, _ in rejected],
        [e.attempt for e, _ in rejected],
        [o.name for _, o in rejected],
        [now for _ in rejected],
    )
