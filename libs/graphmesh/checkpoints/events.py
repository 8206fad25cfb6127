"""Checkpoint and thread events: their types, payloads and ids.

A checkpoint written inside a run travels in the run's own event stream
(fenced by the run's attempt like every other event of the run); one
written outside any run (a state update, the conformance suite) travels in
the thread's own stream, which the store numbers. Either way the checkpoint
service keeps the checkpoint tables from the stored events, in the
transaction that stores them, so that replaying the log rebuilds them.

Serialised values (LangGraph's serde `dumps_typed`) are carried as
`[type, base64]` pairs inside the JSON payload.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from graphmesh import envelope as ev
from graphmesh.envelope import GRAPHMESH_NAMESPACE, Event

CHECKPOINT_SAVED: Final = ev.CHECKPOINT_SAVED
WRITES_SAVED: Final = ev.WRITES_SAVED
CHECKPOINTS_DELETED: Final = "CheckpointsDeleted"
CHECKPOINTS_COPIED: Final = "CheckpointsCopied"
CHECKPOINTS_PRUNED: Final = "CheckpointsPruned"
RUN_CHECKPOINTS_DELETED: Final = "RunCheckpointsDeleted"
THREAD_CREATED: Final = "ThreadCreated"
#: Entries added to a thread's metadata.
THREAD_UPDATED: Final = "ThreadUpdated"
THREAD_DELETED: Final = "ThreadDeleted"

#: Events a run's own stream may carry besides the run's lifecycle.
RUN_STREAM_TYPES: Final = frozenset({CHECKPOINT_SAVED, WRITES_SAVED})
#: Events only a thread's own stream carries.
THREAD_STREAM_TYPES: Final = frozenset(
    {
        CHECKPOINT_SAVED,
        WRITES_SAVED,
        CHECKPOINTS_DELETED,
        CHECKPOINTS_COPIED,
        CHECKPOINTS_PRUNED,
        RUN_CHECKPOINTS_DELETED,
        THREAD_CREATED,
        THREAD_UPDATED,
        THREAD_DELETED,
    }
)
#: Events that are the machinery of state, not progress a client follows.
INTERNAL_TYPES: Final = frozenset({CHECKPOINT_SAVED, WRITES_SAVED})

PRUNE_STRATEGIES: Final = frozenset({"keep_latest", "delete"})


def thread_stream_id(thread_id: str) -> str:
    """The id of a thread's own event stream (a run id never collides: run
    ids are uuid5s of another name or uuid4s)."""
    return str(uuid.uuid5(GRAPHMESH_NAMESPACE, f"thread-stream:{thread_id}"))


def is_thread_stream(event: Event) -> bool:
    """True for an event of a thread's own stream (not of a run)."""
    return event.run_id == thread_stream_id(event.thread_id)


def is_rollback(event: Event) -> bool:
    """True for a RunCancelled of the rollback strategy: the run's
    checkpoints are removed with it."""
    return bool(json.loads(event.payload_json).get("action") == "rollback")


Typed = tuple[str, bytes]


def typed_to_json(value: Typed) -> list[str]:
    """A serde-typed value as JSON-safe `[type, base64]`."""
    return [value[0], base64.b64encode(value[1]).decode("ascii")]


def typed_from_json(value: Any) -> Typed:
    """The inverse of `typed_to_json`; ValueError when malformed."""
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise ValueError("a typed value is [type, base64]")
    return value[0], base64.b64decode(value[1], validate=True)


@dataclass(frozen=True, slots=True)
class SavedCheckpoint:
    """The payload of CheckpointSaved."""

    checkpoint_ns: str
    checkpoint_id: str
    parent_checkpoint_id: str
    run_id: str
    checkpoint: Typed
    metadata: Typed
    metadata_json: dict[str, Any]

    def to_payload(self) -> dict[str, Any]:
        """The JSON payload."""
        return {
            "checkpoint_ns": self.checkpoint_ns,
            "checkpoint_id": self.checkpoint_id,
            "parent_checkpoint_id": self.parent_checkpoint_id,
            "run_id": self.run_id,
            "checkpoint": typed_to_json(self.checkpoint),
            "metadata": typed_to_json(self.metadata),
            "metadata_json": self.metadata_json,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> SavedCheckpoint:
        """Parses the payload; ValueError/KeyError/TypeError when malformed."""
        metadata_json = payload["metadata_json"]
        if not isinstance(metadata_json, dict):
            raise ValueError("metadata_json must be an object")
        return cls(
            checkpoint_ns=str(payload["checkpoint_ns"]),
            checkpoint_id=_non_empty(payload["checkpoint_id"], "checkpoint_id"),
            parent_checkpoint_id=str(payload.get("parent_checkpoint_id") or ""),
            run_id=str(payload.get("run_id") or ""),
            checkpoint=typed_from_json(payload["checkpoint"]),
            metadata=typed_from_json(payload["metadata"]),
            metadata_json=metadata_json,
        )


@dataclass(frozen=True, slots=True)
class SavedWrite:
    """One pending write."""

    idx: int
    channel: str
    value: Typed


@dataclass(frozen=True, slots=True)
class SavedWrites:
    """The payload of WritesSaved: a task's writes against a checkpoint.
    `overwrite` is LangGraph's rule: special writes (errors, interrupts)
    replace earlier ones, regular writes never do."""

    checkpoint_ns: str
    checkpoint_id: str
    task_id: str
    task_path: str
    overwrite: bool
    writes: tuple[SavedWrite, ...] = field(default=())

    def to_payload(self) -> dict[str, Any]:
        """The JSON payload."""
        return {
            "checkpoint_ns": self.checkpoint_ns,
            "checkpoint_id": self.checkpoint_id,
            "task_id": self.task_id,
            "task_path": self.task_path,
            "overwrite": self.overwrite,
            "writes": [
                {"idx": w.idx, "channel": w.channel, "value": typed_to_json(w.value)}
                for w in self.writes
            ],
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> SavedWrites:
        """Parses the payload; ValueError/KeyError/TypeError when malformed."""
        return cls(
            checkpoint_ns=str(payload["checkpoint_ns"]),
            checkpoint_id=_non_empty(payload["checkpoint_id"], "checkpoint_id"),
            task_id=str(payload["task_id"]),
            task_path=str(payload.get("task_path") or ""),
            overwrite=bool(payload.get("overwrite")),
            writes=tuple(
                SavedWrite(int(w["idx"]), str(w["channel"]), typed_from_json(w["value"]))
                for w in payload["writes"]
            ),
        )


def _non_empty(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def payload_problem(type_: str, payload_json: str) -> str | None:
    """Why a checkpoint or thread event's payload cannot be applied, or None
    when it can (events of other types are not checked here)."""
    if type_ not in THREAD_STREAM_TYPES:
        return None
    try:
        payload = json.loads(payload_json)
        if not isinstance(payload, dict):
            return "payload is not a JSON object"
        if type_ == CHECKPOINT_SAVED:
            SavedCheckpoint.from_payload(payload)
        elif type_ == WRITES_SAVED:
            SavedWrites.from_payload(payload)
        elif type_ == CHECKPOINTS_COPIED:
            _non_empty(payload.get("source_thread_id"), "source_thread_id")
        elif type_ == CHECKPOINTS_PRUNED and payload.get("strategy") not in PRUNE_STRATEGIES:
            return "strategy must be keep_latest or delete"
        elif type_ == RUN_CHECKPOINTS_DELETED:
            runs = payload.get("run_ids")
            if not (isinstance(runs, list) and all(isinstance(r, str) for r in runs)):
                return "run_ids must be a list of strings"
        elif type_ in (THREAD_CREATED, THREAD_UPDATED):
            if not isinstance(payload.get("graph_id", ""), str):
                return "graph_id must be a string"
            metadata = payload.get("metadata") or {}
            if not (
                isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
            ):
                return "metadata must be an object of strings"
    except (ValueError, KeyError, TypeError) as exc:
        return f"malformed {type_} payload: {exc}"
    return None
