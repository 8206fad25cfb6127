"""Reading checkpoints: what a read returns, and the interface every
reader implements.

The checkpoint tables are a projection of the stored checkpoint events
(`events.SavedCheckpoint`, `SavedWrites`, deletions, copies, prunes), kept
by the store that stores those events. Readers: `postgres.PostgresCheckpointReader`
(the tables in PostgreSQL, read by the checkpoint service),
`MemoryCheckpoints` (kept by `MemoryEventStore`, for tests), and
`remote.RemoteCheckpointReader` (the checkpoint service's API, for the
executors and the gateway, with read-your-writes). `contract` holds the
suite each of them passes.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graphmesh import envelope as ev
from graphmesh.checkpoints import events as cpe
from graphmesh.envelope import Event


@dataclass(frozen=True, slots=True)
class StoredWrite:
    """A pending write as read back."""

    task_id: str
    channel: str
    value: cpe.Typed
    task_path: str
    idx: int


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint row with its pending writes."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    parent_checkpoint_id: str
    run_id: str
    checkpoint: cpe.Typed
    metadata: cpe.Typed
    pending_writes: tuple[StoredWrite, ...]


@dataclass(frozen=True, slots=True)
class CheckpointQuery:
    """Which checkpoints to list (see LangGraph's `BaseCheckpointSaver.list`)."""

    thread_id: str = ""
    checkpoint_ns: str | None = None
    checkpoint_id: str = ""
    before_checkpoint_id: str = ""
    metadata_filter: dict[str, Any] | None = None
    limit: int | None = None


class CheckpointReader(abc.ABC):
    """Reads a store's checkpoints."""

    @abc.abstractmethod
    async def search(self, query: CheckpointQuery) -> list[StoredCheckpoint]:
        """Checkpoints matching the query, newest first (by checkpoint id),
        each with its pending writes in (task path, task id, index) order."""

    async def get(
        self,
        thread_id: str,
        checkpoint_ns: str,
        checkpoint_id: str,
        *,
        after: tuple[str, int] = ("", 0),
    ) -> StoredCheckpoint | None:
        """The checkpoint, or the latest of the thread and namespace.
        `after` (run id, seq): read once the store holds that run's events up
        to seq (a reader that reads the store itself holds them already)."""
        query = CheckpointQuery(
            thread_id=thread_id, checkpoint_ns=checkpoint_ns, checkpoint_id=checkpoint_id, limit=1
        )
        found = await self.search(query)
        return found[0] if found else None


class PrimedCheckpoints(CheckpointReader):
    """A run's reader that answers the run's first read, its thread's
    latest root checkpoint, from what its claim carried (see
    `ClaimResult.latest_checkpoint`); every other read (a namespace, a
    given checkpoint, or once the run has written: `after` set) goes to
    `reader`."""

    def __init__(
        self, reader: CheckpointReader, thread_id: str, latest: StoredCheckpoint | None
    ) -> None:
        self._reader = reader
        self._thread_id = thread_id
        self._latest = latest

    async def search(self, query: CheckpointQuery) -> list[StoredCheckpoint]:
        return await self._reader.search(query)

    async def get(
        self,
        thread_id: str,
        checkpoint_ns: str,
        checkpoint_id: str,
        *,
        after: tuple[str, int] = ("", 0),
    ) -> StoredCheckpoint | None:
        if (
            thread_id == self._thread_id
            and not checkpoint_ns
            and not checkpoint_id
            and not after[0]
        ):
            return self._latest
        return await self._reader.get(thread_id, checkpoint_ns, checkpoint_id, after=after)


_Key = tuple[str, str, str]
_WriteKey = tuple[str, str, str, str, int]


@dataclass(slots=True)
class _Row:
    parent_checkpoint_id: str
    run_id: str
    checkpoint: cpe.Typed
    metadata: cpe.Typed
    metadata_json: dict[str, Any]


@dataclass(slots=True)
class _WriteRow:
    channel: str
    value: cpe.Typed
    task_path: str


class MemoryCheckpoints(CheckpointReader):
    """Checkpoint tables in dicts, kept from stored events as the PostgreSQL
    store keeps its tables (`apply`, called by `MemoryEventStore`)."""

    def __init__(self) -> None:
        self._rows: dict[_Key, _Row] = {}
        self._writes: dict[_WriteKey, _WriteRow] = {}

    def apply(self, events: Iterable[Event]) -> None:
        """Applies stored events, in order; events of other types change nothing."""
        for event in events:
            self._apply(event)

    def _apply(self, event: Event) -> None:
        thread = event.thread_id
        if event.type == cpe.CHECKPOINT_SAVED:
            c = cpe.SavedCheckpoint.from_payload(json.loads(event.payload_json))
            self._rows[(thread, c.checkpoint_ns, c.checkpoint_id)] = _Row(
                c.parent_checkpoint_id, c.run_id, c.checkpoint, c.metadata, c.metadata_json
            )
        elif event.type == cpe.WRITES_SAVED:
            w = cpe.SavedWrites.from_payload(json.loads(event.payload_json))
            for write in w.writes:
                key = (thread, w.checkpoint_ns, w.checkpoint_id, w.task_id, write.idx)
                if w.overwrite or key not in self._writes:
                    self._writes[key] = _WriteRow(write.channel, write.value, w.task_path)
        elif event.type in (cpe.CHECKPOINTS_DELETED, cpe.THREAD_DELETED):
            self._drop_thread(thread)
        elif event.type == cpe.CHECKPOINTS_COPIED:
            self._copy(json.loads(event.payload_json)["source_thread_id"], thread)
        elif event.type == cpe.CHECKPOINTS_PRUNED:
            if json.loads(event.payload_json)["strategy"] == "delete":
                self._drop_thread(thread)
            else:
                self._keep_latest(thread)
        elif event.type == cpe.RUN_CHECKPOINTS_DELETED:
            self._drop_runs(thread, set(json.loads(event.payload_json)["run_ids"]))
        elif event.type == ev.RUN_CANCELLED and cpe.is_rollback(event):
            # The rollback strategy: the cancelled run leaves no state behind.
            self._drop_runs(thread, {event.run_id})

    def _latest_ids(self, thread_id: str) -> dict[str, str]:
        latest: dict[str, str] = {}
        for thread, ns, checkpoint_id in self._rows:
            if thread == thread_id and checkpoint_id > latest.get(ns, ""):
                latest[ns] = checkpoint_id
        return latest

    def _drop_thread(self, thread_id: str) -> None:
        self._rows = {k: v for k, v in self._rows.items() if k[0] != thread_id}
        self._writes = {k: v for k, v in self._writes.items() if k[0] != thread_id}

    def _keep_latest(self, thread_id: str) -> None:
        """Only the latest checkpoint of each namespace, and its writes, stay."""
        latest = self._latest_ids(thread_id)

        def stays(key: tuple[Any, ...]) -> bool:
            return bool(key[0] != thread_id or latest.get(key[1]) == key[2])

        self._rows = {k: v for k, v in self._rows.items() if stays(k)}
        self._writes = {k: v for k, v in self._writes.items() if stays(k)}

    def _drop_runs(self, thread_id: str, run_ids: set[str]) -> None:
        """The thread's checkpoints written by these runs go, with their writes."""
        gone = {k for k, row in self._rows.items() if k[0] == thread_id and row.run_id in run_ids}
        self._rows = {k: v for k, v in self._rows.items() if k not in gone}
        self._writes = {k: v for k, v in self._writes.items() if k[:3] not in gone}

    def _copy(self, source: str, target: str) -> None:
        for (thread, ns, checkpoint_id), row in list(self._rows.items()):
            if thread == source:
                self._rows.setdefault((target, ns, checkpoint_id), _Row(**_fields(row)))
        for (thread, ns, checkpoint_id, task, idx), write in list(self._writes.items()):
            if thread == source:
                self._writes.setdefault(
                    (target, ns, checkpoint_id, task, idx), _WriteRow(**_fields(write))
                )

    def latest_root(self, thread_id: str) -> str:
        """The id of the thread's latest root-namespace checkpoint ("": none)."""
        return self._latest_ids(thread_id).get("", "")

    async def search(self, query: CheckpointQuery) -> list[StoredCheckpoint]:
        found = [(key, row) for key, row in self._rows.items() if _selected(key, row, query)]
        found.sort(key=lambda item: (item[0][0], item[0][1]))
        found.sort(key=lambda item: item[0][2], reverse=True)
        if query.limit is not None:
            found = found[: query.limit]
        return [self._stored(key, row) for key, row in found]

    def _stored(self, key: _Key, row: _Row) -> StoredCheckpoint:
        writes = sorted(
            (w for w in self._writes.items() if w[0][:3] == key),
            key=lambda w: (w[1].task_path, w[0][3], w[0][4]),
        )
        return StoredCheckpoint(
            thread_id=key[0],
            checkpoint_ns=key[1],
            checkpoint_id=key[2],
            parent_checkpoint_id=row.parent_checkpoint_id,
            run_id=row.run_id,
            checkpoint=row.checkpoint,
            metadata=row.metadata,
            pending_writes=tuple(
                StoredWrite(k[3], w.channel, w.value, w.task_path, k[4]) for k, w in writes
            ),
        )

    def threads_of_runs(self, run_ids: Sequence[str]) -> list[str]:
        """Threads holding checkpoints written by these runs."""
        wanted = set(run_ids)
        return sorted({k[0] for k, row in self._rows.items() if row.run_id in wanted})


def _fields(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in row.__slots__}


def _selected(key: _Key, row: _Row, query: CheckpointQuery) -> bool:
    thread, ns, checkpoint_id = key
    if query.thread_id and thread != query.thread_id:
        return False
    if query.checkpoint_ns is not None and ns != query.checkpoint_ns:
        return False
    if query.checkpoint_id and checkpoint_id != query.checkpoint_id:
        return False
    if query.before_checkpoint_id and not checkpoint_id < query.before_checkpoint_id:
        return False
    return all(
        k in row.metadata_json and _json_equal(row.metadata_json[k], v)
        for k, v in (query.metadata_filter or {}).items()
    )


def _json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values as PostgreSQL's jsonb has it (1 equals 1.0;
    true is not 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
