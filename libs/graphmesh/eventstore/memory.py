"""An in-memory event store: the reference the Postgres store is tested
against, and a store for unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from graphmesh.checkpoints import events as cpe
from graphmesh.checkpoints.reader import MemoryCheckpoints
from graphmesh.envelope import Event
from graphmesh.errors import AlreadyExists, FailedPrecondition
from graphmesh.eventstore.interface import EventStore, run_not_found, thread_not_found
from graphmesh.eventstore.rules import (
    AppendOutcome,
    ClaimResult,
    RunHead,
    ThreadEventIn,
    ThreadHead,
    apply_to_thread,
    check_latest_parent,
    is_stale_command,
    judge_append,
    judge_claim,
)


class MemoryEventStore(EventStore):
    """Keeps everything in dicts; one lock stands in for the transaction.
    It keeps threads' heads and, from the stored checkpoint events, the
    checkpoints (`checkpoints`, a `CheckpointReader`), as the PostgreSQL
    store keeps its checkpoint tables in the append transaction."""

    def __init__(self) -> None:
        #: The checkpoints of the stored events.
        self.checkpoints = MemoryCheckpoints()
        self._events: list[Event] = []
        self._by_run: dict[str, list[Event]] = {}
        self._heads: dict[str, RunHead] = {}
        self._rejections: dict[str, int] = {}
        self._threads: dict[str, ThreadHead] = {}
        self._event_ids: set[str] = set()
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
                outcome = self._admit(event, outcome)
                if outcome is AppendOutcome.APPENDED:
                    assert head is not None
                    self._event_ids.add(event.event_id)
                    self._heads[event.run_id] = head
                    stored_event = event.stored_at(len(self._events) + 1)
                    self._events.append(stored_event)
                    self._by_run.setdefault(event.run_id, []).append(stored_event)
                    self.checkpoints.apply([stored_event])
                elif outcome.is_rejection:
                    self._rejections[event.run_id] = self._rejections.get(event.run_id, 0) + 1
                outcomes.append(outcome)
            return outcomes

    def _admit(self, event: Event, outcome: AppendOutcome) -> AppendOutcome:
        if outcome is not AppendOutcome.APPENDED:
            return outcome
        outcome, cancel = apply_to_thread(outcome, event, self._threads)
        if cancel:
            for run_id, head in self._heads.items():
                if head.thread_id == event.thread_id and not head.ended:
                    self._heads[run_id] = replace(head, cancel_action=cancel)
        return outcome

    async def append_thread(
        self,
        thread_id: str,
        events: Sequence[ThreadEventIn],
        *,
        require_no_runs: bool = False,
        require_latest_parent: bool = False,
    ) -> tuple[int, int]:
        async with self._lock:
            stream = cpe.thread_stream_id(thread_id)
            stored = self._by_run.setdefault(stream, [])
            fresh = [e for e in events if e.event_id not in self._event_ids]
            if not fresh:
                return len(stored), 0
            thread = self._threads.get(thread_id)
            if thread is not None and thread.deleted:
                raise FailedPrecondition("thread was deleted", reason="THREAD_DELETED")
            if require_no_runs and thread is not None and thread.open_runs > 0:
                raise FailedPrecondition("thread has a run", reason="THREAD_BUSY")
            if thread is not None and any(e.type == cpe.THREAD_CREATED for e in fresh):
                raise AlreadyExists("thread exists", reason="THREAD_EXISTS")
            types = [e.type for e in fresh]
            if (
                cpe.THREAD_UPDATED in types
                and (thread is None or not thread.exists)
                and cpe.THREAD_CREATED not in types[: types.index(cpe.THREAD_UPDATED)]
            ):
                raise thread_not_found(thread_id)
            if require_latest_parent:
                check_latest_parent(thread_id, self.checkpoints.latest_root(thread_id), fresh)
            thread = self._threads.setdefault(thread_id, ThreadHead(thread_id))
            for item in fresh:
                event = Event(
                    run_id=stream,
                    thread_id=thread_id,
                    seq=len(stored) + 1,
                    attempt=0,
                    type=item.type,
                    payload_json=item.payload_json,
                    time=datetime.now(UTC),
                    event_id=item.event_id,
                ).stored_at(len(self._events) + 1)
                self._events.append(event)
                stored.append(event)
                self._event_ids.add(item.event_id)
                self.checkpoints.apply([event])
                thread.deleted = thread.deleted or item.type == cpe.THREAD_DELETED
            return len(stored), len(fresh)

    async def cancel_requests(self, run_ids: Sequence[str]) -> dict[str, str]:
        return {
            r: h.cancel_action
            for r in run_ids
            if (h := self._heads.get(r)) is not None and h.cancel_action and not h.ended
        }

    async def mark_cancel(self, run_id: str, action: str) -> RunHead | None:
        async with self._lock:
            head = self._heads.get(run_id)
            if head is not None and not head.ended and head.cancel_action != "rollback":
                head = self._heads[run_id] = replace(head, cancel_action=action)
            return head

    async def read(self, run_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        if run_id not in self._by_run:
            raise run_not_found(run_id)
        return self._by_run[run_id][after_seq : after_seq + limit]

    async def head(self, run_id: str) -> RunHead | None:
        return self._heads.get(run_id)

    async def has_unended_runs(self) -> bool:
        return any(not head.ended for head in self._heads.values())

    async def read_all(
        self, after_position: int, limit: int, payload_types: Collection[str] | None = None
    ) -> list[Event]:
        events = self._events[after_position : after_position + limit]
        if payload_types is None:
            return events
        return [e if e.type in payload_types else replace(e, payload_json="{}") for e in events]

    async def last_position(self) -> int:
        return len(self._events)

    async def claim_many(
        self, run_ids: Sequence[str], executor_id: str, lease_ms: int, max_attempts: int = 0
    ) -> list[ClaimResult]:
        async with self._lock:
            now, lease = datetime.now(UTC), timedelta(milliseconds=lease_ms)
            decided: dict[str, ClaimResult] = {}
            for run_id in run_ids:
                if run_id in decided:
                    continue
                current = self._heads.get(run_id)
                active = self._active_run_of(current.thread_id, run_id) if current else None
                result, head = judge_claim(current, executor_id, now, lease, active, max_attempts)
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
                    self._heads[run_id] = replace(head, lease_owner=executor_id, lease_until=until)
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
