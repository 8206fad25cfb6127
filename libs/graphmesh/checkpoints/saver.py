"""`EventLogSaver`: a LangGraph checkpointer over graphmesh's event log.

Writes become checkpoint events: inside a run they go into the run's own
event stream through the executor (`RunSink`, fenced by the run's attempt);
outside runs they are appended to the thread's stream by the checkpoint
service (`ThreadSink`). Reads ask the checkpoint service, which keeps the
checkpoint tables from the stored events; a read made inside a run first
waits until the run's own writes are stored (read your writes).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from graphmesh.checkpoints import events as cpe
from graphmesh.checkpoints.reader import CheckpointQuery, CheckpointReader, StoredCheckpoint
from graphmesh.checkpoints.remote import RemoteCheckpointReader
from graphmesh.errors import InvalidArgument
from graphmesh.grpcutil import call_patiently
from graphmesh.internal.v1 import checkpoint_service_pb2 as pb
from graphmesh.internal.v1 import checkpoint_service_pb2_grpc as pb_grpc
from graphmesh.jsonutil import dumps, to_jsonable

_T = TypeVar("_T")


class CheckpointSink(Protocol):
    """Where a saver's checkpoint and write events go."""

    @property
    def run_id(self) -> str:
        """The run writing ("" outside runs)."""

    async def save(self, thread_id: str, type_: str, payload: dict[str, Any]) -> None:
        """Sends one checkpoint event for the thread."""

    def read_after(self) -> tuple[str, int]:
        """(run id, seq) a read must wait for to see this sink's writes."""


class ThreadSink:
    """Outside runs: each write is appended to the thread's own stream by the
    checkpoint service, synchronously. A state update sets both flags: with
    `require_no_runs` a write is refused while the thread has a run pending
    or running, and with `require_latest_parent` a root checkpoint is
    refused unless its parent is still the thread's latest. The store judges
    both at the moment of the append, so a run that was submitted, or even
    ran, while the update was being computed is never overwritten by it."""

    def __init__(
        self,
        stub: pb_grpc.CheckpointServiceStub,
        *,
        require_no_runs: bool = False,
        require_latest_parent: bool = False,
    ) -> None:
        self._stub = stub
        self._require_no_runs = require_no_runs
        self._require_latest_parent = require_latest_parent

    @property
    def run_id(self) -> str:
        return ""

    async def save(self, thread_id: str, type_: str, payload: dict[str, Any]) -> None:
        await append_thread_event(
            self._stub,
            thread_id,
            type_,
            payload,
            require_no_runs=self._require_no_runs,
            require_latest_parent=self._require_latest_parent,
        )

    def read_after(self) -> tuple[str, int]:
        return "", 0


async def append_thread_event(
    stub: pb_grpc.CheckpointServiceStub,
    thread_id: str,
    type_: str,
    payload: dict[str, Any],
    *,
    require_no_runs: bool = False,
    require_latest_parent: bool = False,
) -> int:
    """Appends one event to a thread's stream; returns the stream's last seq."""
    return await append_thread_events(
        stub,
        thread_id,
        [(type_, payload)],
        require_no_runs=require_no_runs,
        require_latest_parent=require_latest_parent,
    )


async def append_thread_events(
    stub: pb_grpc.CheckpointServiceStub,
    thread_id: str,
    events: Sequence[tuple[str, dict[str, Any]]],
    *,
    require_no_runs: bool = False,
    require_latest_parent: bool = False,
) -> int:
    """Appends (type, payload) events to a thread's stream in one append (all
    or none); returns the stream's last seq. The event ids are fixed before
    the first try, so a retried call is not applied twice."""
    request = pb.AppendThreadEventsRequest(
        thread_id=thread_id,
        events=[
            pb.ThreadEvent(event_id=str(uuid.uuid4()), type=type_, payload_json=dumps(payload))
            for type_, payload in events
        ],
        require_no_runs=require_no_runs,
        require_latest_parent=require_latest_parent,
    )
    answer = await call_patiently(lambda: stub.AppendThreadEvents(request), "writing to the thread")
    return int(answer.last_seq)


def _configurable(config: RunnableConfig) -> dict[str, Any]:
    return dict(config.get("configurable") or {})


def _config(thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> RunnableConfig:
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": checkpoint_id,
        }
    }


class EventLogSaver(BaseCheckpointSaver[str]):
    """LangGraph checkpointer whose writes are events and whose reads come
    from the checkpoint service. Async only (graphmesh runs graphs with the
    async API)."""

    def __init__(
        self,
        reader: CheckpointReader,
        sink: CheckpointSink,
        *,
        threads: pb_grpc.CheckpointServiceStub | None = None,
        serde: SerializerProtocol | None = None,
    ) -> None:
        """Reads through `reader`, writes through `sink`; the thread-wide
        operations (delete, copy, prune, delete for runs) go to the
        checkpoint service at `threads`, which a saver inside a run has none of."""
        super().__init__(serde=serde)
        self._reader = reader
        self._sink = sink
        self._threads = threads
        #: The event loop the saver's I/O runs on; the sync methods (a sync
        #: node invoking a subgraph, in a worker thread) hand their calls to it.
        self._loop = _running_loop()

    @classmethod
    def over_api(
        cls, stub: pb_grpc.CheckpointServiceStub, sink: CheckpointSink | None = None
    ) -> EventLogSaver:
        """A saver outside runs, on the checkpoint service's API: reads from
        it, writes to threads' own streams (`ThreadSink`, unless `sink`)."""
        return cls(RemoteCheckpointReader(stub), sink or ThreadSink(stub), threads=stub)

    @property
    def _stub(self) -> pb_grpc.CheckpointServiceStub:
        if self._threads is None:
            raise InvalidArgument(
                "a saver inside a run does not delete, copy or prune threads",
                reason="THREAD_OPERATION_IN_RUN",
            )
        return self._threads

    # Reads

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        conf = _configurable(config)
        stored = await self._reader.get(
            str(conf["thread_id"]),
            str(conf.get("checkpoint_ns", "")),
            get_checkpoint_id(config) or "",
            after=self._sink.read_after(),
        )
        return self._tuple(stored) if stored is not None else None

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        conf = _configurable(config) if config else {}
        ns = conf.get("checkpoint_ns")
        query = CheckpointQuery(
            thread_id=str(conf.get("thread_id") or ""),
            checkpoint_ns=str(ns) if ns is not None else None,
            checkpoint_id=str(conf.get("checkpoint_id") or ""),
            before_checkpoint_id=(get_checkpoint_id(before) or "") if before else "",
            metadata_filter=to_jsonable(filter or {}),
            limit=max(limit, 0) if limit is not None else None,
        )
        for stored in await self._reader.search(query):
            yield self._tuple(stored)

    def _tuple(self, stored: StoredCheckpoint) -> CheckpointTuple:
        ns = stored.checkpoint_ns
        checkpoint: Checkpoint = self.serde.loads_typed(stored.checkpoint)
        parent = stored.parent_checkpoint_id
        return CheckpointTuple(
            config=_config(stored.thread_id, ns, stored.checkpoint_id),
            checkpoint=checkpoint,
            metadata=self.serde.loads_typed(stored.metadata),
            parent_config=_config(stored.thread_id, ns, parent) if parent else None,
            pending_writes=[
                (w.task_id, w.channel, self.serde.loads_typed(w.value))
                for w in stored.pending_writes
            ],
        )

    # Writes

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        conf = _configurable(config)
        thread_id = str(conf["thread_id"])
        ns = str(conf.get("checkpoint_ns", ""))
        full_metadata = get_checkpoint_metadata(config, metadata)
        saved = cpe.SavedCheckpoint(
            checkpoint_ns=ns,
            checkpoint_id=checkpoint["id"],
            parent_checkpoint_id=str(conf.get("checkpoint_id") or ""),
            run_id=self._sink.run_id or str(full_metadata.get("run_id") or ""),
            checkpoint=self.serde.dumps_typed(checkpoint),
            metadata=self.serde.dumps_typed(full_metadata),
            metadata_json=to_jsonable(full_metadata),
        )
        await self._sink.save(thread_id, cpe.CHECKPOINT_SAVED, saved.to_payload())
        return _config(thread_id, ns, checkpoint["id"])

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        conf = _configurable(config)
        saved = cpe.SavedWrites(
            checkpoint_ns=str(conf.get("checkpoint_ns", "")),
            checkpoint_id=str(conf["checkpoint_id"]),
            task_id=task_id,
            task_path=task_path,
            overwrite=all(channel in WRITES_IDX_MAP for channel, _ in writes),
            writes=tuple(
                cpe.SavedWrite(WRITES_IDX_MAP.get(channel, idx), channel, self.serde.dumps_typed(v))
                for idx, (channel, v) in enumerate(writes)
            ),
        )
        await self._sink.save(str(conf["thread_id"]), cpe.WRITES_SAVED, saved.to_payload())

    async def adelete_thread(self, thread_id: str) -> None:
        await append_thread_event(self._stub, thread_id, cpe.CHECKPOINTS_DELETED, {})

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await append_thread_event(
            self._stub,
            target_thread_id,
            cpe.CHECKPOINTS_COPIED,
            {"source_thread_id": source_thread_id},
        )

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        if strategy not in cpe.PRUNE_STRATEGIES:
            raise InvalidArgument(
                f"unknown prune strategy {strategy!r}", reason="PRUNE_STRATEGY", field="strategy"
            )
        for thread_id in thread_ids:
            await append_thread_event(
                self._stub, thread_id, cpe.CHECKPOINTS_PRUNED, {"strategy": strategy}
            )

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        if not run_ids:
            return
        request = pb.DeleteRunCheckpointsRequest(run_ids=list(run_ids), event_id=str(uuid.uuid4()))
        await call_patiently(
            lambda: self._stub.DeleteRunCheckpoints(request), "deleting run checkpoints"
        )

    # The sync methods, for sync code that runs in a worker thread while the
    # saver's loop goes on (LangGraph runs sync nodes so): each is its async
    # twin, run on that loop.

    def _on_loop(self, call: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
        loop = self._loop
        if loop is None or loop.is_closed():
            raise RuntimeError("EventLogSaver was made outside an event loop: use its async API")
        if _running_loop() is loop:
            raise RuntimeError(
                "EventLogSaver's sync methods block until its event loop answers, so they"
                " cannot be called on that loop: use the async methods (aget, ainvoke...)"
            )
        result: _T = asyncio.run_coroutine_threadsafe(call(), loop).result()
        return result

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self._on_loop(lambda: self.aget_tuple(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        async def collect() -> list[CheckpointTuple]:
            return [t async for t in self.alist(config, filter=filter, before=before, limit=limit)]

        return iter(self._on_loop(collect))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._on_loop(lambda: self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._on_loop(lambda: self.aput_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        self._on_loop(lambda: self.adelete_thread(thread_id))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._on_loop(lambda: self.acopy_thread(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        self._on_loop(lambda: self.aprune(thread_ids, strategy=strategy))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._on_loop(lambda: self.adelete_for_runs(run_ids))

    def get_next_version(self, current: str | None, channel: None) -> str:
        """Sortable string versions, as LangGraph's own savers make them."""
        if current is None:
            current_v = 0
        elif isinstance(current, int):
            current_v = current
        else:
            current_v = int(current.split(".")[0])
        return f"{current_v + 1:032}.{random.random():016}"


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
