"""graphmesh's Python client: a thin, typed wrapper over the public gRPC API.

    from graphmesh.client import Client

    with Client("127.0.0.1:50051") as client:
        run = client.create_run("chain3", {"n": 0, "trail": []})
        for event in client.stream_run(run.run_id):
            print(event.seq, event.type, event.payload)
        print(client.wait_run(run.run_id).output)

Errors come as `ClientError`, with the gRPC code and graphmesh's stable
`reason` from the status details.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, cast

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from graphmesh import streams
from graphmesh.runs import RunStatus
from graphmesh.tls import ClientTls
from graphmesh.v1 import graph_service_pb2, graph_service_pb2_grpc, run_pb2
from graphmesh.v1 import run_service_pb2 as pb
from graphmesh.v1 import run_service_pb2_grpc as pb_grpc
from graphmesh.v1 import thread_service_pb2 as th_pb2
from graphmesh.v1 import thread_service_pb2_grpc as th_grpc

#: Marks an argument that was not given (None is a valid resume value).
_UNSET: Any = object()


class ClientError(Exception):
    """A failed call: gRPC `code`, graphmesh `reason`, the offending `field`."""

    def __init__(self, code: grpc.StatusCode, message: str, reason: str, field: str) -> None:
        super().__init__(f"{code.name}: {message}" + (f" [{reason}]" if reason else ""))
        self.code = code
        self.message = message
        self.reason = reason
        self.field = field

    @classmethod
    def from_rpc_error(cls, exc: grpc.RpcError) -> ClientError:
        """Reads the code, message and details of a failed call."""
        reason = field_name = ""
        status = rpc_status.from_call(exc)  # type: ignore[arg-type]
        if status is not None:
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(info):
                    reason = info.reason
                elif detail.Unpack(bad) and bad.field_violations:
                    field_name = bad.field_violations[0].field
        return cls(exc.code(), exc.details() or "", reason, field_name)  # type: ignore[attr-defined]


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
        }


#: Reasons a dropped stream is resumed for.
_RESUMABLE = frozenset({"STREAM_TOO_SLOW", "RETRY"})


def _mode_number(mode: str) -> int:
    if mode not in streams.STREAM_MODES:
        raise ValueError(f"stream mode {mode!r} is not one of {', '.join(streams.STREAM_MODES)}")
    return streams.mode_number(mode)


_STRATEGIES = {"reject": 1, "enqueue": 2, "interrupt": 3, "rollback": 4}
_DURABILITIES = {"sync": 1, "async": 2, "exit": 3}


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


class _BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):  # type: ignore[misc]
    """Sends `authorization: Bearer <token>` with every call (over TLS or,
    for local set-ups, in plaintext: gRPC's own call credentials refuse the
    latter)."""

    def __init__(self, token: str) -> None:
        self._metadata = ("authorization", f"Bearer {token}")

    def _details(self, details: Any) -> Any:
        metadata = [*(details.metadata or ()), self._metadata]
        return details._replace(metadata=metadata)

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)


class Client:
    """A connection to a graphmesh gateway: `token` is an API key or JWT,
    `tls` what to trust (and which client certificate to present) for a
    gateway that serves TLS."""

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        timeout: float | None = 30.0,
        *,
        token: str | None = None,
        tls: ClientTls | None = None,
    ) -> None:
        options = [("grpc.max_receive_message_length", 64 << 20)]
        if tls is None:
            channel = grpc.insecure_channel(target, options=options)
        else:
            channel = grpc.secure_channel(target, tls.credentials(), options=options)
        self._raw_channel = channel
        if token:
            channel = grpc.intercept_channel(channel, _BearerToken(token))
        self._channel = channel
        self._runs = pb_grpc.RunServiceStub(self._channel)
        self._graphs = graph_service_pb2_grpc.GraphServiceStub(self._channel)
        self._threads = th_grpc.ThreadServiceStub(self._channel)
        self._timeout = timeout

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection."""
        self._raw_channel.close()

    def _call(self, method: Any, request: Any, timeout: float | None = None) -> Any:
        try:
            return method(request, timeout=timeout if timeout is not None else self._timeout)
        except grpc.RpcError as exc:
            raise ClientError.from_rpc_error(exc) from None

    def create_run(
        self,
        graph_id: str,
        input: Any,
        *,
        thread_id: str = "",
        request_id: str = "",
        metadata: Mapping[str, str] | None = None,
        resume: Any = _UNSET,
        goto: Sequence[str] = (),
        update: Mapping[str, Any] | None = None,
        checkpoint_id: str = "",
        multitask_strategy: str = "",
        durability: str = "",
        stream_modes: Sequence[str] = (),
        stream_subgraphs: bool = False,
        timeout_seconds: float = 0.0,
    ) -> Run:
        """Submits a run; `input` is JSON data (or JSON text, passed as is).
        `resume`/`goto`/`update` send a LangGraph Command instead of input
        (pass input=None); `checkpoint_id` forks from that checkpoint;
        `multitask_strategy` is reject, enqueue, interrupt or rollback;
        `durability` is sync, async or exit; `stream_modes` are LangGraph's
        (values, updates, messages, custom, debug, tasks, checkpoints; default
        updates and custom); `timeout_seconds` stops the run (TIMED_OUT)."""
        text = "" if input is None else input if isinstance(input, str) else json.dumps(input)
        request = pb.CreateRunRequest(
            graph_id=graph_id,
            input_json=text,
            thread_id=thread_id,
            request_id=request_id,
            metadata=dict(metadata or {}),
            checkpoint_id=checkpoint_id,
            multitask_strategy=cast(Any, _STRATEGIES.get(multitask_strategy, 0)),
            durability=cast(Any, _DURABILITIES.get(durability, 0)),
            stream_modes=[cast(Any, _mode_number(m)) for m in stream_modes],
            stream_subgraphs=stream_subgraphs,
            timeout_seconds=timeout_seconds,
        )
        if multitask_strategy and multitask_strategy not in _STRATEGIES:
            raise ValueError(f"multitask_strategy must be one of {sorted(_STRATEGIES)}")
        if durability and durability not in _DURABILITIES:
            raise ValueError(f"durability must be one of {sorted(_DURABILITIES)}")
        if resume is not _UNSET or goto or update is not None:
            request.command.CopyFrom(
                pb.Command(
                    resume_json=json.dumps(resume) if resume is not _UNSET else "",
                    goto=list(goto),
                    update_json=json.dumps(update) if update is not None else "",
                )
            )
        return Run.from_proto(self._call(self._runs.CreateRun, request).run)

    def create_thread(
        self,
        thread_id: str = "",
        metadata: Mapping[str, str] | None = None,
        *,
        if_exists_return: bool = False,
    ) -> Thread:
        """Creates a thread (a new id when `thread_id` is empty)."""
        request = th_pb2.CreateThreadRequest(
            thread_id=thread_id, metadata=dict(metadata or {}), if_exists_return=if_exists_return
        )
        return Thread.from_proto(self._call(self._threads.CreateThread, request).thread)

    def get_thread(self, thread_id: str) -> Thread:
        """The thread and its status."""
        request = th_pb2.GetThreadRequest(thread_id=thread_id)
        return Thread.from_proto(self._call(self._threads.GetThread, request).thread)

    def list_threads(
        self,
        *,
        status: str = "",
        graph_id: str = "",
        metadata: Mapping[str, str] | None = None,
        page_size: int | None = None,
        page_token: str = "",
    ) -> tuple[list[Thread], str]:
        """One page of threads, most recently updated first, and the next token."""
        number = th_pb2.ThreadStatus.Value(f"THREAD_STATUS_{status.upper()}") if status else 0
        request = th_pb2.ListThreadsRequest(
            status=cast(Any, number),
            graph_id=graph_id,
            metadata=dict(metadata or {}),
            page_token=page_token,
        )
        if page_size is not None:
            request.page_size = page_size
        answer = self._call(self._threads.ListThreads, request)
        return [Thread.from_proto(t) for t in answer.threads], answer.next_page_token

    def get_thread_state(self, thread_id: str, checkpoint_id: str = "") -> ThreadState:
        """The thread's state now, or at a checkpoint."""
        request = th_pb2.GetThreadStateRequest(thread_id=thread_id, checkpoint_id=checkpoint_id)
        return ThreadState.from_proto(self._call(self._threads.GetThreadState, request).state)

    def get_thread_history(
        self, thread_id: str, *, page_size: int | None = None, page_token: str = ""
    ) -> tuple[list[ThreadState], str]:
        """One page of the thread's states, newest first, and the next token."""
        request = th_pb2.GetThreadHistoryRequest(thread_id=thread_id, page_token=page_token)
        if page_size is not None:
            request.page_size = page_size
        answer = self._call(self._threads.GetThreadHistory, request)
        return [ThreadState.from_proto(s) for s in answer.states], answer.next_page_token

    def update_thread_state(
        self,
        thread_id: str,
        values: Mapping[str, Any],
        *,
        as_node: str = "",
        checkpoint_id: str = "",
    ) -> str:
        """Writes a new checkpoint with `values`; returns its id."""
        request = th_pb2.UpdateThreadStateRequest(
            thread_id=thread_id,
            values_json=json.dumps(values),
            as_node=as_node,
            checkpoint_id=checkpoint_id,
        )
        return str(self._call(self._threads.UpdateThreadState, request).checkpoint_id)

    def delete_thread(self, thread_id: str) -> None:
        """Deletes the thread's state and retires its id."""
        self._call(self._threads.DeleteThread, th_pb2.DeleteThreadRequest(thread_id=thread_id))

    def get_run(self, run_id: str) -> Run:
        """The run's current state."""
        return Run.from_proto(self._call(self._runs.GetRun, pb.GetRunRequest(run_id=run_id)).run)

    def list_runs(
        self,
        *,
        graph_id: str = "",
        thread_id: str = "",
        status: RunStatus = RunStatus.UNSPECIFIED,
        page_size: int | None = None,
        page_token: str = "",
    ) -> tuple[list[Run], str]:
        """One page of runs, newest first, and the next page's token."""
        request = pb.ListRunsRequest(
            graph_id=graph_id,
            thread_id=thread_id,
            status=cast(Any, int(status)),
            page_token=page_token,
        )
        if page_size is not None:
            request.page_size = page_size
        answer = self._call(self._runs.ListRuns, request)
        return [Run.from_proto(r) for r in answer.runs], answer.next_page_token

    def wait_run(self, run_id: str, timeout: float | None = 300.0) -> Run:
        """Blocks until the run has ended and returns it."""
        answer = self._call(self._runs.WaitRun, pb.WaitRunRequest(run_id=run_id), timeout)
        return Run.from_proto(answer.run)

    def stream_run(
        self,
        run_id: str,
        cursor: str = "",
        timeout: float | None = 300.0,
        *,
        stream_modes: Sequence[str] = (),
        resume: bool = True,
    ) -> Generator[RunEvent, None, None]:
        """The run's events after `cursor`, as they are stored, to the end;
        only lifecycle events and those of `stream_modes` if given. With
        `resume`, a stream the server drops (the client fell behind, or the
        gateway went away) is resumed from the last event's cursor, so no
        event is missed or repeated. Each event's `previous_seq` is checked
        against the last one received: a gap raises ClientError (DATA_LOSS,
        STREAM_GAP) rather than pass unnoticed."""
        modes = [cast(Any, _mode_number(m)) for m in stream_modes]
        last: int | None = None if cursor else 0  # a caller's cursor: its seq is not known
        while True:
            call = self._runs.StreamRun(
                pb.StreamRunRequest(run_id=run_id, cursor=cursor, stream_modes=modes),
                timeout=timeout,
            )
            try:
                for answer in call:
                    event = RunEvent.from_proto(answer.event)
                    if last is not None and event.previous_seq != last:
                        raise ClientError(
                            grpc.StatusCode.DATA_LOSS,
                            f"run {run_id}: event {event.seq} follows {event.previous_seq},"
                            f" but the last event received was {last}",
                            "STREAM_GAP",
                            "",
                        )
                    cursor, last = event.cursor, event.seq
                    yield event
                return
            except grpc.RpcError as exc:
                error = ClientError.from_rpc_error(exc)
                if not (resume and error.reason in _RESUMABLE):
                    raise error from None
            finally:
                call.cancel()

    def cancel_run(self, run_id: str, *, rollback: bool = False, wait: bool = True) -> Run:
        """Stops a run (`rollback` also removes its checkpoints); with `wait`,
        returns once the cancellation is stored. A run that has ended is
        returned unchanged."""
        request = pb.CancelRunRequest(
            run_id=run_id,
            action=pb.CANCEL_ACTION_ROLLBACK if rollback else pb.CANCEL_ACTION_INTERRUPT,
            wait=wait,
        )
        return Run.from_proto(self._call(self._runs.CancelRun, request).run)

    def queue_depth(self, graph_id: str = "") -> dict[str, dict[str, int]]:
        """{graph_id: {"pending": n, "running": m}} for every graph (or one)."""
        answer = self._call(
            self._graphs.GetQueueDepth, graph_service_pb2.GetQueueDepthRequest(graph_id=graph_id)
        )
        return {
            q.graph_id: {"pending": q.pending_runs, "running": q.running_runs}
            for q in answer.queues
        }

    def list_graphs(self) -> list[graph_service_pb2.Graph]:
        """The graphs the server runs."""
        return list(
            self._call(self._graphs.ListGraphs, graph_service_pb2.ListGraphsRequest()).graphs
        )
