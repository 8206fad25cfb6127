"""An in-memory event store: the reference the Postgres store is tested
against, and a store for unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from graphmesh.envelope import Event
from graphmesh.eventstore.base import (
    AppendOutcome,
    ClaimResult,
    EventStore,
    RunHead,
    is_stale_command,
    judge_append,
    judge_claim,
)


class MemoryEventStore(EventStore):
    """Keeps everything in dicts; one lock stands in for the transaction."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._by_run: dict[str, list[Event]] = {}
        self._heads: dict[str, RunHead] = {}
        self._rejections: dict[str, int] = {}
        self._lock = asyncio.Lock()

    async def append(self, events: Sequence[Event]) -> list[AppendOutcome]:
        async with self._lock:
            outcomes = []
            for event in events:
                stored = self._by_run.get(event.run_id, [])
                at_seq = stored[event.seq - 1] if 0 < event.seq <= len(stored) else None
                outcome, head = judge_append(
                    self._heads.get(event.run_id), event, at_seq.attempt if at_seq else None
                )
                if outcome is AppendOutcome.APPENDED:
                    assert head is not None
                    self._heads[event.run_id] = head
                    stored_event = event.stored_at(len(self._events) + 1)
                    self._events.append(stored_event)
                    self._by_run.setdefault(event.run_id, []).append(stored_event)
                elif outcome.is_rejection:
                    self._rejections[event.run_id] = self._rejections.get(event.run_id, 0) + 1
                outcomes.append(outcome)
            return outcomes

    async def read(self, run_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        return self._by_run.get(run_id, [])[after_seq : after_seq + limit]

    async def head(self, run_id: str) -> RunHead | None:
        return self._heads.get(run_id)

    async def read_all(self, after_position: int, limit: int) -> list[Event]:
        return self._events[after_position : after_position + limit]

    async def claim_many(
        self, run_ids: Sequence[str], executor_id: str, lease_ms: int
    ) -> list[ClaimResult]:
        async with self._lock:
            now, lease = datetime.now(UTC), timedelta(milliseconds=lease_ms)
            decided: dict[str, ClaimResult] = {}
            for run_id in run_ids:
                if run_id in decided:
                    continue
                current = self._heads.get(run_id)
                active = self._active_run_of(current.thread_id, run_id) if current else None
                result, head = judge_claim(current, executor_id, now, lease, active)
                if head is not None:
                    self._heads[run_id] = head
                decided[run_id] = result
            return [decided[r] for r in run_ids]

    def _active_run_of(self, thread_id: str, other_than: str) -> RunHead | None:
        for head in self._heads.values():
            if (
                head.thread_id == thread_id
                and head.run_id != other_than
                and head.attempt > 0
                and not head.ended
            ):
                return head
        return None

    async def renew(self, executor_id: str, run_ids: Sequence[str], lease_ms: int) -> list[str]:
        async with self._lock:
            lost = []
            until = datetime.now(UTC) + timedelta(milliseconds=lease_ms)
            for run_id in run_ids:
                head = self._heads.get(run_id)
                if head is None or head.ended or head.lease_owner != executor_id:
                    lost.append(run_id)
                else:
                    self._heads[run_id] = RunHead(
                        head.run_id,
                        head.thread_id,
                        head.last_seq,
                        head.attempt,
                        head.ended,
                        executor_id,
                        until,
                    )
            return lost

    async def take_stale_commands(self, older_than: timedelta, limit: int) -> list[Event]:
        async with self._lock:
            now = datetime.now(UTC)
            taken: list[Event] = []
            for run_id, head in self._heads.items():
                created = self._by_run[run_id][0]
                if len(taken) < limit and is_stale_command(head, created.time, now, older_than):
                    self._heads[run_id] = replace(head, republished=head.republished + 1)
                    taken.append(created)
            return sorted(taken, key=lambda e: e.time)

    async def rejections(self, run_id: str | None = None) -> int:
        if run_id is None:
            return sum(self._rejections.values())
        return self._rejections.get(run_id, 0)
