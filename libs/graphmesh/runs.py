"""A run's state, folded from its events: pure logic, no I/O.

The projector folds events into run rows, and the gateway folds a run's
stored events when the read model has not caught up yet; both use `fold`, so
they can never disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, Final, cast

from google.protobuf.timestamp_pb2 import Timestamp

from graphmesh import envelope as ev
from graphmesh import streams
from graphmesh.envelope import Event
from graphmesh.run_created import RunCreated
from graphmesh.v1 import run_pb2


class RunStatus(IntEnum):
    """Mirrors graphmesh.v1.RunStatus."""

    UNSPECIFIED = run_pb2.RUN_STATUS_UNSPECIFIED
    PENDING = run_pb2.RUN_STATUS_PENDING
    RUNNING = run_pb2.RUN_STATUS_RUNNING
    SUCCEEDED = run_pb2.RUN_STATUS_SUCCEEDED
    FAILED = run_pb2.RUN_STATUS_FAILED
    CANCELLED = run_pb2.RUN_STATUS_CANCELLED
    INTERRUPTED = run_pb2.RUN_STATUS_INTERRUPTED
    TIMED_OUT = run_pb2.RUN_STATUS_TIMED_OUT

    @property
    def is_terminal(self) -> bool:
        """True once the run has ended."""
        return self in _TERMINAL_STATUSES


_TERMINAL_STATUSES = frozenset(
    {
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
        RunStatus.CANCELLED,
        RunStatus.INTERRUPTED,
        RunStatus.TIMED_OUT,
    }
)

_STATUS_AFTER = {
    ev.RUN_STARTED: RunStatus.RUNNING,
    ev.RUN_SUCCEEDED: RunStatus.SUCCEEDED,
    ev.RUN_FAILED: RunStatus.FAILED,
    ev.RUN_CANCELLED: RunStatus.CANCELLED,
    ev.RUN_INTERRUPTED: RunStatus.INTERRUPTED,
    ev.RUN_TIMED_OUT: RunStatus.TIMED_OUT,
}


@dataclass(frozen=True, slots=True)
class RunView:
    """What is known of a run after folding its events up to `last_seq`."""

    run_id: str
    thread_id: str
    graph_id: str
    status: RunStatus
    input_json: str
    request_id: str
    created_at: datetime
    updated_at: datetime
    last_seq: int
    attempt: int = 0
    output_json: str = ""
    error_type: str = ""
    error_message: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    #: The interrupts an INTERRUPTED run waits on: JSON list of {id, value}.
    interrupts_json: str = "[]"
    #: The stream modes the run records, and whether subgraphs' too.
    stream_modes: tuple[str, ...] = streams.DEFAULT_MODES
    stream_subgraphs: bool = False
    #: The run's time limit per attempt in seconds (0: none).
    timeout_seconds: float = 0.0
    #: The run's LangGraph config and runtime context as JSON ("": none).
    config_json: str = ""
    context_json: str = ""
    #: The assistant and version the run runs with ("" / 0: none recorded,
    #: as for runs created before assistants existed).
    assistant_id: str = ""
    assistant_version: int = 0


#: The event types whose payload `fold` reads (it reads only the type, seq,
#: attempt and time of the others).
FOLDED_PAYLOAD_TYPES: Final = frozenset(
    {ev.RUN_CREATED, ev.RUN_SUCCEEDED, ev.RUN_INTERRUPTED, ev.RUN_FAILED, ev.RUN_TIMED_OUT}
)


def fold(view: RunView | None, event: Event) -> RunView:
    """The run after `event`. Events must come in seq order; an event at or
    below the view's `last_seq` changes nothing (idempotent replay)."""
    if view is None:
        if event.type != ev.RUN_CREATED:
            raise ValueError(f"run {event.run_id} starts with {event.type}, not RunCreated")
        created = RunCreated.from_event(event)
        return RunView(
            run_id=event.run_id,
            thread_id=event.thread_id,
            graph_id=created.graph_id,
            status=RunStatus.PENDING,
            input_json=json.dumps(created.input, separators=(",", ":"), ensure_ascii=False),
            request_id=created.request_id,
            created_at=event.time,
            updated_at=event.time,
            last_seq=event.seq,
            metadata=dict(created.metadata),
            fingerprint=created.fingerprint,
            stream_modes=created.recorded_modes,
            stream_subgraphs=created.stream_subgraphs,
            timeout_seconds=created.timeout_seconds,
            config_json=_json(created.config) if created.config else "",
            context_json=_json(created.context) if created.context is not None else "",
            assistant_id=created.assistant_id,
            assistant_version=created.assistant_version,
        )
    if event.seq <= view.last_seq:
        return view
    changes: dict[str, Any] = {
        "last_seq": event.seq,
        "updated_at": event.time,
        "attempt": max(view.attempt, event.attempt),
    }
    status = _STATUS_AFTER.get(event.type)
    if status is not None:
        changes["status"] = status
    if event.type in (ev.RUN_SUCCEEDED, ev.RUN_INTERRUPTED):
        payload = json.loads(event.payload_json)
        changes["output_json"] = json.dumps(
            payload.get("output"), separators=(",", ":"), ensure_ascii=False
        )
        if event.type == ev.RUN_INTERRUPTED:
            changes["interrupts_json"] = json.dumps(
                payload.get("interrupts") or [], separators=(",", ":"), ensure_ascii=False
            )
    elif event.type in (ev.RUN_FAILED, ev.RUN_TIMED_OUT):
        error = json.loads(event.payload_json).get("error") or {}
        changes["error_type"] = str(error.get("type", ""))
        changes["error_message"] = str(error.get("message", ""))
    return replace(view, **changes)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def fold_all(events: list[Event]) -> RunView | None:
    """The run after all of `events` (in seq order); None for no events."""
    view: RunView | None = None
    for event in events:
        view = fold(view, event)
    return view


def to_proto(view: RunView) -> run_pb2.Run:
    """The run as the public protobuf message."""
    created = Timestamp()
    created.FromDatetime(view.created_at)
    updated = Timestamp()
    updated.FromDatetime(view.updated_at)
    run = run_pb2.Run(
        run_id=view.run_id,
        thread_id=view.thread_id,
        graph_id=view.graph_id,
        status=cast(Any, int(view.status)),
        input_json=view.input_json,
        output_json=view.output_json,
        request_id=view.request_id,
        created_at=created,
        updated_at=updated,
        last_seq=view.last_seq,
        attempt=view.attempt,
        metadata=view.metadata,
        interrupts=[
            run_pb2.Interrupt(
                id=str(i.get("id", "")),
                value_json=json.dumps(i.get("value"), separators=(",", ":"), ensure_ascii=False),
            )
            for i in json.loads(view.interrupts_json)
        ],
        stream_modes=[cast(Any, streams.mode_number(m)) for m in view.stream_modes],
        stream_subgraphs=view.stream_subgraphs,
        timeout_seconds=view.timeout_seconds,
        config_json=view.config_json,
        context_json=view.context_json,
        assistant_id=view.assistant_id,
        assistant_version=view.assistant_version,
    )
    if view.error_type or view.error_message:
        run.error.CopyFrom(run_pb2.RunError(type=view.error_type, message=view.error_message))
    return run


def from_proto(run: run_pb2.Run) -> RunView:
    """The view a public Run message shows (the inverse of `to_proto`; the
    request fingerprint is not part of the message)."""
    return RunView(
        run_id=run.run_id,
        thread_id=run.thread_id,
        graph_id=run.graph_id,
        status=RunStatus(run.status),
        input_json=run.input_json,
        request_id=run.request_id,
        created_at=run.created_at.ToDatetime(tzinfo=UTC),
        updated_at=run.updated_at.ToDatetime(tzinfo=UTC),
        last_seq=run.last_seq,
        attempt=run.attempt,
        output_json=run.output_json,
        error_type=run.error.type,
        error_message=run.error.message,
        metadata=dict(run.metadata),
        interrupts_json=json.dumps(
            [{"id": i.id, "value": json.loads(i.value_json)} for i in run.interrupts],
            separators=(",", ":"),
            ensure_ascii=False,
        ),
        stream_modes=tuple(streams.mode_name(m) for m in run.stream_modes),
        stream_subgraphs=run.stream_subgraphs,
        timeout_seconds=run.timeout_seconds,
        config_json=run.config_json,
        context_json=run.context_json,
        assistant_id=run.assistant_id,
        assistant_version=run.assistant_version,
    )
