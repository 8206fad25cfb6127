"""What the client returns: runs, threads, their states and run events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphmesh import streams
from graphmesh.runs import RunStatus
from graphmesh.v1 import assistant_service_pb2 as as_pb2
from graphmesh.v1 import run_pb2
from graphmesh.v1 import store_service_pb2 as st_pb2
from graphmesh.v1 import thread_service_pb2 as th_pb2


@dataclass(frozen=True, slots=True)
class Run:
    """A run as the API reports it."""

    run_id: str
    thread_id: str
    graph_id: str
    status: RunStatus
    input: Any
    output: Any
    error: dict[str, str] | None
    request_id: str
    created_at: datetime
    updated_at: datetime
    last_seq: int
    attempt: int
    metadata: dict[str, str] = field(default_factory=dict)
    #: What an INTERRUPTED run waits on: [{"id": ..., "value": ...}].
    interrupts: list[dict[str, Any]] = field(default_factory=list)
    #: The stream modes the run records, and its timeout (0: none).
    stream_modes: tuple[str, ...] = ()
    timeout_seconds: float = 0.0
    #: Whether it records its subgraphs' stream items too.
    stream_subgraphs: bool = False
    #: The LangGraph config and runtime context it was created with.
    config: dict[str, Any] = field(default_factory=dict)
    context: Any = None
    #: The assistant (and version) the run ran with.
    assistant_id: str = ""
    assistant_version: int = 0

    @classmethod
    def from_proto(cls, run: run_pb2.Run) -> Run:
        """Converts the protobuf message."""
        return cls(
            run_id=run.run_id,
            thread_id=run.thread_id,
            graph_id=run.graph_id,
            status=RunStatus(run.status),
            input=json.loads(run.input_json) if run.input_json else None,
            output=json.loads(run.output_json) if run.output_json else None,
            error={"type": run.error.type, "message": run.error.message}
            if run.HasField("error")
            else None,
            request_id=run.request_id,
            created_at=run.created_at.ToDatetime(),
            updated_at=run.updated_at.ToDatetime(),
            last_seq=run.last_seq,
            attempt=run.attempt,
            metadata=dict(run.metadata),
            interrupts=_interrupts(run.interrupts),
            stream_modes=tuple(streams.mode_name(m) for m in run.stream_modes),
            timeout_seconds=run.timeout_seconds,
            stream_subgraphs=run.stream_subgraphs,
            config=json.loads(run.config_json) if run.config_json else {},
            context=json.loads(run.context_json) if run.context_json else None,
            assistant_id=run.assistant_id,
            assistant_version=run.assistant_version,
        )

    def to_dict(self) -> dict[str, Any]:
        """The run as plain JSON data."""
        return {
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "graph_id": self.graph_id,
            "status": self.status.name,
            "input": self.input,
            "output": self.output,
            "error": self.error,
            "request_id": self.request_id,
            "created_at": self.created_at.isoformat() + "Z",
            "updated_at": self.updated_at.isoformat() + "Z",
            "last_seq": self.last_seq,
            "attempt": self.attempt,
            "metadata": self.metadata,
            "interrupts": self.interrupts,
            "stream_modes": list(self.stream_modes),
            "timeout_seconds": self.timeout_seconds,
            "stream_subgraphs": self.stream_subgraphs,
            "config": self.config,
            "context": self.context,
            "assistant_id": self.assistant_id,
            "assistant_version": self.assistant_version,
        }


@dataclass(frozen=True, slots=True)
class Assistant:
    """One version of an assistant as the API reports it."""

    assistant_id: str
    graph_id: str
    name: str
    description: str
    config: dict[str, Any]
    #: The runtime context its runs get (None: none).
    context: Any
    metadata: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_proto(cls, message: as_pb2.Assistant) -> Assistant:
        """Converts the protobuf message."""
        return cls(
            assistant_id=message.assistant_id,
            graph_id=message.graph_id,
            name=message.name,
            description=message.description,
            config=json.loads(message.config_json or "{}"),
            context=json.loads(message.context_json) if message.context_json else None,
            metadata=json.loads(message.metadata_json or "{}"),
            version=message.version,
            created_at=message.created_at.ToDatetime(),
            updated_at=message.updated_at.ToDatetime(),
        )

    def to_dict(self) -> dict[str, Any]:
        """The assistant as plain JSON data."""
        return {
            "assistant_id": self.assistant_id,
            "graph_id": self.graph_id,
            "name": self.name,
            "description": self.description,
            "config": self.config,
            "context": self.context,
            "metadata": self.metadata,
            "version": self.version,
            "created_at": self.created_at.isoformat() + "Z",
            "updated_at": self.updated_at.isoformat() + "Z",
        }


@dataclass(frozen=True, slots=True)
class StoreItem:
    """An item of the long-term memory store."""

    namespace: tuple[str, ...]
    key: str
    value: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    #: Its similarity to a search's query, when ranked.
    score: float | None = None

    @classmethod
    def from_proto(cls, message: st_pb2.StoreItem) -> StoreItem:
        """Converts the protobuf message."""
        return cls(
            namespace=tuple(message.namespace),
            key=message.key,
            value=json.loads(message.value_json),
            created_at=message.created_at.ToDatetime(),
            updated_at=message.updated_at.ToDatetime(),
            score=message.score if message.HasField("score") else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The item as plain JSON data."""
        return {
            "namespace": list(self.namespace),
            "key": self.key,
            "value": self.value,
            "created_at": self.created_at.isoformat() + "Z",
            "updated_at": self.updated_at.isoformat() + "Z",
            "score": self.score,
        }


def _interrupts(items: Any) -> list[dict[str, Any]]:
    return [{"id": i.id, "value": json.loads(i.value_json or "null")} for i in items]


@dataclass(frozen=True, slots=True)
class Thread:
    """A thread as the API reports it."""

    thread_id: str
    status: str
    metadata: dict[str, str]
    graph_id: str
    last_run_id: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_proto(cls, thread: th_pb2.Thread) -> Thread:
        """Converts the protobuf message."""
        return cls(
            thread_id=thread.thread_id,
            status=th_pb2.ThreadStatus.Name(thread.status).removeprefix("THREAD_STATUS_"),
            metadata=dict(thread.metadata),
            graph_id=thread.graph_id,
            last_run_id=thread.last_run_id,
            created_at=thread.created_at.ToDatetime(),
            updated_at=thread.updated_at.ToDatetime(),
        )


@dataclass(frozen=True, slots=True)
class ThreadState:
    """A thread's state at one checkpoint."""

    values: Any
    next: list[str]
    interrupts: list[dict[str, Any]]
    checkpoint_id: str
    parent_checkpoint_id: str
    metadata: dict[str, Any]
    #: The next step's tasks (with their subgraphs' states when asked for).
    tasks: list[ThreadTask] = field(default_factory=list)
    #: The graph this state is of: "" for the root, a subgraph's namespace.
    checkpoint_ns: str = ""

    @classmethod
    def from_proto(cls, state: th_pb2.ThreadState) -> ThreadState:
        """Converts the protobuf message."""
        return cls(
            values=json.loads(state.values_json or "{}"),
            next=list(state.next),
            interrupts=_interrupts(state.interrupts),
            checkpoint_id=state.checkpoint_id,
            parent_checkpoint_id=state.parent_checkpoint_id,
            metadata=json.loads(state.metadata_json or "{}"),
            tasks=[ThreadTask.from_proto(t) for t in state.tasks],
            checkpoint_ns=state.checkpoint_ns,
        )

    def to_dict(self) -> dict[str, Any]:
        """The state as plain JSON data."""
        return {
            "values": self.values,
            "next": self.next,
            "interrupts": self.interrupts,
            "checkpoint_id": self.checkpoint_id,
            "parent_checkpoint_id": self.parent_checkpoint_id,
            "metadata": self.metadata,
            "tasks": [t.to_dict() for t in self.tasks],
            "checkpoint_ns": self.checkpoint_ns,
        }


@dataclass(frozen=True, slots=True)
class ThreadTask:
    """One task of a thread's next step (LangGraph's `PregelTask`)."""

    id: str
    name: str
    error: str
    interrupts: list[dict[str, Any]]
    #: The state of the subgraph it runs (when asked for and it runs one).
    state: ThreadState | None
    #: Its result once it has finished (None: not yet).
    result: Any

    @classmethod
    def from_proto(cls, task: th_pb2.ThreadTask) -> ThreadTask:
        """Converts the protobuf message."""
        return cls(
            id=task.id,
            name=task.name,
            error=task.error,
            interrupts=_interrupts(task.interrupts),
            state=ThreadState.from_proto(task.state) if task.HasField("state") else None,
            result=json.loads(task.result_json) if task.result_json else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The task as plain JSON data."""
        return {
            "id": self.id,
            "name": self.name,
            "error": self.error,
            "interrupts": self.interrupts,
            "state": self.state.to_dict() if self.state is not None else None,
            "result": self.result,
        }


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One stored event of a run."""

    run_id: str
    seq: int
    type: str
    payload: Any
    cursor: str
    attempt: int
    time: datetime
    #: The stream mode ("updates", "messages", ...); "" for lifecycle events.
    mode: str = ""
    #: The subgraph it comes from; empty for the root graph.
    namespace: tuple[str, ...] = ()
    #: The seq of the event the stream served before it (0: none; see run.proto).
    previous_seq: int = 0

    @classmethod
    def from_proto(cls, event: run_pb2.RunEvent) -> RunEvent:
        """Converts the protobuf message."""
        return cls(
            run_id=event.run_id,
            seq=event.seq,
            type=event.type,
            payload=json.loads(event.payload_json) if event.payload_json else None,
            cursor=event.cursor,
            attempt=event.attempt,
            time=event.time.ToDatetime(),
            mode=streams.mode_name(event.stream_mode) if event.stream_mode else "",
            namespace=tuple(event.namespace),
            previous_seq=event.previous_seq,
        )

    @property
    def items(self) -> list[Any]:
        """The LangGraph stream items the event holds, as `astream` gave
        them in its mode: one for a stream event (several for
        MessageChunks: a run's consecutive tokens sent together), none for
        a lifecycle event. Messages items are [chunk, metadata]."""
        return streams.stream_items(self.type, self.payload)
