"""The contract suite of checkpoint readers, which each reader's tests run.

Subclass `CheckpointReaderContract` and give it a `checkpoints` fixture
that yields a fresh store's thread streams and the reader of the same
store: checkpoints are written as the events that carry them (as every
graphmesh writer does) and read back through the reader.

    class TestMyReader(CheckpointReaderContract):
        @pytest.fixture
        async def checkpoints(self) -> AsyncIterator[tuple[ThreadStreams, CheckpointReader]]:
            store = MyStore()
            yield store, store.reader()
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from graphmesh.checkpoints import events as cpe
from graphmesh.checkpoints.reader import CheckpointQuery, CheckpointReader
from graphmesh.eventstore.interface import ThreadStreams
from graphmesh.eventstore.rules import ThreadEventIn

Checkpoints = tuple[ThreadStreams, CheckpointReader]


def saved(
    checkpoint_id: str,
    parent: str = "",
    ns: str = "",
    run_id: str = "",
    metadata: dict[str, Any] | None = None,
) -> ThreadEventIn:
    """A CheckpointSaved event; its checkpoint bytes name it."""
    checkpoint = cpe.SavedCheckpoint(
        checkpoint_ns=ns,
        checkpoint_id=checkpoint_id,
        parent_checkpoint_id=parent,
        run_id=run_id,
        checkpoint=("json", checkpoint_id.encode()),
        metadata=("json", json.dumps(metadata or {}).encode()),
        metadata_json=metadata or {},
    )
    return _event(cpe.CHECKPOINT_SAVED, checkpoint.to_payload())


def writes(
    checkpoint_id: str, task_id: str, channels: list[str], *, task_path: str = "", value: str = ""
) -> ThreadEventIn:
    """A WritesSaved event (special channels, like `__error__`, overwrite)."""
    saved_writes = cpe.SavedWrites(
        checkpoint_ns="",
        checkpoint_id=checkpoint_id,
        task_id=task_id,
        task_path=task_path,
        overwrite=all(c.startswith("__") for c in channels),
        writes=tuple(
            cpe.SavedWrite(i, c, ("json", (value or c).encode())) for i, c in enumerate(channels)
        ),
    )
    return _event(cpe.WRITES_SAVED, saved_writes.to_payload())


def _event(type_: str, payload: dict[str, Any]) -> ThreadEventIn:
    return ThreadEventIn(str(uuid.uuid4()), type_, json.dumps(payload))


def _ids(found: list[Any]) -> list[str]:
    return [c.checkpoint_id for c in found]


class CheckpointReaderContract:
    """What every `CheckpointReader` does, over the store it reads."""

    @pytest.fixture
    async def checkpoints(self) -> AsyncIterator[Checkpoints]:
        """A fresh store's thread streams and its reader (subclasses give them)."""
        raise NotImplementedError
        yield

    async def test_a_checkpoint_reads_back_by_id_and_as_the_latest(
        self, checkpoints: Checkpoints
    ) -> None:
        store, reader = checkpoints
        thread = f"t-{uuid.uuid4()}"
        await store.append_thread(thread, [saved("1f0-a"), saved("1f0-b", "1f0-a", run_id="r1")])
        await store.append_thread(thread, [saved("1f0-z", ns="child:1")])
        latest = await reader.get(thread, "", "")
        assert latest is not None
        assert (latest.checkpoint_id, latest.parent_checkpoint_id, latest.run_id) == (
            "1f0-b",
            "1f0-a",
            "r1",
        )
        assert latest.checkpoint == ("json", b"1f0-b")
        first = await reader.get(thread, "", "1f0-a")
        assert first is not None and first.parent_checkpoint_id == ""
        child = await reader.get(thread, "child:1", "")
        assert child is not None and child.checkpoint_id == "1f0-z"
        assert await reader.get(thread, "", "1f0-z") is None  # another namespace's
        assert await reader.get(f"t-{uuid.uuid4()}", "", "") is None

    async def test_pending_writes_come_with_their_checkpoint_in_order(
        self, checkpoints: Checkpoints
    ) -> None:
        store, reader = checkpoints
        thread = f"t-{uuid.uuid4()}"
        await store.append_thread(thread, [saved("1f0-a")])
        await store.append_thread(
            thread,
            [
                writes("1f0-a", "task-b", ["x", "y"], task_path="~1"),
                writes("1f0-a", "task-a", ["z"], task_path="~0"),
                # Regular writes are kept as first written; special ones overwrite.
                writes("1f0-a", "task-a", ["z"], task_path="~0", value="again"),
                writes("1f0-a", "task-c", ["__error__"], task_path="~2"),
                writes("1f0-a", "task-c", ["__error__"], task_path="~2", value="last"),
            ],
        )
        found = await reader.get(thread, "", "1f0-a")
        assert found is not None
        assert [(w.task_id, w.channel, w.idx, w.value[1]) for w in found.pending_writes] == [
            ("task-a", "z", 0, b"z"),
            ("task-b", "x", 0, b"x"),
            ("task-b", "y", 1, b"y"),
            ("task-c", "__error__", 0, b"last"),
        ]

    async def test_a_search_filters_and_orders_newest_first(self, checkpoints: Checkpoints) -> None:
        store, reader = checkpoints
        thread = f"t-{uuid.uuid4()}"
        await store.append_thread(
            thread,
            [
                saved("1f0-a", metadata={"step": 1, "source": "input"}),
                saved("1f0-b", "1f0-a", metadata={"step": 2.0, "source": "loop"}),
                saved("1f0-c", "1f0-b", metadata={"step": 3, "source": "loop", "flag": True}),
                saved("1f0-x", ns="child:1", metadata={"step": 1}),
            ],
        )

        async def search(**query: Any) -> list[str]:
            return _ids(await reader.search(CheckpointQuery(thread_id=thread, **query)))

        assert await search() == ["1f0-x", "1f0-c", "1f0-b", "1f0-a"]
        assert await search(checkpoint_ns="") == ["1f0-c", "1f0-b", "1f0-a"]
        assert await search(checkpoint_ns="", limit=2) == ["1f0-c", "1f0-b"]
        assert await search(checkpoint_ns="", before_checkpoint_id="1f0-c") == ["1f0-b", "1f0-a"]
        assert await search(metadata_filter={"source": "loop"}) == ["1f0-c", "1f0-b"]
        # JSON equality: 2 is 2.0, true is not 1, a missing key matches nothing.
        assert await search(metadata_filter={"step": 2}) == ["1f0-b"]
        assert await search(metadata_filter={"flag": 1}) == []
        assert await search(metadata_filter={"flag": True}) == ["1f0-c"]
        assert await search(metadata_filter={"absent": None}) == []
        assert await search(checkpoint_id="1f0-a") == ["1f0-a"]

    async def test_deleted_copied_and_pruned_threads_read_as_their_events_say(
        self, checkpoints: Checkpoints
    ) -> None:
        store, reader = checkpoints
        source, copy = f"t-{uuid.uuid4()}", f"t-{uuid.uuid4()}"
        await store.append_thread(
            source,
            [
                saved("1f0-a", run_id="r1"),
                saved("1f0-b", "1f0-a", run_id="r2"),
                saved("1f0-m", ns="child:1", run_id="r2"),
                saved("1f0-n", ns="child:1", run_id="r2"),
                writes("1f0-a", "task-a", ["x"]),
                writes("1f0-b", "task-b", ["y"]),
            ],
        )
        copied = _event(cpe.CHECKPOINTS_COPIED, {"source_thread_id": source})
        await store.append_thread(copy, [copied])
        assert _ids(await reader.search(CheckpointQuery(thread_id=copy))) == [
            "1f0-n",
            "1f0-m",
            "1f0-b",
            "1f0-a",
        ]
        # keep_latest: the latest of each namespace stays, with its writes.
        pruned = _event(cpe.CHECKPOINTS_PRUNED, {"strategy": "keep_latest"})
        await store.append_thread(copy, [pruned])
        kept = await reader.search(CheckpointQuery(thread_id=copy))
        assert _ids(kept) == ["1f0-n", "1f0-b"]
        assert [w.channel for w in kept[1].pending_writes] == ["y"]
        # A run's checkpoints go with it (on the source thread only).
        gone = _event(cpe.RUN_CHECKPOINTS_DELETED, {"run_ids": ["r2"]})
        await store.append_thread(source, [gone])
        left = await reader.search(CheckpointQuery(thread_id=source))
        assert _ids(left) == ["1f0-a"] and [w.channel for w in left[0].pending_writes] == ["x"]
        assert _ids(await reader.search(CheckpointQuery(thread_id=copy))) == ["1f0-n", "1f0-b"]
        # Deleted: nothing is left of the thread.
        await store.append_thread(copy, [_event(cpe.CHECKPOINTS_DELETED, {})])
        assert await reader.search(CheckpointQuery(thread_id=copy)) == []
        assert await reader.get(copy, "", "") is None
