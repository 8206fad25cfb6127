"""The checkpoint service's CheckpointService: checkpoint reads, thread
streams and thread records."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc

from graphmesh.checkpoints import events as cpe
from graphmesh.checkpoints.postgres import PostgresCheckpointReader
from graphmesh.checkpoints.reader import CheckpointQuery
from graphmesh.checkpoints.remote import stored_to_proto
from graphmesh.errors import InvalidArgument, Unavailable
from graphmesh.eventstore import EventStore
from graphmesh.eventstore.rules import ThreadEventIn
from graphmesh.grpcutil import handle_errors
from graphmesh.internal.v1 import checkpoint_service_pb2 as pb
from graphmesh.internal.v1 import checkpoint_service_pb2_grpc as pb_grpc
from graphmesh.thread_records import ThreadStatus
from graphmesh_checkpoint.notifier import RunNotifier
from graphmesh_checkpoint.records import ThreadFilter, ThreadRecords

#: How long a read waits for the writes it must see before giving up.
_READ_YOUR_WRITES_TIMEOUT = 10.0
_LIST_PAGE = 100
_MAX_THREAD_ID = 256


def _thread_id(value: str) -> str:
    if not value or len(value) > _MAX_THREAD_ID:
        raise InvalidArgument(
            f"thread_id must be 1 to {_MAX_THREAD_ID} characters",
            reason="THREAD_ID_MALFORMED",
            field="thread_id",
        )
    return value


class CheckpointServicer(pb_grpc.CheckpointServiceServicer):
    """Serves checkpoints and thread records to the executors and the gateway."""

    def __init__(
        self,
        store: EventStore,
        reader: PostgresCheckpointReader,
        records: ThreadRecords,
        notifier: RunNotifier,
    ) -> None:
        self._store = store
        self._reader = reader
        self._records = records
        self._notifier = notifier

    @handle_errors
    async def GetCheckpoint(
        self, request: pb.GetCheckpointRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCheckpointResponse:
        if request.after_run_id:
            await self._wait_for(request.after_run_id, request.after_seq)
        stored = await self._reader.get(
            _thread_id(request.thread_id), request.checkpoint_ns, request.checkpoint_id
        )
        if stored is None:
            return pb.GetCheckpointResponse(found=False)
        return pb.GetCheckpointResponse(checkpoint=stored_to_proto(stored), found=True)

    async def _wait_for(self, run_id: str, seq: int) -> None:
        """Returns once the store holds the run's events up to `seq`."""
        flag = self._notifier.subscribe(run_id)
        try:
            async with asyncio.timeout(_READ_YOUR_WRITES_TIMEOUT):
                while True:
                    flag.clear()
                    head = await self._store.head(run_id)
                    if head is None or head.last_seq >= seq or head.ended:
                        return
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(flag.wait(), 1.0)
        except TimeoutError:
            raise Unavailable(
                f"the checkpoint writes of run {run_id} up to seq {seq} are not stored yet",
                reason="WRITES_NOT_STORED",
            ) from None
        finally:
            self._notifier.unsubscribe(run_id, flag)

    @handle_errors
    async def ListCheckpoints(
        self, request: pb.ListCheckpointsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ListCheckpointsResponse]:
        try:
            metadata_filter = json.loads(request.metadata_filter_json or "{}")
        except ValueError as exc:
            raise InvalidArgument(
                f"metadata_filter_json is not JSON: {exc}",
                reason="FILTER_MALFORMED",
                field="metadata_filter_json",
            ) from exc
        if not isinstance(metadata_filter, dict):
            raise InvalidArgument(
                "metadata_filter_json must be an object",
                reason="FILTER_MALFORMED",
                field="metadata_filter_json",
            )
        query = CheckpointQuery(
            thread_id=request.thread_id,
            checkpoint_ns=request.checkpoint_ns if request.HasField("checkpoint_ns") else None,
            checkpoint_id=request.checkpoint_id,
            before_checkpoint_id=request.before_checkpoint_id,
            metadata_filter=metadata_filter,
            limit=request.limit if request.HasField("limit") else None,
        )
        found = await self._reader.search(query)
        for start in range(0, len(found), _LIST_PAGE):
            page = found[start : start + _LIST_PAGE]
            yield pb.ListCheckpointsResponse(checkpoints=[stored_to_proto(c) for c in page])

    @handle_errors
    async def AppendThreadEvents(
        self, request: pb.AppendThreadEventsRequest, context: grpc.aio.ServicerContext
    ) -> pb.AppendThreadEventsResponse:
        thread_id = _thread_id(request.thread_id)
        if not request.events:
            raise InvalidArgument("no events", reason="EVENTS_EMPTY", field="events")
        events: list[ThreadEventIn] = []
        for i, item in enumerate(request.events):
            if item.type not in cpe.THREAD_STREAM_TYPES:
                raise InvalidArgument(
                    f"{item.type!r} is not a thread event",
                    reason="EVENT_TYPE_UNKNOWN",
                    field=f"events[{i}].type",
                )
            problem = cpe.payload_problem(item.type, item.payload_json)
            if problem is not None:
                raise InvalidArgument(
                    problem, reason="EVENT_MALFORMED", field=f"events[{i}].payload_json"
                )
            events.append(
                ThreadEventIn(item.event_id or str(uuid.uuid4()), item.type, item.payload_json)
            )
        last_seq, appended = await self._store.append_thread(
            thread_id,
            events,
            require_no_runs=request.require_no_runs,
            require_latest_parent=request.require_latest_parent,
        )
        return pb.AppendThreadEventsResponse(last_seq=last_seq, appended=appended)

    @handle_errors
    async def DeleteRunCheckpoints(
        self, request: pb.DeleteRunCheckpointsRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteRunCheckpointsResponse:
        run_ids = list(request.run_ids)
        base = request.event_id or str(uuid.uuid4())
        payload = json.dumps({"run_ids": run_ids})
        for thread_id in await self._reader.threads_of_runs(run_ids):
            # One event per thread, each with an id derived from the call's,
            # so that a retried call is applied once per thread.
            event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/{thread_id}"))
            await self._store.append_thread(
                thread_id, [ThreadEventIn(event_id, cpe.RUN_CHECKPOINTS_DELETED, payload)]
            )
        return pb.DeleteRunCheckpointsResponse()

    @handle_errors
    async def GetThreadRecord(
        self, request: pb.GetThreadRecordRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetThreadRecordResponse:
        record = await self._records.get(_thread_id(request.thread_id))
        if record is None:
            return pb.GetThreadRecordResponse(found=False)
        return pb.GetThreadRecordResponse(thread=record.to_record_proto(), found=True)

    @handle_errors
    async def ListThreadRecords(
        self, request: pb.ListThreadRecordsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListThreadRecordsResponse:
        status: ThreadStatus | None = None
        if request.status:
            try:
                status = ThreadStatus(request.status)
            except ValueError as exc:
                raise InvalidArgument(
                    f"unknown status {request.status}", reason="STATUS_UNKNOWN", field="status"
                ) from exc
        before: tuple[datetime, str] | None = None
        if request.before_thread_id:
            before = (request.before_updated_at.ToDatetime(tzinfo=UTC), request.before_thread_id)
        where = ThreadFilter(
            limit=max(1, min(request.limit or 50, 1001)),
            graph_id=request.graph_id,
            status=status,
            metadata=dict(request.metadata),
            before=before,
            tenant=request.tenant,
        )
        found = await self._records.search(where)
        return pb.ListThreadRecordsResponse(threads=[r.to_record_proto() for r in found])
