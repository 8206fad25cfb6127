import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TypedValue(_message.Message):
    __slots__ = ("type", "data")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    type: str
    data: bytes
    def __init__(self, type: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class PendingWrite(_message.Message):
    __slots__ = ("task_id", "channel", "value", "task_path", "idx")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TASK_PATH_FIELD_NUMBER: _ClassVar[int]
    IDX_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    channel: str
    value: TypedValue
    task_path: str
    idx: int
    def __init__(self, task_id: _Optional[str] = ..., channel: _Optional[str] = ..., value: _Optional[_Union[TypedValue, _Mapping]] = ..., task_path: _Optional[str] = ..., idx: _Optional[int] = ...) -> None: ...

class StoredCheckpoint(_message.Message):
    __slots__ = ("thread_id", "checkpoint_ns", "checkpoint_id", "parent_checkpoint_id", "checkpoint", "metadata", "pending_writes", "run_id")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_NS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PENDING_WRITES_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    parent_checkpoint_id: str
    checkpoint: TypedValue
    metadata: TypedValue
    pending_writes: _containers.RepeatedCompositeFieldContainer[PendingWrite]
    run_id: str
    def __init__(self, thread_id: _Optional[str] = ..., checkpoint_ns: _Optional[str] = ..., checkpoint_id: _Optional[str] = ..., parent_checkpoint_id: _Optional[str] = ..., checkpoint: _Optional[_Union[TypedValue, _Mapping]] = ..., metadata: _Optional[_Union[TypedValue, _Mapping]] = ..., pending_writes: _Optional[_Iterable[_Union[PendingWrite, _Mapping]]] = ..., run_id: _Optional[str] = ...) -> None: ...

class GetCheckpointRequest(_message.Message):
    __slots__ = ("thread_id", "checkpoint_ns", "checkpoint_id", "after_run_id", "after_seq")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_NS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    after_run_id: str
    after_seq: int
    def __init__(self, thread_id: _Optional[str] = ..., checkpoint_ns: _Optional[str] = ..., checkpoint_id: _Optional[str] = ..., after_run_id: _Optional[str] = ..., after_seq: _Optional[int] = ...) -> None: ...

class GetCheckpointResponse(_message.Message):
    __slots__ = ("checkpoint", "found")
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    checkpoint: StoredCheckpoint
    found: bool
    def __init__(self, checkpoint: _Optional[_Union[StoredCheckpoint, _Mapping]] = ..., found: _Optional[bool] = ...) -> None: ...

class ListCheckpointsRequest(_message.Message):
    __slots__ = ("thread_id", "checkpoint_ns", "checkpoint_id", "before_checkpoint_id", "metadata_filter_json", "limit")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_NS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    BEFORE_CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FILTER_JSON_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    before_checkpoint_id: str
    metadata_filter_json: str
    limit: int
    def __init__(self, thread_id: _Optional[str] = ..., checkpoint_ns: _Optional[str] = ..., checkpoint_id: _Optional[str] = ..., before_checkpoint_id: _Optional[str] = ..., metadata_filter_json: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListCheckpointsResponse(_message.Message):
    __slots__ = ("checkpoints",)
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    checkpoints: _containers.RepeatedCompositeFieldContainer[StoredCheckpoint]
    def __init__(self, checkpoints: _Optional[_Iterable[_Union[StoredCheckpoint, _Mapping]]] = ...) -> None: ...

class ThreadEvent(_message.Message):
    __slots__ = ("event_id", "type", "payload_json")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: str
    payload_json: str
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[str] = ..., payload_json: _Optional[str] = ...) -> None: ...

class AppendThreadEventsRequest(_message.Message):
    __slots__ = ("thread_id", "events", "require_no_runs", "require_latest_parent")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_NO_RUNS_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_LATEST_PARENT_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    events: _containers.RepeatedCompositeFieldContainer[ThreadEvent]
    require_no_runs: bool
    require_latest_parent: bool
    def __init__(self, thread_id: _Optional[str] = ..., events: _Optional[_Iterable[_Union[ThreadEvent, _Mapping]]] = ..., require_no_runs: _Optional[bool] = ..., require_latest_parent: _Optional[bool] = ...) -> None: ...

class AppendThreadEventsResponse(_message.Message):
    __slots__ = ("last_seq", "appended")
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    APPENDED_FIELD_NUMBER: _ClassVar[int]
    last_seq: int
    appended: int
    def __init__(self, last_seq: _Optional[int] = ..., appended: _Optional[int] = ...) -> None: ...

class DeleteRunCheckpointsRequest(_message.Message):
    __slots__ = ("run_ids", "event_id")
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    event_id: str
    def __init__(self, run_ids: _Optional[_Iterable[str]] = ..., event_id: _Optional[str] = ...) -> None: ...

class DeleteRunCheckpointsResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ThreadRecord(_message.Message):
    __slots__ = ("thread_id", "metadata", "created_at", "updated_at", "graph_id", "last_run_id", "last_outcome", "busy", "deleted")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    BUSY_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    metadata: _containers.ScalarMap[str, str]
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    graph_id: str
    last_run_id: str
    last_outcome: str
    busy: bool
    deleted: bool
    def __init__(self, thread_id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., graph_id: _Optional[str] = ..., last_run_id: _Optional[str] = ..., last_outcome: _Optional[str] = ..., busy: _Optional[bool] = ..., deleted: _Optional[bool] = ...) -> None: ...

class GetThreadRecordRequest(_message.Message):
    __slots__ = ("thread_id",)
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    def __init__(self, thread_id: _Optional[str] = ...) -> None: ...

class GetThreadRecordResponse(_message.Message):
    __slots__ = ("thread", "found")
    THREAD_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    thread: ThreadRecord
    found: bool
    def __init__(self, thread: _Optional[_Union[ThreadRecord, _Mapping]] = ..., found: _Optional[bool] = ...) -> None: ...

class ListThreadRecordsRequest(_message.Message):
    __slots__ = ("graph_id", "metadata", "before_updated_at", "before_thread_id", "limit", "status", "tenant")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    BEFORE_UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    BEFORE_THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    graph_id: str
    metadata: _containers.ScalarMap[str, str]
    before_updated_at: _timestamp_pb2.Timestamp
    before_thread_id: str
    limit: int
    status: int
    tenant: str
    def __init__(self, graph_id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., before_updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., before_thread_id: _Optional[str] = ..., limit: _Optional[int] = ..., status: _Optional[int] = ..., tenant: _Optional[str] = ...) -> None: ...

class ListThreadRecordsResponse(_message.Message):
    __slots__ = ("threads",)
    THREADS_FIELD_NUMBER: _ClassVar[int]
    threads: _containers.RepeatedCompositeFieldContainer[ThreadRecord]
    def __init__(self, threads: _Optional[_Iterable[_Union[ThreadRecord, _Mapping]]] = ...) -> None: ...
