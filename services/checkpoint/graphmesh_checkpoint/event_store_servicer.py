"""The checkpoint service's internal gRPC API (EventStoreService)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, cast

import grpc
import structlog

from graphmesh import envelope, tracing
from graphmesh.checkpoints.reader import CheckpointReader
from graphmesh.checkpoints.remote import stored_to_proto
from graphmesh.envelope import Event
from graphmesh.errors import InvalidArgument, NotFound
from graphmesh.eventstore import ClaimOutcome, EventStore, RunHead
from graphmesh.eventstore.rules import ClaimResult
from graphmesh.grpcutil import handle_errors
from graphmesh.internal.v1 import event_store_service_pb2 as pb
from graphmesh.internal.v1 import event_store_service_pb2_grpc as pb_grpc
from graphmesh_checkpoint.metrics import count_outcomes
from graphmesh_checkpoint.notifier import RunNotifier

log = structlog.get_logger(__name__)

#: How often a watcher re-reads the store even without a notification.
_WATCH_POLL_SECONDS = 2.0
_READ_LIMIT_MAX = 10000


class EventStoreServicer(pb_grpc.EventStoreServiceServicer):
    """Serves the event store to the gateway and the executors."""

    def __init__(
        self,
        store: EventStore,
        notifier: RunNotifier,
        max_run_attempts: int,
        checkpoints: CheckpointReader,
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._max_run_attempts = max_run_attempts
        self._checkpoints = checkpoints

    @handle_errors
    async def AppendEvents(
        self, request: pb.AppendEventsRequest, context: grpc.aio.ServicerContext
    ) -> pb.AppendEventsResponse:
        try:
            events = [envelope.decode(e.SerializeToString()) for e in request.events]
        except ValueError as exc:
            raise InvalidArgument(str(exc), reason="EVENT_MALFORMED", field="events") from exc
        # Work on these events later (the projector's) continues this call's trace.
        trace_context = tracing.traceparent()
        outcomes = await self._store.append([e.traced(trace_context) for e in events])
        count_outcomes(outcomes)
        return pb.AppendEventsResponse(outcomes=[cast(Any, int(o)) for o in outcomes])

    @handle_errors
    async def ReadEvents(
        self, request: pb.ReadEventsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReadEventsResponse:
        limit = min(request.limit or 1000, _READ_LIMIT_MAX)
        try:
            events = await self._store.read(request.run_id, request.after_seq, limit)
        except NotFound:
            return pb.ReadEventsResponse(run_exists=False)
        return pb.ReadEventsResponse(events=[envelope.to_proto(e) for e in events], run_exists=True)

    @handle_errors
    async def WatchEvents(
        self, request: pb.WatchEventsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchEventsResponse]:
        if request.wait_for_end:
            watching = self._watch_end(request.run_id, request.after_seq)
        else:
            watching = self._watch_progress(request.run_id, request.after_seq)
        async for events in watching:
            yield pb.WatchEventsResponse(events=[envelope.to_proto(e) for e in events])

    async def _watch_progress(self, run_id: str, after: int) -> AsyncIterator[list[Event]]:
        """The run's events after `after` as they are stored, to its end.
        Events this process stores come from the watch, without a read;
        a notification from another process, or a gap, means a read."""
        watch = self._notifier.watch(run_id)
        try:
            while True:
                watch.flag.clear()
                events = watch.take(after)
                if events is None:
                    events = await self._store.read(run_id, after, _READ_LIMIT_MAX)
                if events:
                    yield events
                    after = events[-1].seq
                    if events[-1].is_terminal:
                        return
                    if len(events) == _READ_LIMIT_MAX:
                        continue  # a page: read on
                else:
                    head = await self._require_head(run_id)
                    if head.ended and head.last_seq <= after:
                        return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watch.flag.wait(), _WATCH_POLL_SECONDS)
        finally:
            self._notifier.unwatch(run_id, watch)

    async def _watch_end(self, run_id: str, after: int) -> AsyncIterator[list[Event]]:
        """Once the run has ended: what its view folds from (see `_ending`)."""
        flag = self._notifier.subscribe(run_id, end_only=True)
        created: list[Event] = []
        try:
            while True:
                flag.clear()
                terminal = self._notifier.ended(run_id)
                if terminal is not None and created:
                    # Stored by this process just now: no read.
                    yield [*created, terminal]
                    return
                head = await self._require_head(run_id)
                ending = await self._ending(run_id, after, head.last_seq) if head.ended else []
                if ending:
                    yield ending
                    return
                if not head.ended and not created and after == 0:
                    # What the answer needs besides the end, read while the
                    # run goes on rather than after.
                    created = await self._store.read(run_id, 0, 1)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(flag.wait(), _WATCH_POLL_SECONDS)
        finally:
            self._notifier.unsubscribe(run_id, flag)

    async def _require_head(self, run_id: str) -> RunHead:
        head = await self._store.head(run_id)
        if head is None:
            raise NotFound(f"no run {run_id}", reason="RUN_NOT_FOUND", field="run_id")
        return head

    async def _ending(self, run_id: str, after: int, last_seq: int) -> list[Event]:
        """What a run's view folds from once it ended: its RunCreated and
        its terminal event. The events between change nothing the fold
        keeps (attempts never decrease along a run's stored events, so the
        terminal one has the highest), and shipping them (checkpoints with
        the whole state) cost more than the rest of the wait."""
        if after > 0:
            return await self._read_all(run_id, after)
        first = await self._store.read(run_id, 0, 1)
        if last_seq <= 1:
            return first
        return first + await self._store.read(run_id, last_seq - 1, 1)

    async def _read_all(self, run_id: str, after: int) -> list[Event]:
        events: list[Event] = []
        while True:
            page = await self._store.read(run_id, after, _READ_LIMIT_MAX)
            events.extend(page)
            if len(page) < _READ_LIMIT_MAX:
                return events
            after = page[-1].seq

    @handle_errors
    async def ClaimRuns(
        self, request: pb.ClaimRunsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ClaimRunsResponse:
        if not request.executor_id or request.lease_ms == 0:
            raise InvalidArgument("executor_id and lease_ms are required", reason="CLAIM_MALFORMED")
        results = await self._store.claim_many(
            list(request.run_ids), request.executor_id, request.lease_ms, self._max_run_attempts
        )
        for run_id, result in zip(request.run_ids, results, strict=True):
            if result.outcome is ClaimOutcome.ATTEMPTS_EXHAUSTED:
                await self._give_up(run_id, result.attempt)
        claims = [_run_claim(r) for r in results]
        if request.with_latest_checkpoint:
            await self._add_latest_checkpoints(results, claims)
        return pb.ClaimRunsResponse(claims=claims)

    async def _add_latest_checkpoints(
        self, results: list[ClaimResult], claims: list[pb.RunClaim]
    ) -> None:
        """Each claimed run's thread's latest root checkpoint: the read the
        run would make first. Read after the claim committed, it is what
        the run would read itself: the thread's previous run has ended in
        the store (with its checkpoints before its end), and no other run
        of the thread starts while this one holds it."""
        latest: dict[str, pb.RunClaim] = {}
        for result, claim in zip(results, claims, strict=True):
            if result.outcome is not ClaimOutcome.CLAIMED or result.thread_id in latest:
                continue  # (two claimed runs of one thread: only the first runs now)
            latest[result.thread_id] = claim
            stored = await self._checkpoints.get(result.thread_id, "", "")
            claim.latest_checkpoint_read = True
            if stored is not None:
                claim.latest_checkpoint.CopyFrom(stored_to_proto(stored))

    async def _give_up(self, run_id: str, attempts: int) -> None:
        message = (
            f"the run was started {attempts} times and each executor stopped before it ended;"
            f" not starting it again (GRAPHMESH_MAX_RUN_ATTEMPTS={self._max_run_attempts})"
        )
        payload = {"error": {"type": "ExecutorLost", "message": message}, "attempts": attempts}
        ended = await self._store.end_run(run_id, envelope.RUN_FAILED, json.dumps(payload))
        log.warning("run_attempts_exhausted", run_id=run_id, attempts=attempts, ended=ended)

    @handle_errors
    async def RequestCancel(
        self, request: pb.RequestCancelRequest, context: grpc.aio.ServicerContext
    ) -> pb.RequestCancelResponse:
        if request.action not in ("interrupt", "rollback"):
            raise InvalidArgument(
                "action must be interrupt or rollback", reason="CANCEL_MALFORMED", field="action"
            )
        state = await self._store.request_cancel(request.run_id, request.action)
        return pb.RequestCancelResponse(state=cast(Any, int(state)))

    @handle_errors
    async def WatchCancellations(
        self, request: pb.WatchCancellationsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchCancellationsResponse]:
        if not request.executor_id:
            raise InvalidArgument("executor_id is required", reason="WATCH_MALFORMED")
        queue = self._notifier.watch_cancels(request.executor_id)
        try:
            while True:
                notices = [await queue.get()]
                while not queue.empty():
                    notices.append(queue.get_nowait())
                yield pb.WatchCancellationsResponse(
                    cancellations=[
                        pb.RunCancellation(run_id=n[0], action=n[1]) for n in notices if n
                    ],
                    commands_coming=None in notices,
                )
        finally:
            self._notifier.unwatch_cancels(request.executor_id, queue)

    @handle_errors
    async def RenewLeases(
        self, request: pb.RenewLeasesRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenewLeasesResponse:
        renewal = await self._store.renew_leases(
            request.executor_id, list(request.run_ids), request.lease_ms
        )
        return pb.RenewLeasesResponse(
            lost_run_ids=renewal.lost,
            cancellations=[
                pb.RunCancellation(run_id=r, action=a) for r, a in renewal.cancels.items()
            ],
        )

    @handle_errors
    async def TakeStaleCommands(
        self, request: pb.TakeStaleCommandsRequest, context: grpc.aio.ServicerContext
    ) -> pb.TakeStaleCommandsResponse:
        if request.older_than_ms == 0 or request.limit == 0:
            raise InvalidArgument("older_than_ms and limit are required", reason="SWEEP_MALFORMED")
        events = await self._store.take_stale_commands(
            timedelta(milliseconds=request.older_than_ms), min(request.limit, 1000)
        )
        if events:
            self._notifier.commands_coming()  # the caller sends them again
        return pb.TakeStaleCommandsResponse(events=[envelope.to_proto(e) for e in events])


def _run_claim(result: ClaimResult) -> pb.RunClaim:
    return pb.RunClaim(
        outcome=cast(Any, int(result.outcome)),
        attempt=result.attempt,
        last_seq=result.last_seq,
        retry_after_ms=result.retry_after_ms,
        cancel_action=result.cancel_action,
    )
