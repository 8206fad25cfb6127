"""The client's calls as data: the request each method sends and what it
makes of the answer, shared by `Client` and `AsyncClient` so that the two
differ only in how they wait."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Self, TypedDict, cast

from graphmesh import streams
from graphmesh.client._models import RunEvent
from graphmesh.errors import DataLoss, GraphmeshError
from graphmesh.runs import RunStatus
from graphmesh.tls import ClientTls
from graphmesh.v1 import assistant_service_pb2 as as_pb2
from graphmesh.v1 import assistant_service_pb2_grpc as as_grpc
from graphmesh.v1 import graph_service_pb2 as gr_pb2
from graphmesh.v1 import graph_service_pb2_grpc as gr_grpc
from graphmesh.v1 import run_service_pb2 as pb
from graphmesh.v1 import run_service_pb2_grpc as pb_grpc
from graphmesh.v1 import store_service_pb2 as st_pb2
from graphmesh.v1 import store_service_pb2_grpc as st_grpc
from graphmesh.v1 import thread_service_pb2 as th_pb2
from graphmesh.v1 import thread_service_pb2_grpc as th_grpc

_STRATEGIES = {
    "reject": pb.MULTITASK_STRATEGY_REJECT,
    "enqueue": pb.MULTITASK_STRATEGY_ENQUEUE,
    "interrupt": pb.MULTITASK_STRATEGY_INTERRUPT,
    "rollback": pb.MULTITASK_STRATEGY_ROLLBACK,
}
_DURABILITIES = {
    "sync": pb.DURABILITY_SYNC,
    "async": pb.DURABILITY_ASYNC,
    "exit": pb.DURABILITY_EXIT,
}

#: Messages up to this size are received (a run's state can be large).
MAX_RECEIVE_BYTES = 64 << 20

#: Reasons a dropped stream is resumed for.
_RESUMABLE = frozenset({"STREAM_TOO_SLOW", "RETRY"})


def mode_numbers(modes: Sequence[str]) -> list[Any]:
    """Stream mode names as the API's numbers; ValueError for an unknown one."""
    for mode in modes:
        if mode not in streams.STREAM_MODES:
            raise ValueError(
                f"stream mode {mode!r} is not one of {', '.join(streams.STREAM_MODES)}"
            )
    return [streams.mode_number(m) for m in modes]


class CreateRunOptions(TypedDict, total=False):
    """What `create_run` takes besides the graph and its input."""

    #: The thread to run on (a new one when not given).
    thread_id: str
    #: Makes the submit idempotent: a retry with the same id is the same run.
    request_id: str
    metadata: Mapping[str, str] | None
    #: A LangGraph Command instead of input (pass input=None): a value for
    #: the thread's interrupt, nodes to go to, a state update.
    resume: Any
    goto: Sequence[str]
    update: Mapping[str, Any] | None
    #: Forks the thread from this checkpoint.
    checkpoint_id: str
    #: reject, enqueue, interrupt or rollback.
    multitask_strategy: str
    #: sync, async or exit.
    durability: str
    #: LangGraph's stream modes to record (values, updates, messages,
    #: custom, debug, tasks, checkpoints, events; default updates and custom).
    stream_modes: Sequence[str]
    stream_subgraphs: bool
    #: Stops the run (TIMED_OUT) after this many seconds per attempt.
    timeout_seconds: float
    #: LangGraph's config: `configurable`, `tags`, `metadata`,
    #: `recursion_limit`, `max_concurrency`.
    config: Mapping[str, Any] | None
    #: LangGraph's runtime context (JSON data; checked against the graph's
    #: context schema).
    context: Any
    #: Breakpoints: pause before / after these nodes (["*"]: every node).
    interrupt_before: Sequence[str]
    interrupt_after: Sequence[str]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def create_run(target: str, input: Any, options: CreateRunOptions) -> pb.CreateRunRequest:
    """The CreateRun request for `target`: an assistant's id (a UUID) or a
    graph id (its default assistant)."""
    strategy = options.get("multitask_strategy") or ""
    durability = options.get("durability") or ""
    if strategy and strategy not in _STRATEGIES:
        raise ValueError(f"multitask_strategy must be one of {sorted(_STRATEGIES)}")
    if durability and durability not in _DURABILITIES:
        raise ValueError(f"durability must be one of {sorted(_DURABILITIES)}")
    text = "" if input is None else input if isinstance(input, str) else json.dumps(input)
    request = pb.CreateRunRequest(
        graph_id="" if _is_uuid(target) else target,
        assistant_id=target if _is_uuid(target) else "",
        input_json=text,
        thread_id=options.get("thread_id") or "",
        request_id=options.get("request_id") or "",
        metadata=dict(options.get("metadata") or {}),
        checkpoint_id=options.get("checkpoint_id") or "",
        multitask_strategy=_STRATEGIES.get(strategy, pb.MULTITASK_STRATEGY_UNSPECIFIED),
        durability=_DURABILITIES.get(durability, pb.DURABILITY_UNSPECIFIED),
        stream_modes=mode_numbers(options.get("stream_modes") or ()),
        stream_subgraphs=bool(options.get("stream_subgraphs")),
        timeout_seconds=options.get("timeout_seconds") or 0.0,
        config_json=json.dumps(options["config"]) if options.get("config") else "",
        context_json=json.dumps(options["context"]) if options.get("context") is not None else "",
        interrupt_before=list(options.get("interrupt_before") or ()),
        interrupt_after=list(options.get("interrupt_after") or ()),
    )
    goto, update = options.get("goto") or (), options.get("update")
    if "resume" in options or goto or update is not None:
        request.command.CopyFrom(
            pb.Command(
                resume_json=json.dumps(options["resume"]) if "resume" in options else "",
                goto=list(goto),
                update_json=json.dumps(update) if update is not None else "",
            )
        )
    return request


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class AssistantFields(TypedDict, total=False):
    """What an assistant says (`create_assistant`, `update_assistant`)."""

    name: str
    description: str
    #: LangGraph's config for its runs: `configurable`, `tags`, `metadata`,
    #: `recursion_limit`, `max_concurrency`.
    config: Mapping[str, Any]
    #: The runtime context for its runs (checked against the graph's schema).
    context: Any
    metadata: Mapping[str, Any]


def create_assistant(
    graph_id: str, assistant_id: str, if_exists_return: bool, fields: AssistantFields
) -> as_pb2.CreateAssistantRequest:
    """The CreateAssistant request."""
    return as_pb2.CreateAssistantRequest(
        graph_id=graph_id,
        assistant_id=assistant_id,
        name=fields.get("name") or "",
        description=fields.get("description") or "",
        config_json=_json_text(dict(fields["config"])) if fields.get("config") else "",
        context_json=_json_text(fields["context"]) if fields.get("context") is not None else "",
        metadata_json=_json_text(dict(fields["metadata"])) if fields.get("metadata") else "",
        if_exists_return=if_exists_return,
    )


def update_assistant(
    assistant_id: str, graph_id: str | None, fields: AssistantFields
) -> as_pb2.UpdateAssistantRequest:
    """The UpdateAssistant request: only the fields given change (a context
    of None removes it)."""
    request = as_pb2.UpdateAssistantRequest(assistant_id=assistant_id)
    if graph_id is not None:
        request.graph_id = graph_id
    if "name" in fields:
        request.name = fields["name"]
    if "description" in fields:
        request.description = fields["description"]
    if "config" in fields:
        request.config_json = _json_text(dict(fields["config"]))
    if "context" in fields:
        request.context_json = "" if fields["context"] is None else _json_text(fields["context"])
    if "metadata" in fields:
        request.metadata_json = _json_text(dict(fields["metadata"]))
    return request


def search_assistants(
    graph_id: str, metadata: Mapping[str, Any] | None, name: str, page_size: int | None, token: str
) -> as_pb2.SearchAssistantsRequest:
    """The SearchAssistants request."""
    request = as_pb2.SearchAssistantsRequest(
        graph_id=graph_id,
        metadata_json=_json_text(dict(metadata)) if metadata else "",
        name=name,
        page_token=token,
    )
    if page_size is not None:
        request.page_size = page_size
    return request


def assistant_versions(
    assistant_id: str, metadata: Mapping[str, Any] | None, page_size: int | None, token: str
) -> as_pb2.ListAssistantVersionsRequest:
    """The ListAssistantVersions request."""
    request = as_pb2.ListAssistantVersionsRequest(
        assistant_id=assistant_id,
        metadata_json=_json_text(dict(metadata)) if metadata else "",
        page_token=token,
    )
    if page_size is not None:
        request.page_size = page_size
    return request


_SCHEMA_FIELDS = (
    "input_schema",
    "output_schema",
    "state_schema",
    "config_schema",
    "context_schema",
)


def _schemas(message: Any) -> dict[str, Any]:
    """The five `*_schema_json` fields of a message as JSON data (None where
    the graph has none)."""
    return {
        key: json.loads(text) if (text := getattr(message, f"{key}_json")) else None
        for key in _SCHEMA_FIELDS
    }


def subgraph_schemas(answer: as_pb2.GetAssistantSubgraphsResponse) -> dict[str, Any]:
    """{namespace: its schemas as JSON data}."""
    return {sub.namespace: _schemas(sub) for sub in answer.subgraphs}


def assistant_schemas(answer: as_pb2.GetAssistantSchemasResponse) -> dict[str, Any]:
    """The schemas as JSON data (None where the graph has none)."""
    return {"graph_id": answer.graph_id, **_schemas(answer)}


def put_item(
    namespace: Sequence[str],
    key: str,
    value: Mapping[str, Any],
    ttl_minutes: float | None,
    index: Sequence[str] | bool | None,
) -> st_pb2.PutItemRequest:
    """The PutItem request."""
    request = st_pb2.PutItemRequest(
        namespace=list(namespace),
        key=key,
        value_json=_json_text(dict(value)),
        no_index=index is False,
        index=list(index) if isinstance(index, Sequence) and not isinstance(index, str) else [],
    )
    if ttl_minutes is not None:
        request.ttl_minutes = ttl_minutes
    return request


def search_items(
    prefix: Sequence[str],
    filter_: Mapping[str, Any] | None,
    query: str,
    limit: int | None,
    offset: int,
) -> st_pb2.SearchItemsRequest:
    """The SearchItems request."""
    request = st_pb2.SearchItemsRequest(
        namespace_prefix=list(prefix),
        filter_json=_json_text(dict(filter_)) if filter_ else "",
        query=query,
        offset=offset,
    )
    if limit is not None:
        request.limit = limit
    return request


def list_namespaces(
    prefix: Sequence[str],
    suffix: Sequence[str],
    max_depth: int | None,
    limit: int | None,
    offset: int,
) -> st_pb2.ListNamespacesRequest:
    """The ListNamespaces request."""
    request = st_pb2.ListNamespacesRequest(prefix=list(prefix), suffix=list(suffix), offset=offset)
    if max_depth is not None:
        request.max_depth = max_depth
    if limit is not None:
        request.limit = limit
    return request


class ThreadFilters(TypedDict, total=False):
    """Which threads `list_threads` returns, and which page."""

    #: IDLE, BUSY, INTERRUPTED or ERROR.
    status: str
    graph_id: str
    #: Threads whose metadata holds each of these pairs.
    metadata: Mapping[str, str] | None
    #: None: the server's default.
    page_size: int | None
    page_token: str


def list_threads(filters: ThreadFilters) -> th_pb2.ListThreadsRequest:
    """The ListThreads request."""
    status = filters.get("status") or ""
    number = th_pb2.ThreadStatus.Value(f"THREAD_STATUS_{status.upper()}") if status else 0
    request = th_pb2.ListThreadsRequest(
        status=cast(Any, number),
        graph_id=filters.get("graph_id") or "",
        metadata=dict(filters.get("metadata") or {}),
        page_token=filters.get("page_token") or "",
    )
    if (size := filters.get("page_size")) is not None:
        request.page_size = size
    return request


def thread_history(
    thread_id: str, page_size: int | None, page_token: str
) -> th_pb2.GetThreadHistoryRequest:
    """The GetThreadHistory request."""
    request = th_pb2.GetThreadHistoryRequest(thread_id=thread_id, page_token=page_token)
    if page_size is not None:
        request.page_size = page_size
    return request


class RunFilters(TypedDict, total=False):
    """Which runs `list_runs` returns, and which page."""

    graph_id: str
    thread_id: str
    status: RunStatus
    #: None: the server's default.
    page_size: int | None
    page_token: str


def list_runs(filters: RunFilters) -> pb.ListRunsRequest:
    """The ListRuns request."""
    request = pb.ListRunsRequest(
        graph_id=filters.get("graph_id") or "",
        thread_id=filters.get("thread_id") or "",
        status=cast(Any, int(filters.get("status") or RunStatus.UNSPECIFIED)),
        page_token=filters.get("page_token") or "",
    )
    if (size := filters.get("page_size")) is not None:
        request.page_size = size
    return request


def cancel_run(run_id: str, rollback: bool, wait: bool) -> pb.CancelRunRequest:
    """The CancelRun request."""
    return pb.CancelRunRequest(
        run_id=run_id,
        action=pb.CANCEL_ACTION_ROLLBACK if rollback else pb.CANCEL_ACTION_INTERRUPT,
        wait=wait,
    )


def queue_depths(answer: gr_pb2.GetQueueDepthResponse) -> dict[str, dict[str, int]]:
    """{graph_id: {"pending": n, "running": m}}."""
    return {
        q.graph_id: {"pending": q.pending_runs, "running": q.running_runs} for q in answer.queues
    }


class StreamPosition:
    """Where a followed stream is: the cursor to resume from, and the seq of
    the last event received, against which each event's `previous_seq` is
    checked (a gap raises DataLoss STREAM_GAP rather than pass unnoticed)."""

    def __init__(self, run_id: str, cursor: str, modes: Sequence[str], resume: bool) -> None:
        self.run_id = run_id
        self.cursor = cursor
        self._modes = mode_numbers(modes)
        self._resume = resume
        #: None: resumed from a caller's cursor, whose seq is not known.
        self._last: int | None = None if cursor else 0

    def request(self) -> pb.StreamRunRequest:
        """The StreamRun request that goes on from here (chunks stored
        together come together: `accept` splits them)."""
        return pb.StreamRunRequest(
            run_id=self.run_id, cursor=self.cursor, stream_modes=self._modes, group_chunks=True
        )

    def accept(self, message: pb.StreamRunResponse) -> list[RunEvent]:
        """The events a message brings: one, or a MessageChunk for each
        chunk of a MessageChunks event (as a stream without group_chunks
        would have sent them); DataLoss if events were skipped."""
        event = RunEvent.from_proto(message.event)
        if self._last is not None and event.previous_seq != self._last:
            raise DataLoss(
                f"run {self.run_id}: event {event.seq} follows {event.previous_seq},"
                f" but the last event received was {self._last}",
                reason="STREAM_GAP",
                metadata={"run_id": self.run_id},
            )
        self.cursor, self._last = event.cursor, event.seq
        if event.type == "MessageChunks":
            return _split_chunks(event, list(message.event.item_cursors))
        return [event]

    def resumes_after(self, error: GraphmeshError) -> bool:
        """True if a stream the server ended with `error` is to be resumed."""
        return self._resume and error.reason in _RESUMABLE


def _split_chunks(event: RunEvent, cursors: list[str]) -> list[RunEvent]:
    """A MessageChunks event as the MessageChunk events of its chunks, each
    with the cursor after it, under the event's seq."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    items = payload.get("data") or []
    if len(items) != len(cursors):
        return [event]  # (not what the server sends: left whole)
    where = {"ns": payload["ns"]} if payload.get("ns") else {}
    return [
        replace(
            event,
            type="MessageChunk",
            payload={"data": item, **where},
            cursor=cursor,
            previous_seq=event.previous_seq if index == 0 else event.seq,
        )
        for index, (item, cursor) in enumerate(zip(items, cursors, strict=True))
    ]


class Connection:
    """A connection to a graphmesh gateway: `token` is an API key or JWT,
    `tls` what to trust (and which client certificate to present) for a
    gateway that serves TLS. `timeout` is each call's deadline (seconds).
    `channel`, when given, is used instead of a new one to `target`.

    What both clients hold: a channel to the gateway (from `_transport`,
    `grpc` or `grpc.aio`, which name their functions alike), the stubs over
    it, the metadata that carries the token and the deadline."""

    _transport: Any = None

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        timeout: float | None = 30.0,
        *,
        token: str | None = None,
        tls: ClientTls | None = None,
        channel: Any = None,
    ) -> None:
        options = [("grpc.max_receive_message_length", MAX_RECEIVE_BYTES)]
        if channel is not None:
            # A channel of the caller's own (an adapter in front of the API
            # shares one channel, with its interceptors, among its callers).
            self._channel = channel
        elif tls is None:
            self._channel = self._transport.insecure_channel(target, options=options)
        else:
            self._channel = self._transport.secure_channel(
                target, tls.credentials(), options=options
            )
        # Sent with every call, over TLS or, for local set-ups, in plaintext
        # (gRPC's own call credentials refuse the latter).
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._runs = pb_grpc.RunServiceStub(self._channel)
        self._graphs = gr_grpc.GraphServiceStub(self._channel)
        self._threads = th_grpc.ThreadServiceStub(self._channel)
        self._assistants = as_grpc.AssistantServiceStub(self._channel)
        self._store = st_grpc.StoreServiceStub(self._channel)
        self._timeout = timeout

    def acting_for(self, token: str | None) -> Self:
        """This connection sending `token` (None: no credentials) with its
        calls instead: one channel serving many callers, each with their
        own credentials. Closing either closes the channel of both."""
        view = copy.copy(self)
        view._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        return view
