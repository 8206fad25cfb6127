from graphmesh.v1 import run_pb2 as _run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MultitaskStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MULTITASK_STRATEGY_UNSPECIFIED: _ClassVar[MultitaskStrategy]
    MULTITASK_STRATEGY_REJECT: _ClassVar[MultitaskStrategy]
    MULTITASK_STRATEGY_ENQUEUE: _ClassVar[MultitaskStrategy]
    MULTITASK_STRATEGY_INTERRUPT: _ClassVar[MultitaskStrategy]
    MULTITASK_STRATEGY_ROLLBACK: _ClassVar[MultitaskStrategy]

class Durability(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DURABILITY_UNSPECIFIED: _ClassVar[Durability]
    DURABILITY_SYNC: _ClassVar[Durability]
    DURABILITY_ASYNC: _ClassVar[Durability]
    DURABILITY_EXIT: _ClassVar[Durability]

class CancelAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CANCEL_ACTION_UNSPECIFIED: _ClassVar[CancelAction]
    CANCEL_ACTION_INTERRUPT: _ClassVar[CancelAction]
    CANCEL_ACTION_ROLLBACK: _ClassVar[CancelAction]

class CancelOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CANCEL_OUTCOME_UNSPECIFIED: _ClassVar[CancelOutcome]
    CANCEL_OUTCOME_CANCELLED: _ClassVar[CancelOutcome]
    CANCEL_OUTCOME_CANCELLING: _ClassVar[CancelOutcome]
    CANCEL_OUTCOME_ALREADY_ENDED: _ClassVar[CancelOutcome]
MULTITASK_STRATEGY_UNSPECIFIED: MultitaskStrategy
MULTITASK_STRATEGY_REJECT: MultitaskStrategy
MULTITASK_STRATEGY_ENQUEUE: MultitaskStrategy
MULTITASK_STRATEGY_INTERRUPT: MultitaskStrategy
MULTITASK_STRATEGY_ROLLBACK: MultitaskStrategy
DURABILITY_UNSPECIFIED: Durability
DURABILITY_SYNC: Durability
DURABILITY_ASYNC: Durability
DURABILITY_EXIT: Durability
CANCEL_ACTION_UNSPECIFIED: CancelAction
CANCEL_ACTION_INTERRUPT: CancelAction
CANCEL_ACTION_ROLLBACK: CancelAction
CANCEL_OUTCOME_UNSPECIFIED: CancelOutcome
CANCEL_OUTCOME_CANCELLED: CancelOutcome
CANCEL_OUTCOME_CANCELLING: CancelOutcome
CANCEL_OUTCOME_ALREADY_ENDED: CancelOutcome

class CreateRunRequest(_message.Message):
    __slots__ = ("graph_id", "thread_id", "input_json", "request_id", "metadata", "command", "checkpoint_id", "multitask_strategy", "durability", "stream_modes", "stream_subgraphs", "timeout_seconds", "config_json", "context_json", "interrupt_before", "interrupt_after", "assistant_id")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_JSON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    MULTITASK_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    DURABILITY_FIELD_NUMBER: _ClassVar[int]
    STREAM_MODES_FIELD_NUMBER: _ClassVar[int]
    STREAM_SUBGRAPHS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_JSON_FIELD_NUMBER: _ClassVar[int]
    INTERRUPT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    INTERRUPT_AFTER_FIELD_NUMBER: _ClassVar[int]
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    graph_id: str
    thread_id: str
    input_json: str
    request_id: str
    metadata: _containers.ScalarMap[str, str]
    command: Command
    checkpoint_id: str
    multitask_strategy: MultitaskStrategy
    durability: Durability
    stream_modes: _containers.RepeatedScalarFieldContainer[_run_pb2.StreamMode]
    stream_subgraphs: bool
    timeout_seconds: float
    config_json: str
    context_json: str
    interrupt_before: _containers.RepeatedScalarFieldContainer[str]
    interrupt_after: _containers.RepeatedScalarFieldContainer[str]
    assistant_id: str
    def __init__(self, graph_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., input_json: _Optional[str] = ..., request_id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., command: _Optional[_Union[Command, _Mapping]] = ..., checkpoint_id: _Optional[str] = ..., multitask_strategy: _Optional[_Union[MultitaskStrategy, str]] = ..., durability: _Optional[_Union[Durability, str]] = ..., stream_modes: _Optional[_Iterable[_Union[_run_pb2.StreamMode, str]]] = ..., stream_subgraphs: _Optional[bool] = ..., timeout_seconds: _Optional[float] = ..., config_json: _Optional[str] = ..., context_json: _Optional[str] = ..., interrupt_before: _Optional[_Iterable[str]] = ..., interrupt_after: _Optional[_Iterable[str]] = ..., assistant_id: _Optional[str] = ...) -> None: ...

class Command(_message.Message):
    __slots__ = ("resume_json", "goto", "update_json")
    RESUME_JSON_FIELD_NUMBER: _ClassVar[int]
    GOTO_FIELD_NUMBER: _ClassVar[int]
    UPDATE_JSON_FIELD_NUMBER: _ClassVar[int]
    resume_json: str
    goto: _containers.RepeatedScalarFieldContainer[str]
    update_json: str
    def __init__(self, resume_json: _Optional[str] = ..., goto: _Optional[_Iterable[str]] = ..., update_json: _Optional[str] = ...) -> None: ...

class CreateRunResponse(_message.Message):
    __slots__ = ("run", "created")
    RUN_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    created: bool
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class GetRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ("graph_id", "thread_id", "status", "page_size", "page_token")
    GRAPH_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    graph_id: str
    thread_id: str
    status: _run_pb2.RunStatus
    page_size: int
    page_token: str
    def __init__(self, graph_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., status: _Optional[_Union[_run_pb2.RunStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_run_pb2.Run]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[_run_pb2.Run, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WaitRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class WaitRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ...) -> None: ...

class StreamRunRequest(_message.Message):
    __slots__ = ("run_id", "cursor", "stream_modes", "group_chunks")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    STREAM_MODES_FIELD_NUMBER: _ClassVar[int]
    GROUP_CHUNKS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    cursor: str
    stream_modes: _containers.RepeatedScalarFieldContainer[_run_pb2.StreamMode]
    group_chunks: bool
    def __init__(self, run_id: _Optional[str] = ..., cursor: _Optional[str] = ..., stream_modes: _Optional[_Iterable[_Union[_run_pb2.StreamMode, str]]] = ..., group_chunks: _Optional[bool] = ...) -> None: ...

class CancelRunRequest(_message.Message):
    __slots__ = ("run_id", "action", "wait")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    action: CancelAction
    wait: bool
    def __init__(self, run_id: _Optional[str] = ..., action: _Optional[_Union[CancelAction, str]] = ..., wait: _Optional[bool] = ...) -> None: ...

class CancelRunResponse(_message.Message):
    __slots__ = ("outcome", "run")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    outcome: CancelOutcome
    run: _run_pb2.Run
    def __init__(self, outcome: _Optional[_Union[CancelOutcome, str]] = ..., run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ...) -> None: ...

class StreamRunResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _run_pb2.RunEvent
    def __init__(self, event: _Optional[_Union[_run_pb2.RunEvent, _Mapping]] = ...) -> None: ...
