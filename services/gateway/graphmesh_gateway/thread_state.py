"""Threads as CreateRun and ThreadService read them.

Thread records come from the checkpoint service's write side (so that a
thread is found as soon as it was created); a thread's state is LangGraph's
own `StateSnapshot`, read through an `EventLogSaver` with the graph of the
thread's latest run.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel
from langgraph.types import StateSnapshot

from graphmesh import tenancy
from graphmesh.checkpoints.saver import EventLogSaver, ThreadSink
from graphmesh.errors import FailedPrecondition, NotFound
from graphmesh.grpcutil import translated_rpc_errors
from graphmesh.internal.v1 import checkpoint_service_pb2 as cp_pb2
from graphmesh.internal.v1 import checkpoint_service_pb2_grpc as cp_grpc
from graphmesh.registry import GraphRegistry
from graphmesh.thread_records import ThreadRecord


def thread_not_found(thread_id: str, deleted: bool = False) -> NotFound:
    """The error for a thread that does not exist (or no longer does);
    `thread_id` may be scoped: the error names the public id."""
    thread_id = tenancy.public_thread(thread_id)
    return NotFound(
        f"thread {thread_id} was deleted" if deleted else f"no thread {thread_id}",
        reason="THREAD_DELETED" if deleted else "THREAD_NOT_FOUND",
        field="thread_id",
        metadata={"thread_id": thread_id},
    )


class Threads:
    """Reads of threads and their state, for ThreadService and CreateRun."""

    def __init__(self, registry: GraphRegistry, stub: cp_grpc.CheckpointServiceStub) -> None:
        self._registry = registry
        self.stub = stub

    async def record(self, thread_id: str) -> ThreadRecord | None:
        """The thread's record (deleted or not), or None if it never existed."""
        with translated_rpc_errors("reading the thread"):
            answer = await self.stub.GetThreadRecord(
                cp_pb2.GetThreadRecordRequest(thread_id=thread_id)
            )
        return ThreadRecord.from_record_proto(answer.thread) if answer.found else None

    async def live_record(self, thread_id: str) -> ThreadRecord:
        """The record of a thread that exists and was not deleted."""
        record = await self.record(thread_id)
        if record is None or record.deleted:
            raise thread_not_found(thread_id, deleted=record is not None)
        return record

    async def require_checkpoint(self, thread_id: str, checkpoint_id: str) -> None:
        """Refuses a checkpoint id that is not one of the thread's."""
        with translated_rpc_errors("reading the checkpoint"):
            answer = await self.stub.GetCheckpoint(
                cp_pb2.GetCheckpointRequest(
                    thread_id=thread_id, checkpoint_ns="", checkpoint_id=checkpoint_id
                )
            )
        if not answer.found:
            public = tenancy.public_thread(thread_id)
            raise NotFound(
                f"thread {public} has no checkpoint {checkpoint_id[:64]!r}",
                reason="CHECKPOINT_NOT_FOUND",
                field="checkpoint_id",
                metadata={"thread_id": public},
            )

    def graph_of(self, record: ThreadRecord, *, require: bool = True) -> Pregel[Any] | None:
        """The graph the thread's state is read with: its latest run's."""
        if not record.graph_id or record.graph_id not in self._registry:
            if require:
                raise FailedPrecondition(
                    f"thread {tenancy.public_thread(record.thread_id)} has no run of a"
                    " registered graph yet",
                    reason="THREAD_HAS_NO_GRAPH",
                    field="thread_id",
                )
            return None
        return self._registry.get(record.graph_id).graph

    def bound(
        self, graph: Pregel[Any], *, require_no_runs: bool = False, forking: bool = False
    ) -> Pregel[Any]:
        """The graph with a checkpointer over the event log. A state update
        (`require_no_runs`) is refused if a run joined the thread meanwhile,
        and, unless it forks from a chosen checkpoint, if the thread's latest
        checkpoint moved on since the update read it."""
        sink = ThreadSink(
            self.stub,
            require_no_runs=require_no_runs,
            require_latest_parent=require_no_runs and not forking,
        )
        saver = EventLogSaver.over_api(self.stub, sink)
        return graph.copy(update={"checkpointer": saver})

    async def state(
        self,
        record: ThreadRecord,
        graph: Pregel[Any],
        checkpoint_id: str = "",
        *,
        subgraphs: bool = False,
    ) -> StateSnapshot:
        """The thread's state at its latest checkpoint or at `checkpoint_id`
        (with the states of the next step's subgraphs, with `subgraphs`)."""
        if checkpoint_id:
            await self.require_checkpoint(record.thread_id, checkpoint_id)
        config = thread_config(record.thread_id, checkpoint_id)
        return await self.bound(graph).aget_state(config, subgraphs=subgraphs)

    async def pending_interrupts(self, record: ThreadRecord, graph: Pregel[Any]) -> int:
        """How many interrupts the thread's latest state waits on."""
        return len((await self.state(record, graph)).interrupts)


def thread_config(thread_id: str, checkpoint_id: str = "") -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}
