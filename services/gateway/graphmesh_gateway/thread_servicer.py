"""ThreadService: the public thread API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from langgraph.errors import InvalidUpdateError
from langgraph.pregel import Pregel
from langgraph.types import PregelTask, StateSnapshot

from graphmesh import tenancy
from graphmesh.checkpoints import events as cpe
from graphmesh.checkpoints.saver import append_thread_event, append_thread_events
from graphmesh.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from graphmesh.grpcutil import handle_errors, translated_rpc_errors
from graphmesh.internal.v1 import checkpoint_service_pb2 as cp_pb2
from graphmesh.jsonutil import dumps
from graphmesh.thread_records import ThreadRecord
from graphmesh.v1 import run_pb2
from graphmesh.v1 import thread_service_pb2 as pb
from graphmesh.v1 import thread_service_pb2_grpc as pb_grpc
from graphmesh_gateway import validation
from graphmesh_gateway.caller import Caller
from graphmesh_gateway.settings import GatewaySettings
from graphmesh_gateway.thread_state import Threads, thread_config, thread_not_found
from graphmesh_gateway.tokens import PagePosition, Tokens

_DEFAULT_HISTORY_PAGE = 10


def _timestamp(value: str | None) -> Timestamp:
    ts = Timestamp()
    if value:
        ts.FromDatetime(datetime.fromisoformat(value))
    return ts


def state_to_proto(snapshot: StateSnapshot) -> pb.ThreadState:
    """LangGraph's state snapshot as the public message, with its tasks (and
    their subgraphs' states, when the snapshot holds them)."""
    conf = (snapshot.config or {}).get("configurable", {})
    parent = (snapshot.parent_config or {}).get("configurable", {})
    return pb.ThreadState(
        tasks=[_task_to_proto(t) for t in snapshot.tasks],
        checkpoint_ns=str(conf.get("checkpoint_ns") or ""),
        values_json=dumps(snapshot.values),
        next=list(snapshot.next),
        interrupts=[
            run_pb2.Interrupt(id=str(i.id), value_json=dumps(i.value)) for i in snapshot.interrupts
        ],
        checkpoint_id=str(conf.get("checkpoint_id") or ""),
        parent_checkpoint_id=str(parent.get("checkpoint_id") or ""),
        metadata_json=dumps(snapshot.metadata or {}),
        created_at=_timestamp(snapshot.created_at),
    )


def _task_to_proto(task: PregelTask) -> pb.ThreadTask:
    message = pb.ThreadTask(
        id=task.id,
        name=task.name,
        interrupts=[
            run_pb2.Interrupt(id=str(i.id), value_json=dumps(i.value)) for i in task.interrupts
        ],
    )
    if task.error is not None:
        message.error = f"{type(task.error).__name__}: {task.error}"
    if isinstance(task.state, StateSnapshot):
        message.state.CopyFrom(state_to_proto(task.state))
    if task.result is not None:
        message.result_json = dumps(task.result)
    return message


class ThreadServicer(pb_grpc.ThreadServiceServicer):
    """The public thread API."""

    def __init__(self, settings: GatewaySettings, threads: Threads, tokens: Tokens) -> None:
        self._settings = settings
        self._threads = threads
        self._tokens = tokens

    async def _record(self, public_id: str) -> ThreadRecord:
        """The caller's live thread `public_id` (required)."""
        caller = Caller.current()
        return await self._threads.live_record(caller.thread(_required_thread_id(public_id)))

    @handle_errors
    async def CreateThread(
        self, request: pb.CreateThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateThreadResponse:
        caller = Caller.current()
        thread_id = caller.thread(validation.thread_id(request.thread_id) or str(uuid.uuid4()))
        labels = validation.metadata(dict(request.metadata))
        created = True
        try:
            await append_thread_event(
                self._threads.stub, thread_id, cpe.THREAD_CREATED, {"metadata": labels}
            )
        except AlreadyExists:
            if not request.if_exists_return:
                raise
            created = False
        except FailedPrecondition as exc:
            if exc.reason == "THREAD_DELETED":
                raise thread_not_found(thread_id, deleted=True) from exc
            raise
        record = await self._threads.live_record(thread_id)
        return pb.CreateThreadResponse(thread=_public(record), created=created)

    @handle_errors
    async def GetThread(
        self, request: pb.GetThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetThreadResponse:
        return pb.GetThreadResponse(thread=_public(await self._record(request.thread_id)))

    @handle_errors
    async def UpdateThread(
        self, request: pb.UpdateThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateThreadResponse:
        labels = validation.metadata(dict(request.metadata))
        record = await self._record(request.thread_id)
        validation.metadata({**record.metadata, **labels})  # the whole stays in bounds
        if labels:
            try:
                await append_thread_event(
                    self._threads.stub, record.thread_id, cpe.THREAD_UPDATED, {"metadata": labels}
                )
            except (NotFound, FailedPrecondition) as exc:  # deleted meanwhile
                raise thread_not_found(record.thread_id, deleted=True) from exc
            record = await self._threads.live_record(record.thread_id)
        return pb.UpdateThreadResponse(thread=_public(record))

    @handle_errors
    async def CopyThread(
        self, request: pb.CopyThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.CopyThreadResponse:
        caller = Caller.current()
        copy_id = caller.thread(
            validation.thread_id(request.new_thread_id, "new_thread_id") or str(uuid.uuid4())
        )
        source = await self._record(request.thread_id)
        # One append: the copy exists with its checkpoints, or not at all.
        made = {"metadata": source.metadata, "graph_id": source.graph_id}
        copied = {"source_thread_id": source.thread_id}
        try:
            await append_thread_events(
                self._threads.stub,
                copy_id,
                [(cpe.THREAD_CREATED, made), (cpe.CHECKPOINTS_COPIED, copied)],
            )
        except AlreadyExists as exc:
            raise AlreadyExists(
                f"thread {tenancy.public_thread(copy_id)} exists",
                reason="THREAD_EXISTS",
                field="new_thread_id",
            ) from exc
        except FailedPrecondition as exc:
            if exc.reason == "THREAD_DELETED":
                raise thread_not_found(copy_id, deleted=True) from exc
            raise
        return pb.CopyThreadResponse(thread=_public(await self._threads.live_record(copy_id)))

    @handle_errors
    async def ListThreads(
        self, request: pb.ListThreadsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListThreadsResponse:
        caller = Caller.current()
        size = validation.page_size(request.page_size if request.HasField("page_size") else None)
        validation.enum_value(request.status, pb.ThreadStatus, "status")
        validation.text(request.graph_id, "graph_id", validation.MAX_ID_CHARS)
        labels = validation.metadata(dict(request.metadata))
        filters = (caller.tenant, request.graph_id, str(request.status), dumps(labels))
        position = self._tokens.page_position(request.page_token, filters)
        query = cp_pb2.ListThreadRecordsRequest(
            graph_id=request.graph_id,
            metadata=labels,
            limit=size + 1,
            status=request.status,
            tenant=caller.tenant,
        )
        if position is not None:
            query.before_updated_at.FromMicroseconds(position.created_at_us)
            query.before_thread_id = position.run_id
        with translated_rpc_errors("listing threads"):
            answer = await self._threads.stub.ListThreadRecords(query)
        records = [
            ThreadRecord.from_record_proto(t)
            for t in answer.threads
            if caller.owns_thread(t.thread_id)
        ]
        page, more = records[:size], len(records) > size
        next_token = ""
        if more and page:
            last = answer.threads[size - 1]
            next_token = self._tokens.page_token(
                PagePosition(last.updated_at.ToMicroseconds(), last.thread_id), filters
            )
        return pb.ListThreadsResponse(
            threads=[_public(r) for r in page], next_page_token=next_token
        )

    @handle_errors
    async def GetThreadState(
        self, request: pb.GetThreadStateRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetThreadStateResponse:
        validation.text(request.checkpoint_id, "checkpoint_id", validation.MAX_ID_CHARS)
        record = await self._record(request.thread_id)
        graph = self._threads.graph_of(record, require=False)
        if graph is None:
            if request.checkpoint_id:
                await self._threads.require_checkpoint(record.thread_id, request.checkpoint_id)
            return pb.GetThreadStateResponse(state=pb.ThreadState(values_json="{}"))
        snapshot = await self._threads.state(
            record, graph, request.checkpoint_id, subgraphs=request.subgraphs
        )
        return pb.GetThreadStateResponse(state=state_to_proto(snapshot))

    @handle_errors
    async def GetThreadHistory(
        self, request: pb.GetThreadHistoryRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetThreadHistoryResponse:
        record = await self._record(request.thread_id)
        size = _DEFAULT_HISTORY_PAGE
        if request.HasField("page_size"):
            size = validation.page_size(request.page_size)
        filters = ("history", record.thread_id)  # the scoped id: one tenant's thread
        position = self._tokens.page_position(request.page_token, filters)
        graph = self._threads.graph_of(record, require=False)
        if graph is None:
            return pb.GetThreadHistoryResponse()
        before = thread_config(record.thread_id, position.run_id) if position else None
        states: list[pb.ThreadState] = []
        async for snapshot in self._threads.bound(graph).aget_state_history(
            thread_config(record.thread_id), before=before, limit=size + 1
        ):
            states.append(state_to_proto(snapshot))
        page, more = states[:size], len(states) > size
        next_token = ""
        if more and page:
            next_token = self._tokens.page_token(PagePosition(0, page[-1].checkpoint_id), filters)
        return pb.GetThreadHistoryResponse(states=page, next_page_token=next_token)

    @handle_errors
    async def UpdateThreadState(
        self, request: pb.UpdateThreadStateRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateThreadStateResponse:
        validation.text(request.checkpoint_id, "checkpoint_id", validation.MAX_ID_CHARS)
        record = await self._record(request.thread_id)
        values = validation.json_value(
            request.values_json,
            "values_json",
            self._settings.max_input_bytes,
            reason_prefix="VALUES",
            require_object=True,
        )
        graph = self._threads.graph_of(record)
        assert graph is not None
        namespace = _namespace(request.checkpoint_ns, graph)
        as_node = request.as_node or None
        if as_node is not None and not namespace:
            validation.node_name(as_node, graph.nodes, "as_node")
        if request.checkpoint_id:
            await self._threads.require_checkpoint(record.thread_id, request.checkpoint_id)
        if record.open_runs > 0:
            raise _thread_busy(record.thread_id)
        try:
            bound = self._threads.bound(
                graph, require_no_runs=True, forking=bool(request.checkpoint_id)
            )
            config = thread_config(record.thread_id, request.checkpoint_id)
            if namespace:
                config["configurable"]["checkpoint_ns"] = namespace
            written = await bound.aupdate_state(config, values, as_node=as_node)
        except (InvalidUpdateError, ValueError) as exc:
            raise InvalidArgument(
                f"the update does not fit the graph: {exc}",
                reason="UPDATE_INVALID",
                field="values_json",
            ) from exc
        checkpoint_id = str(written.get("configurable", {}).get("checkpoint_id", ""))
        return pb.UpdateThreadStateResponse(checkpoint_id=checkpoint_id)

    @handle_errors
    async def DeleteThread(
        self, request: pb.DeleteThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteThreadResponse:
        record = await self._record(request.thread_id)
        await append_thread_event(
            self._threads.stub, record.thread_id, cpe.THREAD_DELETED, {}, require_no_runs=True
        )
        return pb.DeleteThreadResponse()


def _namespace(value: str, graph: Pregel[Any]) -> str:
    """A subgraph's checkpoint namespace (`node:task_id`, joined by `|`),
    whose first node is one of the graph's ("" for the root graph)."""
    validation.text(value, "checkpoint_ns", validation.MAX_ID_CHARS * 8)
    if not value:
        return ""
    node = value.split("|", 1)[0].split(":", 1)[0]
    if node not in graph.nodes or node.startswith("__"):
        raise InvalidArgument(
            f"checkpoint_ns {value[:128]!r} names no subgraph of the graph (a task's"
            " state.checkpoint_ns in GetThreadState with subgraphs names one)",
            reason="CHECKPOINT_NS_UNKNOWN",
            field="checkpoint_ns",
        )
    return value


def _required_thread_id(value: str) -> str:
    if not value:
        raise InvalidArgument(
            "thread_id is required", reason="THREAD_ID_MISSING", field="thread_id"
        )
    return validation.thread_id(value)


def _public(record: ThreadRecord) -> pb.Thread:
    """A thread record as its owner sees it."""
    thread = record.to_proto()
    thread.thread_id = tenancy.public_thread(thread.thread_id)
    return thread


def _thread_busy(thread_id: str) -> FailedPrecondition:
    thread_id = tenancy.public_thread(thread_id)
    return FailedPrecondition(
        f"thread {thread_id} has a run pending or running",
        reason="THREAD_BUSY",
        field="thread_id",
        metadata={"thread_id": thread_id},
    )
