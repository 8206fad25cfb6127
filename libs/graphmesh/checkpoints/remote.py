"""Checkpoints read through the checkpoint service's API (the executors'
and the gateway's reader), and the messages that carry them."""

from __future__ import annotations

from graphmesh.checkpoints.reader import (
    CheckpointQuery,
    CheckpointReader,
    StoredCheckpoint,
    StoredWrite,
)
from graphmesh.grpcutil import call_patiently, translated_rpc_errors
from graphmesh.internal.v1 import checkpoint_service_pb2 as pb
from graphmesh.internal.v1 import checkpoint_service_pb2_grpc as pb_grpc
from graphmesh.jsonutil import dumps


def stored_to_proto(stored: StoredCheckpoint) -> pb.StoredCheckpoint:
    """A checkpoint as the API sends it."""
    return pb.StoredCheckpoint(
        thread_id=stored.thread_id,
        checkpoint_ns=stored.checkpoint_ns,
        checkpoint_id=stored.checkpoint_id,
        parent_checkpoint_id=stored.parent_checkpoint_id,
        checkpoint=pb.TypedValue(type=stored.checkpoint[0], data=stored.checkpoint[1]),
        metadata=pb.TypedValue(type=stored.metadata[0], data=stored.metadata[1]),
        pending_writes=[
            pb.PendingWrite(
                task_id=w.task_id,
                channel=w.channel,
                value=pb.TypedValue(type=w.value[0], data=w.value[1]),
                task_path=w.task_path,
                idx=w.idx,
            )
            for w in stored.pending_writes
        ],
        run_id=stored.run_id,
    )


def stored_from_proto(message: pb.StoredCheckpoint) -> StoredCheckpoint:
    """The inverse of `stored_to_proto`."""
    return StoredCheckpoint(
        thread_id=message.thread_id,
        checkpoint_ns=message.checkpoint_ns,
        checkpoint_id=message.checkpoint_id,
        parent_checkpoint_id=message.parent_checkpoint_id,
        run_id=message.run_id,
        checkpoint=(message.checkpoint.type, message.checkpoint.data),
        metadata=(message.metadata.type, message.metadata.data),
        pending_writes=tuple(
            StoredWrite(w.task_id, w.channel, (w.value.type, w.value.data), w.task_path, w.idx)
            for w in message.pending_writes
        ),
    )


class RemoteCheckpointReader(CheckpointReader):
    """Reads checkpoints from the checkpoint service. Reads are retried
    while the service is unavailable (it restarts, its database is away);
    a read `after` a run's writes waits, server-side, until they are stored."""

    def __init__(self, stub: pb_grpc.CheckpointServiceStub) -> None:
        self._stub = stub

    async def get(
        self,
        thread_id: str,
        checkpoint_ns: str,
        checkpoint_id: str,
        *,
        after: tuple[str, int] = ("", 0),
    ) -> StoredCheckpoint | None:
        request = pb.GetCheckpointRequest(
            thread_id=thread_id,
            checkpoint_ns=checkpoint_ns,
            checkpoint_id=checkpoint_id,
            after_run_id=after[0],
            after_seq=after[1],
        )
        answer = await call_patiently(
            lambda: self._stub.GetCheckpoint(request), "reading a checkpoint"
        )
        return stored_from_proto(answer.checkpoint) if answer.found else None

    async def search(self, query: CheckpointQuery) -> list[StoredCheckpoint]:
        request = pb.ListCheckpointsRequest(
            thread_id=query.thread_id,
            checkpoint_id=query.checkpoint_id,
            before_checkpoint_id=query.before_checkpoint_id,
            metadata_filter_json=dumps(query.metadata_filter or {}),
        )
        if query.checkpoint_ns is not None:
            request.checkpoint_ns = query.checkpoint_ns
        if query.limit is not None:
            request.limit = max(query.limit, 0)
        found: list[StoredCheckpoint] = []
        with translated_rpc_errors("listing checkpoints"):
            async for page in self._stub.ListCheckpoints(request):
                found.extend(stored_from_proto(c) for c in page.checkpoints)
        return found
