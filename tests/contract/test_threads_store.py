"""The event store's thread contract (threads' own streams, multitask
admission, cancellation requests), against memory and PostgreSQL."""

from __future__ import annotations

import json
import uuid

import pytest

from graphmesh import envelope as ev
from graphmesh.checkpoints import events as cpe
from graphmesh.errors import AlreadyExists, FailedPrecondition
from graphmesh.eventstore import AppendOutcome, ClaimOutcome, EventStore
from graphmesh.eventstore.base import ThreadEventIn


def created_on(thread_id: str, strategy: str = "enqueue") -> ev.Event:
    payload = json.dumps({"graph_id": "chain3", "input": {}, "multitask_strategy": strategy})
    return ev.new_event(str(uuid.uuid4()), thread_id, 1, 0, ev.RUN_CREATED, payload)


def thread_event(type_: str, payload: dict[str, object] | None = None) -> ThreadEventIn:
    return ThreadEventIn(str(uuid.uuid4()), type_, json.dumps(payload or {}))


async def test_a_thread_stream_numbers_its_events_and_skips_retries(store: EventStore) -> None:
    thread = f"t-{uuid.uuid4()}"
    made = thread_event(cpe.THREAD_CREATED, {"metadata": {"a": "b"}})
    assert await store.append_thread(thread, [made]) == (1, 1)
    assert await store.append_thread(thread, [made]) == (1, 0)  # a retried call
    pruned = thread_event(cpe.CHECKPOINTS_PRUNED, {"strategy": "delete"})
    assert await store.append_thread(thread, [pruned]) == (2, 1)
    stored = await store.read(cpe.thread_stream_id(thread))
    assert [(e.seq, e.type) for e in stored] == [
        (1, cpe.THREAD_CREATED),
        (2, cpe.CHECKPOINTS_PRUNED),
    ]
    with pytest.raises(AlreadyExists):
        await store.append_thread(thread, [thread_event(cpe.THREAD_CREATED)])


async def test_a_deleted_thread_takes_no_more_writes_nor_runs(store: EventStore) -> None:
    thread = f"t-{uuid.uuid4()}"
    await store.append_thread(thread, [thread_event(cpe.THREAD_CREATED)])
    await store.append_thread(thread, [thread_event(cpe.THREAD_DELETED)])
    with pytest.raises(FailedPrecondition) as exc:
        await store.append_thread(thread, [thread_event(cpe.CHECKPOINTS_DELETED)])
    assert exc.value.reason == "THREAD_DELETED"
    assert await store.append([created_on(thread)]) == [AppendOutcome.REJECTED_THREAD_DELETED]


async def test_reject_refuses_a_run_while_another_has_not_ended(store: EventStore) -> None:
    thread = f"t-{uuid.uuid4()}"
    first = created_on(thread)
    assert await store.append([first]) == [AppendOutcome.APPENDED]
    assert await store.append([created_on(thread, "reject")]) == [
        AppendOutcome.REJECTED_THREAD_BUSY
    ]
    with pytest.raises(FailedPrecondition) as exc:
        await store.append_thread(thread, [thread_event(cpe.THREAD_DELETED)], require_no_runs=True)
    assert exc.value.reason == "THREAD_BUSY"
    claim = await store.claim(first.run_id, "ex-1", 10_000)
    ended = ev.new_event(first.run_id, thread, 2, claim.attempt, ev.RUN_SUCCEEDED, "{}")
    assert await store.append([ended]) == [AppendOutcome.APPENDED]
    assert await store.append([created_on(thread, "reject")]) == [AppendOutcome.APPENDED]


async def test_a_run_with_an_unknown_strategy_is_refused_by_every_store(
    store: EventStore,
) -> None:
    thread = f"t-{uuid.uuid4()}"
    assert await store.append([created_on(thread, "queue")]) == [AppendOutcome.REJECTED_MALFORMED]
    assert await store.append([created_on(thread)]) == [AppendOutcome.APPENDED]


async def test_interrupt_asks_the_other_runs_of_the_thread_to_stop(store: EventStore) -> None:
    thread = f"t-{uuid.uuid4()}"
    running, pending = created_on(thread), created_on(thread)
    await store.append([running, pending])
    assert (await store.claim(running.run_id, "ex-1", 10_000)).outcome is ClaimOutcome.CLAIMED
    newest = created_on(thread, "interrupt")
    assert await store.append([newest]) == [AppendOutcome.APPENDED]
    asked = await store.cancel_requests([running.run_id, pending.run_id, newest.run_id])
    assert asked == {running.run_id: "interrupt", pending.run_id: "interrupt"}
    # The pending one is handed out at once, to be ended, though the thread is busy.
    claim = await store.claim(pending.run_id, "ex-2", 10_000)
    assert (claim.outcome, claim.cancel_action) == (ClaimOutcome.CLAIMED, "interrupt")
    # The newest waits for the thread.
    assert (await store.claim(newest.run_id, "ex-2", 10_000)).outcome is ClaimOutcome.THREAD_BUSY


def saved_checkpoint(checkpoint_id: str, parent: str, ns: str = "") -> ThreadEventIn:
    saved = cpe.SavedCheckpoint(
        checkpoint_ns=ns,
        checkpoint_id=checkpoint_id,
        parent_checkpoint_id=parent,
        run_id="",
        checkpoint=("json", b"{}"),
        metadata=("json", b"{}"),
        metadata_json={},
    )
    return ThreadEventIn(str(uuid.uuid4()), cpe.CHECKPOINT_SAVED, json.dumps(saved.to_payload()))


async def test_a_state_update_computed_from_a_superseded_checkpoint_is_refused(
    store: EventStore, request: pytest.FixtureRequest
) -> None:
    if "memory" in request.node.name:
        pytest.skip("the memory store keeps no checkpoint tables to judge against")
    thread = f"t-{uuid.uuid4()}"
    await store.append_thread(thread, [saved_checkpoint("1f0-a", "")], require_latest_parent=True)
    # An update read "a"; meanwhile a run wrote "b" on top of it.
    await store.append_thread(thread, [saved_checkpoint("1f0-b", "1f0-a")])
    stale = saved_checkpoint("1f0-c", "1f0-a")
    with pytest.raises(FailedPrecondition) as exc:
        await store.append_thread(thread, [stale], require_latest_parent=True)
    assert exc.value.reason == "THREAD_CHANGED"
    assert [e.type for e in await store.read(cpe.thread_stream_id(thread))] == [
        cpe.CHECKPOINT_SAVED
    ] * 2  # nothing of the refused update was stored
    # Built on the latest, or in a subgraph's namespace, it is taken; a fork
    # (no require_latest_parent) is always taken.
    await store.append_thread(
        thread,
        [saved_checkpoint("1f0-d", "1f0-b"), saved_checkpoint("1f0-e", "1f0-x", ns="child:1")],
        require_latest_parent=True,
    )
    await store.append_thread(thread, [saved_checkpoint("1f0-f", "1f0-a")])
