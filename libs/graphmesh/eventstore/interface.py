"""The event store's interface, in levels, as its users need it.

- `RunLog`: a run's events: append (judged by `rules.judge_append`), read.
- `RunLeases`: who runs a run: claim, renew, cancel, re-send stale commands.
- `ThreadStreams`: a thread's own stream (state updates, deletion).
- `EventStore`: all of these, plus what only the checkpoint service that
  owns the store uses: heads, the log in store order for the projector,
  the bookkeeping of cancellations and rejections.

`RunStore` is the first three together. Adapters: `memory.MemoryEventStore`
and `postgres.PostgresEventStore` are `EventStore`s; `remote.RemoteEventStore`
is a `RunStore` over the checkpoint service's gRPC API, which the gateway
and the executors use. `contract` holds the suites every adapter's tests
run: `RunStoreContract` (all three adapters), `EventStoreContract` (the
two that own the data).
"""

from __future__ import annotations

import abc
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from graphmesh import envelope as ev
from graphmesh.envelope import Event
from graphmesh.errors import NotFound
from graphmesh.eventstore.rules import (
    STORE_LEASE,
    STORE_WRITER,
    AppendOutcome,
    CancelState,
    ClaimOutcome,
    ClaimResult,
    RunHead,
    ThreadEventIn,
)


def run_not_found(run_id: str) -> NotFound:
    """The error for a run id the store does not know."""
    return NotFound(
        f"no run {run_id}", reason="RUN_NOT_FOUND", field="run_id", metadata={"run_id": run_id}
    )


def thread_not_found(thread_id: str) -> NotFound:
    """The error for a thread id the store does not know."""
    return NotFound(
        f"no thread {thread_id}",
        reason="THREAD_NOT_FOUND",
        field="thread_id",
        metadata={"thread_id": thread_id},
    )


class RunLog(abc.ABC):
    """Runs' event streams, append-only, the source of truth."""

    @abc.abstractmethod
    async def append(self, events: Sequence[Event]) -> list[AppendOutcome]:
        """Appends events (those of one run in seq order); one outcome each
        (see `rules.judge_append` and `rules.apply_to_thread`)."""

    @abc.abstractmethod
    async def read(self, run_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        """A run's stored events with seq > after_seq, in seq order; NotFound
        (RUN_NOT_FOUND) when the store holds no such run."""


@dataclass(frozen=True, slots=True)
class LeaseRenewal:
    """The answer to an executor renewing its leases."""

    #: The runs whose lease the executor lost (a newer attempt owns them).
    lost: list[str]
    #: Of the runs it still holds, those asked to stop, with the action.
    cancels: dict[str, str] = field(default_factory=dict)


class RunLeases(abc.ABC):
    """Which executor runs a run, and the requests to stop or re-send one."""

    @abc.abstractmethod
    async def claim_many(
        self, run_ids: Sequence[str], executor_id: str, lease_ms: int, max_attempts: int = 0
    ) -> list[ClaimResult]:
        """Takes runs for an executor (see `rules.judge_claim`), atomically;
        one result per run id, in order (a repeated id is judged once)."""

    async def claim(
        self, run_id: str, executor_id: str, lease_ms: int, max_attempts: int = 0
    ) -> ClaimResult:
        """Takes one run for an executor."""
        return (await self.claim_many([run_id], executor_id, lease_ms, max_attempts))[0]

    @abc.abstractmethod
    async def renew_leases(
        self, executor_id: str, run_ids: Sequence[str], lease_ms: int
    ) -> LeaseRenewal:
        """Extends an executor's leases (0 ms: gives them up); returns the
        runs whose lease it lost, and those of the others asked to stop."""

    @abc.abstractmethod
    async def request_cancel(self, run_id: str, action: str) -> CancelState:
        """Stops a run: one no live executor holds (pending, or its executor
        died) is ended by the store with RunCancelled; one a live executor
        holds is marked, and that executor stops it."""

    @abc.abstractmethod
    async def take_stale_commands(self, older_than: timedelta, limit: int) -> list[Event]:
        """RunCreated events of the runs whose command must be sent again
        (see `rules.is_stale_command`: never claimed, or their lease ran
        out); each hand-out is recorded, so concurrent callers get
        different runs."""


class ThreadStreams(abc.ABC):
    """Threads' own event streams, which the store numbers."""

    @abc.abstractmethod
    async def append_thread(
        self,
        thread_id: str,
        events: Sequence[ThreadEventIn],
        *,
        require_no_runs: bool = False,
        require_latest_parent: bool = False,
    ) -> tuple[int, int]:
        """Appends to a thread's own stream, numbering the events; an event
        whose id is stored already is skipped. Raises FailedPrecondition
        (THREAD_DELETED; THREAD_BUSY with `require_no_runs`, while a run is
        pending or running; THREAD_CHANGED with `require_latest_parent`, for
        a root checkpoint whose parent is no longer the thread's latest) or
        AlreadyExists (THREAD_EXISTS, for a ThreadCreated on a known
        thread). Returns the stream's last seq and how many events were new."""


class RunStore(RunLog, RunLeases, ThreadStreams):
    """The levels a service outside the checkpoint service uses (through
    `remote.RemoteEventStore`)."""


class EventStore(RunStore):
    """The whole store, as the checkpoint service that owns it uses it."""

    @abc.abstractmethod
    async def head(self, run_id: str) -> RunHead | None:
        """The run's head, or None if the store holds no such run."""

    @abc.abstractmethod
    async def read_all(
        self, after_position: int, limit: int, payload_types: Collection[str] | None = None
    ) -> list[Event]:
        """Stored events of every run after a store position, in position
        order. With `payload_types`, only events of those types carry their
        payload; the others' is "{}" (a reader that needs the rest of every
        event but the payloads of a few types, as the runs projection)."""

    @abc.abstractmethod
    async def last_position(self) -> int:
        """The position of the last stored event (0: none)."""

    @abc.abstractmethod
    async def has_unended_runs(self) -> bool:
        """True while some run has not ended (pending or running): events of
        runs may still come."""

    @abc.abstractmethod
    async def mark_cancel(self, run_id: str, action: str) -> RunHead | None:
        """Asks an unfinished run to stop with `action` ("rollback" wins over
        "interrupt"; otherwise the first request stands) and tells the
        executor holding it; returns the run's head (None: no such run)."""

    @abc.abstractmethod
    async def renew(self, executor_id: str, run_ids: Sequence[str], lease_ms: int) -> list[str]:
        """Extends leases; returns the runs whose lease the executor lost."""

    @abc.abstractmethod
    async def cancel_requests(self, run_ids: Sequence[str]) -> dict[str, str]:
        """Of these unfinished runs, those asked to stop, with the action."""

    async def renew_leases(
        self, executor_id: str, run_ids: Sequence[str], lease_ms: int
    ) -> LeaseRenewal:
        lost = await self.renew(executor_id, run_ids, lease_ms)
        held = [r for r in run_ids if r not in set(lost)]
        return LeaseRenewal(lost, await self.cancel_requests(held))

    @abc.abstractmethod
    async def rejections(self, run_id: str | None = None) -> int:
        """How many appends were rejected (for one run, or in all)."""

    async def end_run(self, run_id: str, type_: str, payload_json: str) -> bool:
        """Ends a run that no live executor holds with a terminal event
        written by the store itself, as a new attempt that fences off any
        earlier one. False when a live executor holds the run."""
        claim = await self.claim(run_id, STORE_WRITER, int(STORE_LEASE.total_seconds() * 1000))
        if claim.outcome is ClaimOutcome.ALREADY_ENDED:
            return True
        if claim.outcome is not ClaimOutcome.CLAIMED:
            return False
        head = await self.head(run_id)
        assert head is not None
        event = ev.new_event(
            run_id, head.thread_id, claim.last_seq + 1, claim.attempt, type_, payload_json
        )
        outcome = (await self.append([event]))[0]
        return outcome in (AppendOutcome.APPENDED, AppendOutcome.DUPLICATE)

    async def request_cancel(self, run_id: str, action: str) -> CancelState:
        """Stops a run (see `RunLeases.request_cancel`): marks it, then ends
        it here unless a live executor holds it."""
        head = await self.mark_cancel(run_id, action)
        if head is None:
            return CancelState.UNKNOWN_RUN
        if head.ended:
            return CancelState.ALREADY_ENDED
        payload = json.dumps({"action": head.cancel_action, "started": head.attempt > 0})
        if await self.end_run(run_id, ev.RUN_CANCELLED, payload):
            return CancelState.CANCELLED
        return CancelState.CANCELLING
