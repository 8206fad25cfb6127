import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from graphmesh.internal.v1 import checkpoint_service_pb2 as _checkpoint_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AppendOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPEND_OUTCOME_UNSPECIFIED: _ClassVar[AppendOutcome]
    APPEND_OUTCOME_APPENDED: _ClassVar[AppendOutcome]
    APPEND_OUTCOME_DUPLICATE: _ClassVar[AppendOutcome]
    APPEND_OUTCOME_REJECTED_GAP: _ClassVar[AppendOutcome]
    APPEND_OUTCOME_REJECTED_STALE_ATTEMPT: _ClassVar[AppendOutcome]
    APPEND_OUTCOME_REJECTED_CONFLICT: _ClassVar[AppendOutcome]
    APPEND_OUTCOME_REJECTED_THREAD_DELETED: _ClassVar[AppendOutcome]
    APPEND_OUTCOME_REJECTED_THREAD_BUSY: _ClassVar[AppendOutcome]
    APPEND_OUTCOME_REJECTED_MALFORMED: _ClassVar[AppendOutcome]

class ClaimOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLAIM_OUTCOME_UNSPECIFIED: _ClassVar[ClaimOutcome]
    CLAIM_OUTCOME_CLAIMED: _ClassVar[ClaimOutcome]
    CLAIM_OUTCOME_ALREADY_ENDED: _ClassVar[ClaimOutcome]
    CLAIM_OUTCOME_LEASED_ELSEWHERE: _ClassVar[ClaimOutcome]
    CLAIM_OUTCOME_UNKNOWN_RUN: _ClassVar[ClaimOutcome]
    CLAIM_OUTCOME_THREAD_BUSY: _ClassVar[ClaimOutcome]
    CLAIM_OUTCOME_ATTEMPTS_EXHAUSTED: _ClassVar[ClaimOutcome]

class CancelState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CANCEL_STATE_UNSPECIFIED: _ClassVar[CancelState]
    CANCEL_STATE_UNKNOWN_RUN: _ClassVar[CancelState]
    CANCEL_STATE_ALREADY_ENDED: _ClassVar[CancelState]
    CANCEL_STATE_CANCELLED: _ClassVar[CancelState]
    CANCEL_STATE_CANCELLING: _ClassVar[CancelState]
APPEND_OUTCOME_UNSPECIFIED: AppendOutcome
APPEND_OUTCOME_APPENDED: AppendOutcome
APPEND_OUTCOME_DUPLICATE: AppendOutcome
APPEND_OUTCOME_REJECTED_GAP: AppendOutcome
APPEND_OUTCOME_REJECTED_STALE_ATTEMPT: AppendOutcome
APPEND_OUTCOME_REJECTED_CONFLICT: AppendOutcome
APPEND_OUTCOME_REJECTED_THREAD_DELETED: AppendOutcome
APPEND_OUTCOME_REJECTED_THREAD_BUSY: AppendOutcome
APPEND_OUTCOME_REJECTED_MALFORMED: AppendOutcome
CLAIM_OUTCOME_UNSPECIFIED: ClaimOutcome
CLAIM_OUTCOME_CLAIMED: ClaimOutcome
CLAIM_OUTCOME_ALREADY_ENDED: ClaimOutcome
CLAIM_OUTCOME_LEASED_ELSEWHERE: ClaimOutcome
CLAIM_OUTCOME_UNKNOWN_RUN: ClaimOutcome
CLAIM_OUTCOME_THREAD_BUSY: ClaimOutcome
CLAIM_OUTCOME_ATTEMPTS_EXHAUSTED: ClaimOutcome
CANCEL_STATE_UNSPECIFIED: CancelState
CANCEL_STATE_UNKNOWN_RUN: CancelState
CANCEL_STATE_ALREADY_ENDED: CancelState
CANCEL_STATE_CANCELLED: CancelState
CANCEL_STATE_CANCELLING: CancelState

class EventEnvelope(_message.Message):
    __slots__ = ("event_id", "run_id", "thread_id", "seq", "attempt", "type", "time", "schema_version", "payload_json", "position")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    run_id: str
    thread_id: str
    seq: int
    attempt: int
    type: str
    time: _timestamp_pb2.Timestamp
    schema_version: int
    payload_json: str
    position: int
    def __init__(self, event_id: _Optional[str] = ..., run_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., seq: _Optional[int] = ..., attempt: _Optional[int] = ..., type: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., schema_version: _Optional[int] = ..., payload_json: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class EventBatch(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[EventEnvelope]
    def __init__(self, events: _Optional[_Iterable[_Union[EventEnvelope, _Mapping]]] = ...) -> None: ...

class AppendEventsRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[EventEnvelope]
    def __init__(self, events: _Optional[_Iterable[_Union[EventEnvelope, _Mapping]]] = ...) -> None: ...

class AppendEventsResponse(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedScalarFieldContainer[AppendOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[AppendOutcome, str]]] = ...) -> None: ...

class ReadEventsRequest(_message.Message):
    __slots__ = ("run_id", "after_seq", "limit")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    after_seq: int
    limit: int
    def __init__(self, run_id: _Optional[str] = ..., after_seq: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ReadEventsResponse(_message.Message):
    __slots__ = ("events", "run_exists")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    RUN_EXISTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[EventEnvelope]
    run_exists: bool
    def __init__(self, events: _Optional[_Iterable[_Union[EventEnvelope, _Mapping]]] = ..., run_exists: _Optional[bool] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("run_id", "after_seq", "wait_for_end")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    WAIT_FOR_END_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    after_seq: int
    wait_for_end: bool
    def __init__(self, run_id: _Optional[str] = ..., after_seq: _Optional[int] = ..., wait_for_end: _Optional[bool] = ...) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[EventEnvelope]
    def __init__(self, events: _Optional[_Iterable[_Union[EventEnvelope, _Mapping]]] = ...) -> None: ...

class ClaimRunsRequest(_message.Message):
    __slots__ = ("run_ids", "executor_id", "lease_ms", "with_latest_checkpoint")
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_MS_FIELD_NUMBER: _ClassVar[int]
    WITH_LATEST_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    executor_id: str
    lease_ms: int
    with_latest_checkpoint: bool
    def __init__(self, run_ids: _Optional[_Iterable[str]] = ..., executor_id: _Optional[str] = ..., lease_ms: _Optional[int] = ..., with_latest_checkpoint: _Optional[bool] = ...) -> None: ...

class ClaimRunsResponse(_message.Message):
    __slots__ = ("claims",)
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    claims: _containers.RepeatedCompositeFieldContainer[RunClaim]
    def __init__(self, claims: _Optional[_Iterable[_Union[RunClaim, _Mapping]]] = ...) -> None: ...

class RunClaim(_message.Message):
    __slots__ = ("outcome", "attempt", "last_seq", "retry_after_ms", "cancel_action", "latest_checkpoint_read", "latest_checkpoint")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    CANCEL_ACTION_FIELD_NUMBER: _ClassVar[int]
    LATEST_CHECKPOINT_READ_FIELD_NUMBER: _ClassVar[int]
    LATEST_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    outcome: ClaimOutcome
    attempt: int
    last_seq: int
    retry_after_ms: int
    cancel_action: str
    latest_checkpoint_read: bool
    latest_checkpoint: _checkpoint_service_pb2.StoredCheckpoint
    def __init__(self, outcome: _Optional[_Union[ClaimOutcome, str]] = ..., attempt: _Optional[int] = ..., last_seq: _Optional[int] = ..., retry_after_ms: _Optional[int] = ..., cancel_action: _Optional[str] = ..., latest_checkpoint_read: _Optional[bool] = ..., latest_checkpoint: _Optional[_Union[_checkpoint_service_pb2.StoredCheckpoint, _Mapping]] = ...) -> None: ...

class RenewLeasesRequest(_message.Message):
    __slots__ = ("executor_id", "run_ids", "lease_ms")
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    LEASE_MS_FIELD_NUMBER: _ClassVar[int]
    executor_id: str
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    lease_ms: int
    def __init__(self, executor_id: _Optional[str] = ..., run_ids: _Optional[_Iterable[str]] = ..., lease_ms: _Optional[int] = ...) -> None: ...

class RenewLeasesResponse(_message.Message):
    __slots__ = ("lost_run_ids", "cancellations")
    LOST_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    CANCELLATIONS_FIELD_NUMBER: _ClassVar[int]
    lost_run_ids: _containers.RepeatedScalarFieldContainer[str]
    cancellations: _containers.RepeatedCompositeFieldContainer[RunCancellation]
    def __init__(self, lost_run_ids: _Optional[_Iterable[str]] = ..., cancellations: _Optional[_Iterable[_Union[RunCancellation, _Mapping]]] = ...) -> None: ...

class TakeStaleCommandsRequest(_message.Message):
    __slots__ = ("older_than_ms", "limit")
    OLDER_THAN_MS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    older_than_ms: int
    limit: int
    def __init__(self, older_than_ms: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class TakeStaleCommandsResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[EventEnvelope]
    def __init__(self, events: _Optional[_Iterable[_Union[EventEnvelope, _Mapping]]] = ...) -> None: ...

class RunCancellation(_message.Message):
    __slots__ = ("run_id", "action")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    action: str
    def __init__(self, run_id: _Optional[str] = ..., action: _Optional[str] = ...) -> None: ...

class RequestCancelRequest(_message.Message):
    __slots__ = ("run_id", "action")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    action: str
    def __init__(self, run_id: _Optional[str] = ..., action: _Optional[str] = ...) -> None: ...

class RequestCancelResponse(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: CancelState
    def __init__(self, state: _Optional[_Union[CancelState, str]] = ...) -> None: ...

class WatchCancellationsRequest(_message.Message):
    __slots__ = ("executor_id",)
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    executor_id: str
    def __init__(self, executor_id: _Optional[str] = ...) -> None: ...

class WatchCancellationsResponse(_message.Message):
    __slots__ = ("cancellations", "commands_coming")
    CANCELLATIONS_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_COMING_FIELD_NUMBER: _ClassVar[int]
    cancellations: _containers.RepeatedCompositeFieldContainer[RunCancellation]
    commands_coming: bool
    def __init__(self, cancellations: _Optional[_Iterable[_Union[RunCancellation, _Mapping]]] = ..., commands_coming: _Optional[bool] = ...) -> None: ...
