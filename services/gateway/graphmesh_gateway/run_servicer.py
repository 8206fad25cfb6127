"""RunService: submit, query, wait for and stream runs."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, cast

import grpc
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from graphmesh import envelope as ev
from graphmesh import streams
from graphmesh.envelope import Event
from graphmesh.errors import (
    AlreadyExists,
    FailedPrecondition,
    NotFound,
    Unavailable,
)
from graphmesh.eventstore import AppendOutcome, CancelState
from graphmesh.eventstore.interface import run_not_found
from graphmesh.eventstore.remote import RemoteEventStore
from graphmesh.grpcutil import handle_errors, translated_rpc_errors
from graphmesh.internal.v1 import projection_service_pb2 as pj_pb2
from graphmesh.internal.v1 import projection_service_pb2_grpc as pj_grpc
from graphmesh.kafka import traced_send
from graphmesh.registry import GraphRegistry
from graphmesh.run_created import RunCreated
from graphmesh.runs import (
    RunStatus,
    RunView,
    fold,
    fold_all,
    from_proto,
    to_proto,
)
from graphmesh.v1 import run_pb2
from graphmesh.v1 import run_service_pb2 as pb
from graphmesh.v1 import run_service_pb2_grpc as pb_grpc
from graphmesh_gateway import validation
from graphmesh_gateway.assistant_servicer import AssistantDirectory
from graphmesh_gateway.caller import Caller
from graphmesh_gateway.create_run import CreateRunInput, parse_create_run
from graphmesh_gateway.feeds import RunFeeds
from graphmesh_gateway.limits import RateLimiter, TenantQuota
from graphmesh_gateway.settings import GatewaySettings
from graphmesh_gateway.thread_state import Threads, thread_not_found
from graphmesh_gateway.tokens import PagePosition, Tokens


class RunServicer(pb_grpc.RunServiceServicer):
    """The public run API over the event store, the read models and Kafka."""

    def __init__(
        self,
        settings: GatewaySettings,
        registry: GraphRegistry,
        store: RemoteEventStore,
        projections: pj_grpc.ProjectionServiceStub,
        producer: AIOKafkaProducer,
        threads: Threads,
        feeds: RunFeeds,
        limiter: RateLimiter,
        tenant_limiter: RateLimiter,
        quota: TenantQuota,
        tokens: Tokens,
        assistants: AssistantDirectory,
    ) -> None:
        self._settings = settings
        self._assistants = assistants
        self._feeds = feeds
        self._limiter = limiter
        self._tenant_limiter = tenant_limiter
        self._quota = quota
        self._tokens = tokens
        self._threads = threads
        self._registry = registry
        self._store = store
        self._projections = projections
        self._producer = producer

    @handle_errors
    async def CreateRun(
        self, request: pb.CreateRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateRunResponse:
        caller = Caller.current()
        assistant = await self._assistants.for_run(
            caller.tenant, request.assistant_id, request.graph_id
        )
        run = parse_create_run(
            request, caller, self._registry, self._settings.max_input_bytes, assistant
        )
        created = run.event()
        if run.thread_given:
            await self._check_thread(run)
        self._limiter.admit(run.created.graph_id)
        self._tenant_limiter.admit(caller.tenant)
        await self._check_quota(caller.tenant)
        outcome = await self._append(created)
        if outcome is AppendOutcome.REJECTED_THREAD_DELETED:
            raise thread_not_found(run.public_thread_id, deleted=True)
        if outcome is AppendOutcome.REJECTED_THREAD_BUSY:
            raise FailedPrecondition(
                f"thread {run.public_thread_id} has a run pending or running and the strategy"
                " is reject",
                reason="THREAD_BUSY",
                field="multitask_strategy",
                metadata={"thread_id": run.public_thread_id},
            )
        if outcome is AppendOutcome.APPENDED:
            await self._publish(created)
            return pb.CreateRunResponse(
                run=caller.public_run(to_proto(fold(None, created))), created=True
            )
        # The request id was seen before: this is a retry, or a reuse.
        events = await self._read(run.run_id)
        view = fold_all(events)
        if view is None:
            raise Unavailable("run vanished during create; retry", reason="RETRY")
        if view.fingerprint != run.created.fingerprint:
            raise AlreadyExists(
                "request_id was already used for a run with other parameters",
                reason="REQUEST_ID_REUSED",
                field="request_id",
                metadata={"run_id": run.run_id},
            )
        if view.status is RunStatus.PENDING:
            # The first attempt may have died between storing and publishing;
            # publishing again is harmless (executors claim runs once).
            await self._publish(events[0])
        return pb.CreateRunResponse(run=caller.public_run(to_proto(view)), created=False)

    async def _check_quota(self, tenant: str) -> None:
        """Refuses a run over the tenant's cap on unfinished runs."""
        if not self._quota.enabled:
            return
        with translated_rpc_errors("counting the tenant's runs"):
            answer = await self._projections.CountActiveRuns(
                pj_pb2.CountActiveRunsRequest(tenant=tenant)
            )
        self._quota.check(tenant, sum(g.pending + g.running for g in answer.graphs))

    async def _check_thread(self, run: CreateRunInput) -> None:
        """Refuses a run on a deleted thread, a fork from a checkpoint the
        thread does not have, and a resume of a thread with no interrupt."""
        public = run.public_thread_id
        record = await self._threads.record(run.thread_id)
        if record is not None and record.deleted:
            raise thread_not_found(public, deleted=True)
        if run.created.checkpoint_id:
            await self._threads.require_checkpoint(run.thread_id, run.created.checkpoint_id)
        if run.created.command is not None and run.created.command.has_resume:
            waiting = 0
            if record is not None and record.graph_id:
                graph_of_thread = self._threads.graph_of(record, require=False) or run.graph
                waiting = await self._threads.pending_interrupts(record, graph_of_thread)
            if waiting == 0:
                raise FailedPrecondition(
                    f"thread {public} has no pending interrupt to resume",
                    reason="NO_PENDING_INTERRUPT",
                    field="command.resume_json",
                    metadata={"thread_id": public},
                )

    async def _append(self, event: Event) -> AppendOutcome:
        return (await self._store.append([event]))[0]

    async def _publish(self, created: Event) -> None:
        try:
            delivery = await traced_send(
                self._producer,
                self._settings.kafka.runs_topic,
                ev.encode(created),
                created.thread_id.encode(),
            )
            await delivery
        except KafkaError as exc:
            raise Unavailable(
                f"the run is stored but could not be queued: {exc}; retry with the same request_id",
                reason="BROKER_UNAVAILABLE",
            ) from exc

    async def _read(self, run_id: str) -> list[Event]:
        """Every stored event of the run ([] for no such run)."""
        events: list[Event] = []
        try:
            async for page in self._feeds.stored(run_id, 0):
                events.extend(page)
        except NotFound:
            return []
        return events

    async def _run(self, caller: Caller, run_id: str) -> run_pb2.Run:
        """The caller's run from the read model, or folded from the store
        while the projector has not caught up (read your writes), as the
        caller sees it; another tenant's run is not found."""
        with translated_rpc_errors("querying the run"):
            answer = await self._projections.GetRunView(pj_pb2.GetRunViewRequest(run_id=run_id))
        if answer.found:
            run = cast(run_pb2.Run, answer.run)
            if not RunStatus(run.status).is_terminal:
                run = await self._caught_up(run)
        else:
            view = fold_all(await self._read(run_id))
            if view is None:
                raise run_not_found(run_id)
            run = to_proto(view)
        if not caller.owns_thread(run.thread_id):
            raise run_not_found(run_id)
        return caller.public_run(run)

    async def _caught_up(self, run: run_pb2.Run) -> run_pb2.Run:
        """An unfinished run's row with what the store holds beyond it. The
        read model may be behind the store (the projector is asynchronous);
        without this a GetRun right after WaitRun said the run ended could
        still say RUNNING. A row that shows the run ended is final."""
        newer: list[Event] = []
        try:
            async for page in self._feeds.stored(run.run_id, run.last_seq):
                newer.extend(page)
        except NotFound:
            return run
        if not newer:
            return run
        view = from_proto(run)
        for event in newer:
            view = fold(view, event)
        return to_proto(view)

    async def _owned(self, caller: Caller, run_id: str) -> Event:
        """The first stored event of the caller's run `run_id`; NotFound for
        no run and for another tenant's run alike."""
        first = await self._feeds.read(run_id, 0, limit=1)
        if not first or not caller.owns_thread(first[0].thread_id):
            raise run_not_found(run_id)
        return first[0]

    @handle_errors
    async def GetRun(
        self, request: pb.GetRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetRunResponse:
        run_id = validation.run_id(request.run_id)
        return pb.GetRunResponse(run=await self._run(Caller.current(), run_id))

    @handle_errors
    async def ListRuns(
        self, request: pb.ListRunsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRunsResponse:
        caller = Caller.current()
        size = validation.page_size(request.page_size if request.HasField("page_size") else None)
        if request.thread_id:
            validation.thread_id(request.thread_id)
        validation.text(request.graph_id, "graph_id", validation.MAX_ID_CHARS)
        if request.status not in run_pb2.RunStatus.values():
            validation.status_out_of_range(request.status)
        filters = (caller.tenant, request.graph_id, request.thread_id, str(request.status))
        position = self._tokens.page_position(request.page_token, filters)
        with translated_rpc_errors("listing runs"):
            answer = await self._projections.ListRunViews(
                pj_pb2.ListRunViewsRequest(
                    tenant=caller.tenant,
                    graph_id=request.graph_id,
                    thread_id=caller.thread(request.thread_id) if request.thread_id else "",
                    status=request.status,
                    limit=size,
                    before_created_at_us=position.created_at_us if position else 0,
                    before_run_id=position.run_id if position else "",
                )
            )
        next_token = ""
        if answer.has_more and answer.runs:
            last = answer.runs[-1]
            next_token = self._tokens.page_token(
                PagePosition(_micros(last.created_at), last.run_id), filters
            )
        runs = [caller.public_run(r) for r in answer.runs if caller.owns_thread(r.thread_id)]
        return pb.ListRunsResponse(runs=runs, next_page_token=next_token)

    @handle_errors
    async def WaitRun(
        self, request: pb.WaitRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.WaitRunResponse:
        caller = Caller.current()
        run_id = validation.run_id(request.run_id)
        await self._owned(caller, run_id)
        view = await self._wait_for_end(run_id)
        return pb.WaitRunResponse(run=caller.public_run(to_proto(view)))

    async def _wait_for_end(self, run_id: str) -> RunView:
        """The run once it has ended. The call's deadline or cancellation
        cancels this wait and the store watch under it at once."""
        async with contextlib.aclosing(self._store.watch(run_id, wait_for_end=True)) as batches:
            async for events in batches:
                view = fold_all(events)
                if view is not None and view.status.is_terminal:
                    return view
        raise Unavailable("the event stream ended before the run did; retry", reason="RETRY")

    @handle_errors
    async def StreamRun(
        self, request: pb.StreamRunRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.StreamRunResponse]:
        caller = Caller.current()
        run_id = validation.run_id(request.run_id)
        asked = validation.stream_modes(request.stream_modes)
        first = await self._owned(caller, run_id)
        after, skip = self._tokens.cursor_position(request.cursor, run_id)
        modes = self._stream_filter(first, asked)
        # The seq of the event served last (the cursor's; inside an event
        # of several items, that event's).
        served = after + 1 if skip else after
        async for events in self._feeds.follow(run_id, after):
            for event in events:
                if streams.wanted(event, modes):
                    first_skip = skip if event.seq == after + 1 else 0
                    for public in self._public_events(event, first_skip, request.group_chunks):
                        public.previous_seq, served = served, event.seq
                        yield pb.StreamRunResponse(event=public)

    def _stream_filter(self, first: Event, asked: list[str]) -> frozenset[str] | None:
        """The modes a StreamRun asks for (None: all the run records),
        refusing modes the run does not record."""
        if not asked:
            return None
        run_id = first.run_id
        recorded = RunCreated.from_event(first).recorded_modes
        missing = [m for m in asked if m not in recorded]
        if missing:
            raise FailedPrecondition(
                f"run {run_id} does not record stream mode(s) {', '.join(missing)}; it records"
                f" {', '.join(recorded)} (chosen in CreateRun.stream_modes)",
                reason="STREAM_MODE_NOT_RECORDED",
                field="stream_modes",
                metadata={"run_id": run_id, "recorded": ",".join(recorded)},
            )
        return frozenset(asked)

    @handle_errors
    async def CancelRun(
        self, request: pb.CancelRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelRunResponse:
        caller = Caller.current()
        run_id = validation.run_id(request.run_id)
        action = validation.enum_value(request.action, pb.CancelAction, "action")
        await self._owned(caller, run_id)
        state = await self._store.request_cancel(
            run_id, "rollback" if action == pb.CANCEL_ACTION_ROLLBACK else "interrupt"
        )
        if state is CancelState.UNKNOWN_RUN:
            raise run_not_found(run_id)
        outcome = _CANCEL_OUTCOMES[state]
        if state is CancelState.CANCELLING and request.wait:
            view = await self._wait_for_end(run_id)
            outcome = pb.CANCEL_OUTCOME_CANCELLED
            if view.status is not RunStatus.CANCELLED:
                # It ended some other way before the request reached it.
                outcome = pb.CANCEL_OUTCOME_ALREADY_ENDED
            return pb.CancelRunResponse(outcome=outcome, run=caller.public_run(to_proto(view)))
        stored = fold_all(await self._read(run_id))
        assert stored is not None
        return pb.CancelRunResponse(outcome=outcome, run=caller.public_run(to_proto(stored)))

    def _public_events(
        self, event: Event, skip: int = 0, grouped: bool = False
    ) -> list[run_pb2.RunEvent]:
        """A stored event as its owner sees it, with the cursor after it.
        A MessageChunks event (a run's chunks stored together) comes as a
        MessageChunk for each of its items after the first `skip`, each with
        the cursor after it, so that what clients see does not depend on
        how the executor grouped the chunks and a stream resumes between
        any two; or, `grouped`, as one MessageChunks event of those items
        with their cursors in `item_cursors`."""
        if event.type != ev.MESSAGE_CHUNKS:
            return [self._public_event(event)]
        payload = json.loads(event.payload_json)
        where = {"ns": payload["ns"]} if payload.get("ns") else {}
        items = payload.get("data") or []
        if not items:
            return []
        last = len(items) - 1
        cursors = [self._tokens.cursor(event.run_id, event.seq, i) for i in range(skip, last)]
        cursors.append(self._tokens.cursor(event.run_id, event.seq))
        base = self._public_event(event, cursors[-1])
        if grouped:
            if skip:
                base.payload_json = _json_text({"data": items[skip:], **where})
            base.item_cursors.extend(cursors)
            return [base]
        out = []
        for index, cursor in zip(range(skip, last + 1), cursors, strict=True):
            public = run_pb2.RunEvent()
            public.CopyFrom(base)
            public.type = ev.MESSAGE_CHUNK
            public.payload_json = _json_text({"data": items[index], **where})
            public.event_id = f"{event.event_id}:{index}"
            public.cursor = cursor
            out.append(public)
        return out

    def _public_event(self, event: Event, cursor: str = "") -> run_pb2.RunEvent:
        """A stored event as its owner sees it, with the cursor after it."""
        message = run_pb2.RunEvent(
            stream_mode=cast(Any, streams.mode_number(streams.event_mode(event))),
            namespace=streams.event_namespace(event),
            event_id=event.event_id,
            run_id=event.run_id,
            thread_id=Caller.public_thread_id(event.thread_id),
            seq=event.seq,
            type=event.type,
            schema_version=event.schema_version,
            payload_json=event.payload_json,
            attempt=event.attempt,
            cursor=cursor or self._tokens.cursor(event.run_id, event.seq),
        )
        message.time.FromDatetime(event.time)
        return message


_CANCEL_OUTCOMES = {
    CancelState.ALREADY_ENDED: pb.CANCEL_OUTCOME_ALREADY_ENDED,
    CancelState.CANCELLED: pb.CANCEL_OUTCOME_CANCELLED,
    CancelState.CANCELLING: pb.CANCEL_OUTCOME_CANCELLING,
}


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _micros(ts: Any) -> int:
    return int(ts.seconds) * 1_000_000 + int(ts.nanos) // 1000
