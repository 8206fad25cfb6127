"""The event envelope: what every run event carries, and its encodings.

An event's id is derived from (run_id, attempt, seq), so an event that is
sent twice (a producer retry, a redelivered Kafka message) has the same id
and the event store recognises it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Final

from google.protobuf.timestamp_pb2 import Timestamp

from graphmesh.internal.v1 import event_store_service_pb2 as es_pb2

#: Namespace of every uuid5 graphmesh derives (event ids, run ids).
GRAPHMESH_NAMESPACE: Final = uuid.UUID("6f1e4c2a-93b1-5d0e-8a57-2c4b9e1f7d30")

SCHEMA_VERSION: Final = 1

RUN_CREATED: Final = "RunCreated"
RUN_STARTED: Final = "RunStarted"
NODE_UPDATED: Final = "NodeUpdated"
CUSTOM_EVENT: Final = "CustomEvent"
RUN_SUCCEEDED: Final = "RunSucceeded"
RUN_FAILED: Final = "RunFailed"
RUN_CANCELLED: Final = "RunCancelled"
RUN_INTERRUPTED: Final = "RunInterrupted"
#: The run went past its timeout and was stopped.
RUN_TIMED_OUT: Final = "RunTimedOut"
#: Stream-mode events (see graphmesh.streams): values, messages, debug,
#: tasks and checkpoints.
STATE_VALUES: Final = "StateValues"
MESSAGE_CHUNK: Final = "MessageChunk"
#: Several message chunks of one run in one event (see graphmesh.streams).
MESSAGE_CHUNKS: Final = "MessageChunks"
DEBUG_EVENT: Final = "DebugEvent"
TASK_EVENT: Final = "TaskEvent"
CHECKPOINT_EVENT: Final = "CheckpointEvent"
#: One of LangChain's run events (`astream_events`), the `events` mode.
STREAM_EVENT: Final = "StreamEvent"
#: A LangGraph checkpoint, and a task's pending writes, saved by a run.
CHECKPOINT_SAVED: Final = "CheckpointSaved"
WRITES_SAVED: Final = "WritesSaved"

TERMINAL_TYPES: Final = frozenset(
    {RUN_SUCCEEDED, RUN_FAILED, RUN_CANCELLED, RUN_INTERRUPTED, RUN_TIMED_OUT}
)
EVENT_TYPES: Final = frozenset(
    {RUN_CREATED, RUN_STARTED, NODE_UPDATED, CUSTOM_EVENT, CHECKPOINT_SAVED, WRITES_SAVED}
    | {STATE_VALUES, MESSAGE_CHUNK, MESSAGE_CHUNKS, DEBUG_EVENT, TASK_EVENT, CHECKPOINT_EVENT}
    | {STREAM_EVENT}
    | TERMINAL_TYPES
)


_NAMESPACE_BYTES: Final = GRAPHMESH_NAMESPACE.bytes


def event_id_for(run_id: str, attempt: int, seq: int) -> str:
    """The id of the event at `seq` of `run_id` emitted by `attempt`:
    `uuid5(GRAPHMESH_NAMESPACE, "event:run:attempt:seq")`, computed without
    the UUID object (one per event, on every hot path)."""
    digest = hashlib.sha1(
        _NAMESPACE_BYTES + f"event:{run_id}:{attempt}:{seq}".encode(), usedforsecurity=False
    ).digest()
    # The version (5) and variant (RFC 4122) bits, as uuid.uuid5 sets them.
    raw = (
        digest[:6]
        + bytes([(digest[6] & 0x0F) | 0x50, digest[7], (digest[8] & 0x3F) | 0x80])
        + digest[9:16]
    )
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def run_id_for_request(request_id: str) -> str:
    """The run id that an idempotency key always maps to."""
    return str(uuid.uuid5(GRAPHMESH_NAMESPACE, f"run:{request_id}"))


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Event:
    """One state change of a run, as stored and as sent on Kafka."""

    run_id: str
    thread_id: str
    seq: int
    attempt: int
    type: str
    payload_json: str
    time: datetime
    schema_version: int = SCHEMA_VERSION
    event_id: str = ""
    position: int = 0
    #: The W3C traceparent of the append that stored the event (the store
    #: sets it; it travels in Kafka headers, not in the envelope), so that
    #: work done on the stored event joins the run's trace.
    trace_context: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.event_id:
            object.__setattr__(self, "event_id", event_id_for(self.run_id, self.attempt, self.seq))

    @property
    def is_terminal(self) -> bool:
        """True for the event that ends a run."""
        return self.type in TERMINAL_TYPES

    def stored_at(self, position: int) -> Event:
        """This event with its event-store position."""
        return replace(self, position=position)

    def traced(self, trace_context: str) -> Event:
        """This event as stored by the append whose trace context is given."""
        return replace(self, trace_context=trace_context)


def new_event(
    run_id: str, thread_id: str, seq: int, attempt: int, type_: str, payload_json: str
) -> Event:
    """An event emitted now."""
    return Event(
        run_id=run_id,
        thread_id=thread_id,
        seq=seq,
        attempt=attempt,
        type=type_,
        payload_json=payload_json,
        time=utcnow(),
    )


def to_proto(event: Event) -> es_pb2.EventEnvelope:
    """The event as the internal protobuf envelope."""
    ts = Timestamp()
    ts.FromDatetime(event.time)
    return es_pb2.EventEnvelope(
        event_id=event.event_id,
        run_id=event.run_id,
        thread_id=event.thread_id,
        seq=event.seq,
        attempt=event.attempt,
        type=event.type,
        time=ts,
        schema_version=event.schema_version,
        payload_json=event.payload_json,
        position=event.position,
    )


def from_proto(msg: es_pb2.EventEnvelope) -> Event:
    """The event carried by a protobuf envelope."""
    return Event(
        run_id=msg.run_id,
        thread_id=msg.thread_id,
        seq=msg.seq,
        attempt=msg.attempt,
        type=msg.type,
        payload_json=msg.payload_json,
        time=msg.time.ToDatetime(tzinfo=UTC),
        schema_version=msg.schema_version,
        event_id=msg.event_id,
        position=msg.position,
    )


def encode(event: Event) -> bytes:
    """The event as Kafka message bytes."""
    return bytes(to_proto(event).SerializeToString())


def _checked(msg: es_pb2.EventEnvelope) -> Event:
    if not msg.run_id or not msg.event_id or msg.seq < 1 or msg.type not in EVENT_TYPES:
        raise ValueError("not an event envelope: missing run_id, event_id, seq or type")
    return from_proto(msg)


def decode(data: bytes) -> Event:
    """The event in Kafka message bytes; raises ValueError if they are not one."""
    msg = es_pb2.EventEnvelope()
    try:
        msg.ParseFromString(data)
    except Exception as exc:  # protobuf raises its own DecodeError
        raise ValueError(f"not an event envelope: {exc}") from exc
    return _checked(msg)


def encode_batch(events: list[Event]) -> bytes:
    """Events of one run as the bytes of one events-topic message."""
    return bytes(es_pb2.EventBatch(events=[to_proto(e) for e in events]).SerializeToString())


def decode_batch(data: bytes) -> list[Event]:
    """The events in an events-topic message; ValueError if it is not a batch
    of valid events."""
    msg = es_pb2.EventBatch()
    try:
        msg.ParseFromString(data)
    except Exception as exc:  # protobuf raises its own DecodeError
        raise ValueError(f"not an event batch: {exc}") from exc
    if not msg.events:
        raise ValueError("not an event batch: no events")
    return [_checked(e) for e in msg.events]
