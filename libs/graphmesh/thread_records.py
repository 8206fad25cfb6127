"""Threads: the record the write side keeps and the status it implies.

A thread is busy while one of its runs is pending or running; otherwise
its status is what its latest ended run says (interrupted, error) or idle.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from google.protobuf.timestamp_pb2 import Timestamp

from graphmesh import envelope as ev
from graphmesh.db import json_object
from graphmesh.internal.v1 import checkpoint_service_pb2 as cp_pb2
from graphmesh.v1 import thread_service_pb2 as th_pb2


class ThreadStatus(enum.IntEnum):
    """Mirrors graphmesh.v1.ThreadStatus."""

    IDLE = th_pb2.THREAD_STATUS_IDLE
    BUSY = th_pb2.THREAD_STATUS_BUSY
    INTERRUPTED = th_pb2.THREAD_STATUS_INTERRUPTED
    ERROR = th_pb2.THREAD_STATUS_ERROR


def thread_status(open_runs: int, last_outcome: str) -> ThreadStatus:
    """The status of a thread with `open_runs` unfinished runs whose latest
    ended run ended with the event type `last_outcome`."""
    if open_runs > 0:
        return ThreadStatus.BUSY
    if last_outcome == ev.RUN_INTERRUPTED:
        return ThreadStatus.INTERRUPTED
    if last_outcome == ev.RUN_FAILED:
        return ThreadStatus.ERROR
    return ThreadStatus.IDLE


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    """The write side's record of one thread."""

    thread_id: str
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, str] = field(default_factory=dict)
    graph_id: str = ""
    last_run_id: str = ""
    last_outcome: str = ""
    open_runs: int = 0
    deleted: bool = False

    @property
    def status(self) -> ThreadStatus:
        """What the thread is doing."""
        return thread_status(self.open_runs, self.last_outcome)

    @classmethod
    def from_row(cls, row: Any) -> ThreadRecord:
        """From a `threads` table row."""
        return cls(
            thread_id=row["thread_id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            metadata=json_object(row["metadata"]),
            graph_id=row["graph_id"],
            last_run_id=row["last_run_id"],
            last_outcome=row["last_outcome"],
            open_runs=row["open_runs"],
            deleted=row["deleted"],
        )

    def to_record_proto(self) -> cp_pb2.ThreadRecord:
        """As the internal message."""
        return cp_pb2.ThreadRecord(
            thread_id=self.thread_id,
            metadata=self.metadata,
            created_at=_ts(self.created_at),
            updated_at=_ts(self.updated_at),
            graph_id=self.graph_id,
            last_run_id=self.last_run_id,
            last_outcome=self.last_outcome,
            busy=self.open_runs > 0,
            deleted=self.deleted,
        )

    @classmethod
    def from_record_proto(cls, msg: cp_pb2.ThreadRecord) -> ThreadRecord:
        """From the internal message."""
        return cls(
            thread_id=msg.thread_id,
            created_at=msg.created_at.ToDatetime(tzinfo=ev.utcnow().tzinfo),
            updated_at=msg.updated_at.ToDatetime(tzinfo=ev.utcnow().tzinfo),
            metadata=dict(msg.metadata),
            graph_id=msg.graph_id,
            last_run_id=msg.last_run_id,
            last_outcome=msg.last_outcome,
            open_runs=1 if msg.busy else 0,
            deleted=msg.deleted,
        )

    def to_proto(self) -> th_pb2.Thread:
        """As the public message."""
        return th_pb2.Thread(
            thread_id=self.thread_id,
            status=cast(Any, int(self.status)),
            metadata=self.metadata,
            created_at=_ts(self.created_at),
            updated_at=_ts(self.updated_at),
            graph_id=self.graph_id,
            last_run_id=self.last_run_id,
        )


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts
