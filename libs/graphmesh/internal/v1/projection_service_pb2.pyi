from graphmesh.v1 import run_pb2 as _run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CountActiveRunsRequest(_message.Message):
    __slots__ = ("graph_id", "tenant")
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    graph_id: str
    tenant: str
    def __init__(self, graph_id: _Optional[str] = ..., tenant: _Optional[str] = ...) -> None: ...

class ActiveRuns(_message.Message):
    __slots__ = ("graph_id", "pending", "running")
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    graph_id: str
    pending: int
    running: int
    def __init__(self, graph_id: _Optional[str] = ..., pending: _Optional[int] = ..., running: _Optional[int] = ...) -> None: ...

class CountActiveRunsResponse(_message.Message):
    __slots__ = ("graphs",)
    GRAPHS_FIELD_NUMBER: _ClassVar[int]
    graphs: _containers.RepeatedCompositeFieldContainer[ActiveRuns]
    def __init__(self, graphs: _Optional[_Iterable[_Union[ActiveRuns, _Mapping]]] = ...) -> None: ...

class GetRunViewRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class GetRunViewResponse(_message.Message):
    __slots__ = ("found", "run")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    found: bool
    run: _run_pb2.Run
    def __init__(self, found: _Optional[bool] = ..., run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ...) -> None: ...

class ListRunViewsRequest(_message.Message):
    __slots__ = ("graph_id", "thread_id", "status", "limit", "before_created_at_us", "before_run_id", "tenant")
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    BEFORE_CREATED_AT_US_FIELD_NUMBER: _ClassVar[int]
    BEFORE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    graph_id: str
    thread_id: str
    status: _run_pb2.RunStatus
    limit: int
    before_created_at_us: int
    before_run_id: str
    tenant: str
    def __init__(self, graph_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., status: _Optional[_Union[_run_pb2.RunStatus, str]] = ..., limit: _Optional[int] = ..., before_created_at_us: _Optional[int] = ..., before_run_id: _Optional[str] = ..., tenant: _Optional[str] = ...) -> None: ...

class ListRunViewsResponse(_message.Message):
    __slots__ = ("runs", "has_more")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_run_pb2.Run]
    has_more: bool
    def __init__(self, runs: _Optional[_Iterable[_Union[_run_pb2.Run, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...
