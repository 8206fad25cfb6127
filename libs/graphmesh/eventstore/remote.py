"""The event store over the checkpoint service's gRPC API.

The gateway and the executors reach the store only through this adapter:
it speaks the internal EventStoreService (and CheckpointService's thread
appends), turns every `grpc.aio.AioRpcError` into the graphmesh error it
stands for (`grpcutil.translated_rpc_errors`), and batches the claims asked for
in one turn of the event loop into one ClaimRuns call (one transaction):
a fetch from Kafka hands an executor many commands at once, and claiming
each with its own call cost more than running a short graph.

Two watches exist only here, because the checkpoint service serves them
from its notifications rather than from a store method: `watch` (a run's
new events) and `watch_cancellations` (the requests to stop an executor's
runs, and notices that commands are coming).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import grpc

from graphmesh import envelope as ev
from graphmesh.checkpoints.remote import stored_from_proto
from graphmesh.envelope import Event
from graphmesh.eventstore.interface import LeaseRenewal, RunStore, run_not_found
from graphmesh.eventstore.rules import (
    AppendOutcome,
    CancelState,
    ClaimOutcome,
    ClaimResult,
    LatestCheckpoint,
    ThreadEventIn,
)
from graphmesh.grpcutil import call_patiently, translated_rpc_errors
from graphmesh.internal.v1 import checkpoint_service_pb2 as cp_pb2
from graphmesh.internal.v1 import checkpoint_service_pb2_grpc as cp_grpc
from graphmesh.internal.v1 import event_store_service_pb2 as pb
from graphmesh.internal.v1 import event_store_service_pb2_grpc as pb_grpc

_T = TypeVar("_T")

_Claims = dict[str, list[asyncio.Future[ClaimResult]]]
#: The shortest deadline of a claim or renewal (a lease of 0 gives leases up).
_MIN_LEASE_CALL_MS = 1000


@dataclass(frozen=True, slots=True)
class ExecutorNotices:
    """What the checkpoint service tells an executor on its watch."""

    #: Runs to stop: run id -> action ("interrupt" or "rollback").
    cancels: dict[str, str]
    #: Run commands are on their way (runs were created).
    commands_coming: bool = False


class RemoteEventStore(RunStore):
    """The run log, the leases and the thread streams, served by the
    checkpoint service at the other end of `channel`. With
    `claims_with_checkpoints` (the executors'), a granted claim carries its
    thread's latest root checkpoint (`ClaimResult.latest_checkpoint`).
    With `patience`, a read made while the service is unavailable
    (restarting) is retried for up to that many seconds rather than failed
    at once (the gateways': a client's call waits out a checkpoint restart,
    within its own deadline)."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        claims_with_checkpoints: bool = False,
        patience: float = 0.0,
    ) -> None:
        self._with_checkpoints = claims_with_checkpoints
        self._patience = patience
        self._store = pb_grpc.EventStoreServiceStub(channel)
        self._threads = cp_grpc.CheckpointServiceStub(channel)
        self._claims: dict[tuple[str, int], _Claims] = {}
        self._calls: set[asyncio.Task[None]] = set()

    async def append(self, events: Sequence[Event]) -> list[AppendOutcome]:
        request = pb.AppendEventsRequest(events=[ev.to_proto(e) for e in events])
        with translated_rpc_errors("storing the run's events"):
            answer = await self._store.AppendEvents(request)
        return [AppendOutcome(o) for o in answer.outcomes]

    async def read(self, run_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        request = pb.ReadEventsRequest(run_id=run_id, after_seq=after_seq, limit=limit)
        answer = await self._patiently(
            lambda: self._store.ReadEvents(request), "reading the run's events"
        )
        if not answer.run_exists:
            raise run_not_found(run_id)
        return [ev.from_proto(e) for e in answer.events]

    async def _patiently(self, call: Callable[[], Awaitable[_T]], what: str) -> _T:
        """An idempotent call, retried while unavailable for `patience`."""
        if self._patience > 0:
            return await call_patiently(call, what, self._patience)
        with translated_rpc_errors(what):
            return await call()

    async def watch(
        self, run_id: str, after_seq: int = 0, *, wait_for_end: bool = False
    ) -> AsyncGenerator[list[Event], None]:
        """The run's events after `after_seq` in batches as they are stored,
        until its terminal event (with `wait_for_end`: one batch, once it
        has ended, of what its view folds from: its RunCreated and terminal
        event). Leaving the iteration ends the watch."""
        request = pb.WatchEventsRequest(
            run_id=run_id, after_seq=after_seq, wait_for_end=wait_for_end
        )
        call = self._store.WatchEvents(request)
        try:
            with translated_rpc_errors("following the run"):
                async for answer in call:
                    yield [ev.from_proto(e) for e in answer.events]
        finally:
            call.cancel()

    async def claim_many(
        self, run_ids: Sequence[str], executor_id: str, lease_ms: int, max_attempts: int = 0
    ) -> list[ClaimResult]:
        """See `RunLeases.claim_many`; the service applies its own limit on
        attempts (GRAPHMESH_MAX_RUN_ATTEMPTS), not `max_attempts`."""
        request = pb.ClaimRunsRequest(
            run_ids=list(run_ids),
            executor_id=executor_id,
            lease_ms=lease_ms,
            with_latest_checkpoint=self._with_checkpoints,
        )
        with translated_rpc_errors("claiming runs"):
            answer = await self._store.ClaimRuns(request, timeout=_lease_call_timeout(lease_ms))
        return [_claim_result(c) for c in answer.claims]

    async def claim(
        self, run_id: str, executor_id: str, lease_ms: int, max_attempts: int = 0
    ) -> ClaimResult:
        """One run's claim, sent with the others asked for in the same turn
        of the event loop (one ClaimRuns call for them all)."""
        loop = asyncio.get_running_loop()
        key = (executor_id, lease_ms)
        if not self._claims:
            loop.call_soon(self._send_claims)
        future: asyncio.Future[ClaimResult] = loop.create_future()
        self._claims.setdefault(key, {}).setdefault(run_id, []).append(future)
        return await future

    def _send_claims(self) -> None:
        batches, self._claims = self._claims, {}
        for (executor_id, lease_ms), batch in batches.items():
            call = asyncio.create_task(self._send_claim_batch(executor_id, lease_ms, batch))
            self._calls.add(call)
            call.add_done_callback(self._calls.discard)

    async def _send_claim_batch(self, executor_id: str, lease_ms: int, batch: _Claims) -> None:
        try:
            results = await self.claim_many(list(batch), executor_id, lease_ms)
        except Exception as exc:
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for futures, result in zip(batch.values(), results, strict=True):
            for future in futures:
                if not future.done():
                    future.set_result(result)

    async def renew_leases(
        self, executor_id: str, run_ids: Sequence[str], lease_ms: int
    ) -> LeaseRenewal:
        request = pb.RenewLeasesRequest(
            executor_id=executor_id, run_ids=list(run_ids), lease_ms=lease_ms
        )
        with translated_rpc_errors("renewing leases"):
            answer = await self._store.RenewLeases(request, timeout=_lease_call_timeout(lease_ms))
        return LeaseRenewal(
            lost=list(answer.lost_run_ids),
            cancels={c.run_id: c.action for c in answer.cancellations},
        )

    async def request_cancel(self, run_id: str, action: str) -> CancelState:
        with translated_rpc_errors("cancelling the run"):
            answer = await self._store.RequestCancel(
                pb.RequestCancelRequest(run_id=run_id, action=action)
            )
        return CancelState(answer.state)

    async def watch_cancellations(self, executor_id: str) -> AsyncGenerator[ExecutorNotices, None]:
        """The requests to stop runs `executor_id` holds, as they come, and
        notices that run commands are coming, until the service ends the
        watch."""
        call = self._store.WatchCancellations(pb.WatchCancellationsRequest(executor_id=executor_id))
        try:
            with translated_rpc_errors("watching for cancellations"):
                async for answer in call:
                    yield ExecutorNotices(
                        {c.run_id: c.action for c in answer.cancellations},
                        answer.commands_coming,
                    )
        finally:
            call.cancel()

    async def take_stale_commands(self, older_than: timedelta, limit: int) -> list[Event]:
        request = pb.TakeStaleCommandsRequest(
            older_than_ms=int(older_than.total_seconds() * 1000), limit=limit
        )
        with translated_rpc_errors("taking stale commands"):
            answer = await self._store.TakeStaleCommands(request)
        return [ev.from_proto(e) for e in answer.events]

    async def append_thread(
        self,
        thread_id: str,
        events: Sequence[ThreadEventIn],
        *,
        require_no_runs: bool = False,
        require_latest_parent: bool = False,
    ) -> tuple[int, int]:
        request = cp_pb2.AppendThreadEventsRequest(
            thread_id=thread_id,
            events=[
                cp_pb2.ThreadEvent(event_id=e.event_id, type=e.type, payload_json=e.payload_json)
                for e in events
            ],
            require_no_runs=require_no_runs,
            require_latest_parent=require_latest_parent,
        )
        with translated_rpc_errors("writing to the thread"):
            answer = await self._threads.AppendThreadEvents(request)
        return int(answer.last_seq), int(answer.appended)


def _claim_result(claim: pb.RunClaim) -> ClaimResult:
    latest = None
    if claim.latest_checkpoint_read:
        found = claim.HasField("latest_checkpoint")
        latest = LatestCheckpoint(stored_from_proto(claim.latest_checkpoint) if found else None)
    return ClaimResult(
        outcome=ClaimOutcome(claim.outcome),
        attempt=claim.attempt,
        last_seq=claim.last_seq,
        retry_after_ms=claim.retry_after_ms,
        cancel_action=claim.cancel_action,
        latest_checkpoint=latest,
    )


def _lease_call_timeout(lease_ms: int) -> float:
    """The deadline of a claim or renewal: an answer later than the lease
    proves nothing (a lease is proven from when it was asked for), and a
    call that never ends must not hold the caller's leases up with it."""
    return max(lease_ms, _MIN_LEASE_CALL_MS) / 1000
