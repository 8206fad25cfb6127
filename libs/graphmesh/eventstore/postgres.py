"""The event store in PostgreSQL.

Appends are serialised by a transaction-level advisory lock so that store
positions become visible in commit order: the projector tails events by
position and must never skip one that commits late.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from graphmesh.db import EVENTS_CHANNEL, translate_errors
from graphmesh.envelope import Event
from graphmesh.eventstore.base import (
    AppendOutcome,
    ClaimResult,
    EventStore,
    RunHead,
    judge_append,
    judge_claim,
)
from graphmesh.schema import event_rejections, events, run_heads

#: Key of the advisory lock that serialises appends (an arbitrary constant).
_APPEND_LOCK_KEY = 0x6772_6D73_6801
_NOTIFY_CHUNK = 200  # run ids per NOTIFY payload, well under its 8000-byte limit

_EVENT_COLUMNS = (
    events.c.position,
    events.c.event_id,
    events.c.run_id,
    events.c.thread_id,
    events.c.seq,
    events.c.attempt,
    events.c.type,
    events.c.schema_version,
    events.c.time,
    events.c.payload,
)


def _event_from_row(row: Any) -> Event:
    return Event(
        run_id=row.run_id,
        thread_id=row.thread_id,
        seq=row.seq,
        attempt=row.attempt,
        type=row.type,
        payload_json=row.payload,
        time=row.time,
        schema_version=row.schema_version,
        event_id=row.event_id,
        position=row.position,
    )


def _head_from_row(row: Any) -> RunHead:
    return RunHead(
        run_id=row.run_id,
        thread_id=row.thread_id,
        last_seq=row.last_seq,
        attempt=row.attempt,
        ended=row.ended,
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
    )


async def _lock_heads(conn: AsyncConnection, run_ids: Sequence[str]) -> dict[str, RunHead]:
    rows = await conn.execute(
        select(run_heads).where(run_heads.c.run_id.in_(sorted(set(run_ids)))).with_for_update()
    )
    return {row.run_id: _head_from_row(row) for row in rows}


class PostgresEventStore(EventStore):
    """The event store over a SQLAlchemy async engine (asyncpg)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def append(self, batch: Sequence[Event]) -> list[AppendOutcome]:
        if not batch:
            return []
        async with translate_errors("append"), self._engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _APPEND_LOCK_KEY})
            heads: dict[str, RunHead | None] = dict(
                await _lock_heads(conn, [e.run_id for e in batch])
            )
            stored_attempts = await self._stored_attempts(conn, batch, heads)
            outcomes: list[AppendOutcome] = []
            new_rows: list[dict[str, Any]] = []
            rejected: list[dict[str, Any]] = []
            touched: set[str] = set()
            for event in batch:
                outcome, head = judge_append(
                    heads.get(event.run_id), event, stored_attempts.get((event.run_id, event.seq))
                )
                outcomes.append(outcome)
                if outcome is AppendOutcome.APPENDED:
                    heads[event.run_id] = head
                    touched.add(event.run_id)
                    stored_attempts[(event.run_id, event.seq)] = event.attempt
                    new_rows.append(_event_row(event))
                elif outcome.is_rejection:
                    rejected.append(_rejection_row(event, outcome))
            if new_rows:
                await conn.execute(events.insert(), new_rows)
                await self._save_heads(conn, [h for r in touched if (h := heads[r]) is not None])
                for i in range(0, len(touched), _NOTIFY_CHUNK):
                    chunk = ",".join(sorted(touched)[i : i + _NOTIFY_CHUNK])
                    await conn.execute(
                        text("SELECT pg_notify(:c, :p)"), {"c": EVENTS_CHANNEL, "p": chunk}
                    )
            if rejected:
                await conn.execute(event_rejections.insert(), rejected)
            return outcomes

    async def _stored_attempts(
        self, conn: AsyncConnection, batch: Sequence[Event], heads: dict[str, RunHead | None]
    ) -> dict[tuple[str, int], int]:
        """Attempts of stored events at the (run, seq) of events that would be
        re-sends, so duplicates can be told from conflicts."""
        keys = []
        for e in batch:
            head = heads.get(e.run_id)
            if head is not None and e.seq <= head.last_seq:
                keys.append((e.run_id, e.seq))
        if not keys:
            return {}
        rows = await conn.execute(
            select(events.c.run_id, events.c.seq, events.c.attempt).where(
                tuple_(events.c.run_id, events.c.seq).in_(keys)
            )
        )
        return {(r.run_id, r.seq): r.attempt for r in rows}

    async def _save_heads(self, conn: AsyncConnection, heads: list[RunHead]) -> None:
        stmt = pg_insert(run_heads).values(
            [
                {
                    "run_id": h.run_id,
                    "thread_id": h.thread_id,
                    "last_seq": h.last_seq,
                    "attempt": h.attempt,
                    "ended": h.ended,
                    "lease_owner": h.lease_owner,
                    "lease_until": h.lease_until,
                }
                for h in heads
            ]
        )
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[run_heads.c.run_id],
                set_={"last_seq": stmt.excluded.last_seq, "ended": stmt.excluded.ended},
            )
        )

    async def read(self, run_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        async with translate_errors("read"), self._engine.connect() as conn:
            rows = await conn.execute(
                select(*_EVENT_COLUMNS)
                .where(and_(events.c.run_id == run_id, events.c.seq > after_seq))
                .order_by(events.c.seq)
                .limit(limit)
            )
            return [_event_from_row(r) for r in rows]

    async def head(self, run_id: str) -> RunHead | None:
        async with translate_errors("head"), self._engine.connect() as conn:
            row = (
                await conn.execute(select(run_heads).where(run_heads.c.run_id == run_id))
            ).first()
            return _head_from_row(row) if row is not None else None

    async def read_all(self, after_position: int, limit: int) -> list[Event]:
        async with translate_errors("read_all"), self._engine.connect() as conn:
            rows = await conn.execute(
                select(*_EVENT_COLUMNS)
                .where(events.c.position > after_position)
                .order_by(events.c.position)
                .limit(limit)
            )
            return [_event_from_row(r) for r in rows]

    async def claim(self, run_id: str, executor_id: str, lease_ms: int) -> ClaimResult:
        async with translate_errors("claim"), self._engine.begin() as conn:
            head = (await _lock_heads(conn, [run_id])).get(run_id)
            now = datetime.now(UTC)
            result, new_head = judge_claim(head, executor_id, now, timedelta(milliseconds=lease_ms))
            if new_head is not None and new_head != head:
                await conn.execute(
                    update(run_heads)
                    .where(run_heads.c.run_id == run_id)
                    .values(
                        attempt=new_head.attempt,
                        lease_owner=new_head.lease_owner,
                        lease_until=new_head.lease_until,
                    )
                )
            return result

    async def renew(self, executor_id: str, run_ids: Sequence[str], lease_ms: int) -> list[str]:
        if not run_ids:
            return []
        async with translate_errors("renew"), self._engine.begin() as conn:
            rows = await conn.execute(
                update(run_heads)
                .where(
                    and_(
                        run_heads.c.run_id.in_(list(run_ids)),
                        run_heads.c.lease_owner == executor_id,
                        run_heads.c.ended.is_(False),
                    )
                )
                .values(lease_until=func.now() + bindparam("lease", timedelta(milliseconds=lease_ms)))
                .returning(run_heads.c.run_id)
            )
            kept = {r.run_id for r in rows}
            return [r for r in run_ids if r not in kept]

    async def rejections(self, run_id: str | None = None) -> int:
        query = select(func.count()).select_from(event_rejections)
        if run_id is not None:
            query = query.where(event_rejections.c.run_id == run_id)
        async with translate_errors("rejections"), self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())


def _event_row(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "run_id": event.run_id,
        "thread_id": event.thread_id,
        "seq": event.seq,
        "attempt": event.attempt,
        "type": event.type,
        "schema_version": event.schema_version,
        "time": event.time,
        "payload": event.payload_json,
    }


def _rejection_row(event: Event, outcome: AppendOutcome) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "run_id": event.run_id,
        "seq": event.seq,
        "attempt": event.attempt,
        "reason": outcome.name,
        "time": datetime.now(UTC),
    }
