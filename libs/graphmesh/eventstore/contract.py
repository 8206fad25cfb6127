"""The event store's contract suites, which every adapter's tests run.

Subclass a suite in a test module and give it a `store` fixture that yields
a fresh adapter (an empty store, or one no other test writes to):

    class TestMyStore(EventStoreContract):
        @pytest.fixture
        async def store(self) -> AsyncIterator[EventStore]:
            yield MyStore(...)

`RunStoreContract` holds what every `RunStore` must do (the run log, the
leases, the thread streams), the remote adapter included; `EventStoreContract`
adds what only a store that owns the data does (heads, the log in store
order, the counts of rejections). The rules themselves are unit-tested in
tests/unit/test_append_rules.py; these suites check that an adapter applies
them, atomically, and stores what they decide.

(Over 400 lines: the contract is that long; the two suites share helpers.)
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from graphmesh import envelope as ev
from graphmesh.checkpoints import events as cpe
from graphmesh.errors import AlreadyExists, FailedPrecondition, NotFound
from graphmesh.eventstore.interface import EventStore, RunStore
from graphmesh.eventstore.rules import (
    AppendOutcome,
    CancelState,
    ClaimOutcome,
    ThreadEventIn,
)
from graphmesh.run_created import RunCreated


def run_events(run_id: str, count: int, attempt: int = 1, start: int = 2) -> list[ev.Event]:
    events = []
    for seq in range(start, start + count):
        type_ = ev.RUN_STARTED if seq == 2 else ev.NODE_UPDATED
        events.append(
            ev.new_event(run_id, thread_of(run_id), seq, attempt, type_, f'{{"seq":{seq}}}')
        )
    return events


def thread_of(run_id: str) -> str:
    return f"thread-{run_id}"


def created(run_id: str) -> ev.Event:
    payload = '{"graph_id":"chain3","input":{}}'
    return ev.new_event(run_id, thread_of(run_id), 1, 0, ev.RUN_CREATED, payload)


async def new_run(store: RunStore) -> str:
    run_id = str(uuid.uuid4())
    assert await store.append([created(run_id)]) == [AppendOutcome.APPENDED]
    claim = await store.claim(run_id, "ex-1", 10_000)
    assert (claim.outcome, claim.attempt, claim.last_seq) == (ClaimOutcome.CLAIMED, 1, 1)
    return run_id


def created_on(thread_id: str, strategy: str = "enqueue") -> ev.Event:
    payload = json.dumps({"graph_id": "chain3", "input": {}, "multitask_strategy": strategy})
    return ev.new_event(str(uuid.uuid4()), thread_id, 1, 0, ev.RUN_CREATED, payload)


def thread_event(type_: str, payload: dict[str, object] | None = None) -> ThreadEventIn:
    return ThreadEventIn(str(uuid.uuid4()), type_, json.dumps(payload or {}))


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


class RunStoreContract:
    """What every `RunStore` adapter does."""

    @pytest.fixture
    async def store(self) -> AsyncIterator[RunStore]:
        """A fresh store of the adapter under test (subclasses give it)."""
        raise NotImplementedError
        yield

    async def test_appended_events_read_back_in_order_with_positions(self, store: RunStore) -> None:
        run_id = await new_run(store)
        events = run_events(run_id, 4)
        assert await store.append(events) == [AppendOutcome.APPENDED] * 4
        stored = await store.read(run_id)
        assert [e.seq for e in stored] == [1, 2, 3, 4, 5]
        assert [e.payload_json for e in stored[1:]] == [e.payload_json for e in events]
        positions = [e.position for e in stored]
        assert positions == sorted(positions) and len(set(positions)) == 5
        assert [e.seq for e in await store.read(run_id, after_seq=3)] == [4, 5]
        assert [e.seq for e in await store.read(run_id, after_seq=1, limit=2)] == [2, 3]

    async def test_concurrent_appends_of_the_same_events_store_each_once(
        self, store: RunStore
    ) -> None:
        run_id = await new_run(store)
        events = run_events(run_id, 5)
        results = await asyncio.gather(*(store.append(events) for _ in range(4)))
        assert sum(r.count(AppendOutcome.APPENDED) for r in results) == 5
        assert [e.seq for e in await store.read(run_id)] == [1, 2, 3, 4, 5, 6]

    async def test_a_batch_of_claims_is_decided_run_by_run(self, store: RunStore) -> None:
        fresh, ended, unknown = str(uuid.uuid4()), await new_run(store), str(uuid.uuid4())
        await store.append([created(fresh)])
        await store.append([ev.new_event(ended, thread_of(ended), 2, 1, ev.RUN_SUCCEEDED, "{}")])
        results = await store.claim_many([fresh, ended, unknown, fresh], "ex-2", 10_000)
        assert [r.outcome for r in results] == [
            ClaimOutcome.CLAIMED,
            ClaimOutcome.ALREADY_ENDED,
            ClaimOutcome.UNKNOWN_RUN,
            ClaimOutcome.CLAIMED,
        ]
        assert results[0] == results[3] and results[0].attempt == 1
        again = await store.claim_many([fresh], "ex-3", 10_000)
        assert again[0].outcome is ClaimOutcome.LEASED_ELSEWHERE

    async def test_a_renewal_reports_lost_leases_and_requests_to_stop(
        self, store: RunStore
    ) -> None:
        handed_over, kept = await new_run(store), await new_run(store)
        # ex-1 gives one run up (as a hand-over does); ex-2 takes it over.
        assert (await store.renew_leases("ex-1", [handed_over], 0)).lost == []
        taken = await store.claim(handed_over, "ex-2", 10_000)
        assert (taken.outcome, taken.attempt) == (ClaimOutcome.CLAIMED, 2)
        assert await store.request_cancel(kept, "rollback") is CancelState.CANCELLING
        renewal = await store.renew_leases("ex-1", [handed_over, kept], 10_000)
        assert renewal.lost == [handed_over]
        assert renewal.cancels == {kept: "rollback"}

    async def test_a_thread_runs_one_run_at_a_time(self, store: RunStore) -> None:
        thread = f"thread-{uuid.uuid4()}"
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        for run_id in (first, second):
            await store.append([RunCreated("chain3", {}).to_event(run_id, thread)])
        # both asked for at once, by two executors: only one may start
        results = await asyncio.gather(
            store.claim(first, "ex-1", 10_000), store.claim(second, "ex-2", 10_000)
        )
        outcomes = sorted(r.outcome for r in results)
        assert outcomes == [ClaimOutcome.CLAIMED, ClaimOutcome.THREAD_BUSY]
        winner = first if results[0].outcome is ClaimOutcome.CLAIMED else second
        loser = second if winner == first else first
        assert (await store.claim(loser, "ex-3", 10_000)).outcome is ClaimOutcome.THREAD_BUSY
        end = ev.new_event(winner, thread, 2, 1, ev.RUN_SUCCEEDED, "{}")
        assert await store.append([end]) == [AppendOutcome.APPENDED]
        assert (await store.claim(loser, "ex-3", 10_000)).outcome is ClaimOutcome.CLAIMED
        # in one batch, the second run of a thread waits for the first
        third, fourth = str(uuid.uuid4()), str(uuid.uuid4())
        other_thread = f"thread-{uuid.uuid4()}"
        for run_id in (third, fourth):
            await store.append([RunCreated("chain3", {}).to_event(run_id, other_thread)])
        batch = await store.claim_many([third, fourth], "ex-4", 10_000)
        assert [r.outcome for r in batch] == [ClaimOutcome.CLAIMED, ClaimOutcome.THREAD_BUSY]

    async def test_cancel_of_a_run_no_executor_holds_is_stored_by_the_store(
        self, store: RunStore
    ) -> None:
        pending = str(uuid.uuid4())
        await store.append([created(pending)])
        assert await store.request_cancel(pending, "interrupt") is CancelState.CANCELLED
        stored = await store.read(pending)
        assert [(e.seq, e.attempt, e.type) for e in stored] == [
            (1, 0, ev.RUN_CREATED),
            (2, 1, ev.RUN_CANCELLED),
        ]
        claim = await store.claim(pending, "ex-1", 10_000)
        assert claim.outcome is ClaimOutcome.ALREADY_ENDED  # it never starts
        assert await store.request_cancel(pending, "rollback") is CancelState.ALREADY_ENDED
        assert len(await store.read(pending)) == 2
        assert await store.request_cancel(str(uuid.uuid4()), "interrupt") is CancelState.UNKNOWN_RUN

    async def test_a_thread_stream_numbers_its_events_and_skips_retries(
        self, store: RunStore
    ) -> None:
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

    async def test_only_a_thread_that_exists_takes_an_update(self, store: RunStore) -> None:
        thread = f"t-{uuid.uuid4()}"
        update = thread_event(cpe.THREAD_UPDATED, {"metadata": {"a": "c"}})
        with pytest.raises(NotFound) as missing:
            await store.append_thread(thread, [update])
        assert missing.value.reason == "THREAD_NOT_FOUND"
        made = thread_event(cpe.THREAD_CREATED, {"metadata": {"a": "b"}})
        assert await store.append_thread(thread, [made, update]) == (2, 2)
        ran = f"t-{uuid.uuid4()}"  # a thread a run made
        assert await store.append([created_on(ran)]) == [AppendOutcome.APPENDED]
        again = thread_event(cpe.THREAD_UPDATED, {"metadata": {"a": "d"}})
        assert await store.append_thread(ran, [again]) == (1, 1)

    async def test_a_deleted_thread_takes_no_more_writes_nor_runs(self, store: RunStore) -> None:
        thread = f"t-{uuid.uuid4()}"
        await store.append_thread(thread, [thread_event(cpe.THREAD_CREATED)])
        await store.append_thread(thread, [thread_event(cpe.THREAD_DELETED)])
        with pytest.raises(FailedPrecondition) as exc:
            await store.append_thread(thread, [thread_event(cpe.CHECKPOINTS_DELETED)])
        assert exc.value.reason == "THREAD_DELETED"
        assert await store.append([created_on(thread)]) == [AppendOutcome.REJECTED_THREAD_DELETED]

    async def test_reject_refuses_a_run_while_another_has_not_ended(self, store: RunStore) -> None:
        thread = f"t-{uuid.uuid4()}"
        first = created_on(thread)
        assert await store.append([first]) == [AppendOutcome.APPENDED]
        assert await store.append([created_on(thread, "reject")]) == [
            AppendOutcome.REJECTED_THREAD_BUSY
        ]
        with pytest.raises(FailedPrecondition) as exc:
            await store.append_thread(
                thread, [thread_event(cpe.THREAD_DELETED)], require_no_runs=True
            )
        assert exc.value.reason == "THREAD_BUSY"
        claim = await store.claim(first.run_id, "ex-1", 10_000)
        ended = ev.new_event(first.run_id, thread, 2, claim.attempt, ev.RUN_SUCCEEDED, "{}")
        assert await store.append([ended]) == [AppendOutcome.APPENDED]
        assert await store.append([created_on(thread, "reject")]) == [AppendOutcome.APPENDED]

    async def test_a_run_with_an_unknown_strategy_is_refused_by_every_store(
        self,
        store: RunStore,
    ) -> None:
        thread = f"t-{uuid.uuid4()}"
        assert await store.append([created_on(thread, "queue")]) == [
            AppendOutcome.REJECTED_MALFORMED
        ]
        assert await store.append([created_on(thread)]) == [AppendOutcome.APPENDED]

    async def test_a_state_update_computed_from_a_superseded_checkpoint_is_refused(
        self, store: RunStore
    ) -> None:
        thread = f"t-{uuid.uuid4()}"
        await store.append_thread(
            thread, [saved_checkpoint("1f0-a", "")], require_latest_parent=True
        )
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


class EventStoreContract(RunStoreContract):
    """What an `EventStore` (an adapter that owns the data) does besides."""

    @pytest.fixture
    async def store(self) -> AsyncIterator[EventStore]:
        """A fresh store of the adapter under test (subclasses give it)."""
        raise NotImplementedError
        yield

    async def test_concurrent_appends_get_what_each_would_get_alone(
        self, store: EventStore
    ) -> None:
        runs = [str(uuid.uuid4()) for _ in range(10)]
        answers = await asyncio.gather(
            *(store.append([created(r)]) for r in runs),
            *(store.append([created(r)]) for r in runs),  # the same again
        )
        for i, run_id in enumerate(runs):
            assert [answers[i][0], answers[i + 10][0]] == [
                AppendOutcome.APPENDED,
                AppendOutcome.DUPLICATE,
            ]
            assert [e.seq for e in await store.read(run_id)] == [1]

    async def test_unended_runs_are_known_until_every_run_ended(self, store: EventStore) -> None:
        assert not await store.has_unended_runs()
        run_id = str(uuid.uuid4())
        await store.append([created(run_id)])
        assert await store.has_unended_runs()  # pending
        assert (await store.claim(run_id, "ex-1", 10_000)).outcome is ClaimOutcome.CLAIMED
        assert await store.has_unended_runs()  # running
        end = ev.new_event(run_id, thread_of(run_id), 2, 1, ev.RUN_SUCCEEDED, "{}")
        assert await store.append([end]) == [AppendOutcome.APPENDED]
        assert not await store.has_unended_runs()

    async def test_a_batch_sent_twice_is_stored_once(self, store: EventStore) -> None:
        run_id = await new_run(store)
        events = run_events(run_id, 3)
        await store.append(events)
        assert await store.append(events) == [AppendOutcome.DUPLICATE] * 3
        assert await store.append([created(run_id)]) == [AppendOutcome.DUPLICATE]
        assert len(await store.read(run_id)) == 4
        assert await store.rejections(run_id) == 0

    async def test_gaps_and_superseded_attempts_are_rejected_and_counted(
        self, store: EventStore
    ) -> None:
        run_id = await new_run(store)
        await store.append(run_events(run_id, 2))  # seq 2, 3 by attempt 1
        assert await store.append(run_events(run_id, 1, start=5)) == [AppendOutcome.REJECTED_GAP]
        # attempt 1's lease runs out; another executor takes over as attempt 2
        await asyncio.sleep(0)
        takeover = await store.claim(run_id, "ex-2", 10_000)
        assert takeover.outcome is ClaimOutcome.LEASED_ELSEWHERE
        stale_store_claim = await store.renew("ex-1", [run_id], 1)
        assert stale_store_claim == []
        await asyncio.sleep(0.05)
        takeover = await store.claim(run_id, "ex-2", 10_000)
        assert (takeover.outcome, takeover.attempt, takeover.last_seq) == (
            ClaimOutcome.CLAIMED,
            2,
            3,
        )
        late = run_events(run_id, 1, attempt=1, start=4)
        assert await store.append(late) == [AppendOutcome.REJECTED_STALE_ATTEMPT]
        assert await store.append(run_events(run_id, 1, attempt=2, start=4)) == [
            AppendOutcome.APPENDED
        ]
        assert await store.rejections(run_id) == 2
        assert [e.attempt for e in await store.read(run_id)] == [0, 1, 1, 2]
        assert await store.renew("ex-1", [run_id], 10_000) == [run_id]  # ex-1 lost it

    async def test_terminal_event_ends_the_run(self, store: EventStore) -> None:
        run_id = await new_run(store)
        end = ev.new_event(run_id, thread_of(run_id), 2, 1, ev.RUN_SUCCEEDED, '{"output":{}}')
        assert await store.append([end]) == [AppendOutcome.APPENDED]
        head = await store.head(run_id)
        assert head is not None and head.ended and head.last_seq == 2
        after = ev.new_event(run_id, thread_of(run_id), 3, 1, ev.NODE_UPDATED, "{}")
        assert await store.append([after]) == [AppendOutcome.REJECTED_CONFLICT]
        assert (await store.claim(run_id, "ex-9", 1000)).outcome is ClaimOutcome.ALREADY_ENDED

    async def test_events_of_unknown_runs_are_refused(self, store: EventStore) -> None:
        stray = ev.new_event(str(uuid.uuid4()), "t", 2, 1, ev.RUN_STARTED, "{}")
        assert await store.append([stray]) == [AppendOutcome.REJECTED_CONFLICT]
        assert (await store.claim(stray.run_id, "ex", 1000)).outcome is ClaimOutcome.UNKNOWN_RUN
        assert await store.head(stray.run_id) is None

    async def test_read_all_follows_positions_across_runs(self, store: EventStore) -> None:
        first = await new_run(store)
        second = await new_run(store)
        await store.append(run_events(first, 1) + run_events(second, 2))
        everything = await store.read_all(0, 100)
        assert [(e.run_id, e.seq) for e in everything] == [
            (first, 1),
            (second, 1),
            (first, 2),
            (second, 2),
            (second, 3),
        ]
        tail = await store.read_all(everything[1].position, 2)
        assert [(e.run_id, e.seq) for e in tail] == [(first, 2), (second, 2)]

    async def test_read_all_can_leave_out_payloads_but_those_asked_for(
        self, store: EventStore
    ) -> None:
        run_id = await new_run(store)
        end = ev.new_event(run_id, thread_of(run_id), 3, 1, ev.RUN_SUCCEEDED, '{"output":{"n":1}}')
        await store.append([*run_events(run_id, 1), end])
        whole = [e for e in await store.read_all(0, 100) if e.run_id == run_id]
        kept = {ev.RUN_CREATED, ev.RUN_SUCCEEDED}
        trimmed = [e for e in await store.read_all(0, 100, kept) if e.run_id == run_id]
        assert [e.type for e in whole] == [ev.RUN_CREATED, ev.RUN_STARTED, ev.RUN_SUCCEEDED]
        for full, light in zip(whole, trimmed, strict=True):
            assert (light.event_id, light.seq, light.position, light.time, light.attempt) == (
                full.event_id,
                full.seq,
                full.position,
                full.time,
                full.attempt,
            )
            wanted = full.payload_json if full.type in kept else "{}"
            assert light.payload_json == wanted
        assert whole[1].payload_json != "{}"  # (so that leaving it out shows)

    async def test_lease_renewals_and_appends_of_many_runs_do_not_deadlock(
        self, store: EventStore
    ) -> None:
        runs = [await new_run(store) for _ in range(200)]
        batches = [
            [e for r in runs[i::4] for e in run_events(r, 1, start=seq)]
            for seq in range(2, 8)
            for i in range(4)
        ]

        async def renew_forever(order: list[str]) -> None:
            for _ in range(20):
                assert await store.renew("ex-1", order, 10_000) == []
                await asyncio.sleep(0)

        async def append_all() -> None:
            for batch in batches:
                assert set(await store.append(batch)) <= {
                    AppendOutcome.APPENDED,
                    AppendOutcome.DUPLICATE,
                }

        await asyncio.gather(
            append_all(), append_all(), *(renew_forever(runs[i::3]) for i in range(3))
        )
        assert [len(await store.read(r)) for r in runs] == [7] * 200

    async def test_unclaimed_runs_are_handed_out_for_requeue_once_per_backoff(
        self,
        store: EventStore,
    ) -> None:
        waiting = created(str(uuid.uuid4()))
        await store.append([waiting])
        claimed = await new_run(store)
        await asyncio.sleep(0.3)
        first = await store.take_stale_commands(timedelta(milliseconds=50), 100)
        assert [e.run_id for e in first] == [waiting.run_id] and first[0].type == ev.RUN_CREATED
        head = await store.head(waiting.run_id)
        assert head is not None and head.republished == 1
        assert claimed not in [e.run_id for e in first]
        await asyncio.sleep(0.7)
        # Handed out once, the run waits twice as long for the next hand-out.
        # Bounds from its age keep this independent of the machine's speed.
        age = ev.utcnow() - waiting.time
        assert await store.take_stale_commands(age * 0.75, 100) == []
        again = await store.take_stale_commands(age * 0.4, 100)
        assert [e.run_id for e in again] == [waiting.run_id]
        await store.claim(waiting.run_id, "ex-1", 10_000)
        assert await store.take_stale_commands(timedelta(milliseconds=1), 100) == []

    async def test_a_run_whose_lease_ran_out_is_handed_out_for_requeue(
        self, store: EventStore
    ) -> None:
        # Its executor died and the broker lost its command (a restart of a
        # broker that keeps nothing): the store still knows it is unfinished.
        lapsed, held = await new_run(store), await new_run(store)
        released = ev.utcnow()
        assert await store.renew("ex-1", [lapsed], 0) == []  # released, as a hand-over does
        assert await store.take_stale_commands(timedelta(seconds=30), 100) == []
        await asyncio.sleep(0.3)
        first = await store.take_stale_commands(timedelta(milliseconds=100), 100)
        assert [e.run_id for e in first] == [lapsed] and first[0].type == ev.RUN_CREATED
        assert held not in [e.run_id for e in first]  # its lease is live
        # Handed out once, it waits twice as long (bounds from its age, not the clock's speed).
        assert await store.take_stale_commands((ev.utcnow() - released) * 0.75, 100) == []
        # The next owner's claim is a new attempt, whose backoff starts afresh.
        claim = await store.claim(lapsed, "ex-2", 10_000)
        assert (claim.outcome, claim.attempt) == (ClaimOutcome.CLAIMED, 2)
        head = await store.head(lapsed)
        assert head is not None and head.republished == 0
        assert await store.take_stale_commands(timedelta(milliseconds=1), 100) == []

    async def test_cancel_of_a_held_run_is_left_to_its_executor(self, store: EventStore) -> None:
        run_id = await new_run(store)
        await store.append(run_events(run_id, 2))
        assert await store.request_cancel(run_id, "interrupt") is CancelState.CANCELLING
        assert await store.cancel_requests([run_id]) == {run_id: "interrupt"}
        assert await store.request_cancel(run_id, "rollback") is CancelState.CANCELLING
        assert await store.request_cancel(run_id, "interrupt") is CancelState.CANCELLING
        assert await store.cancel_requests([run_id]) == {run_id: "rollback"}  # rollback wins
        ended = ev.new_event(
            run_id, thread_of(run_id), 4, 1, ev.RUN_CANCELLED, '{"action":"rollback"}'
        )
        assert await store.append([ended]) == [AppendOutcome.APPENDED]
        assert await store.cancel_requests([run_id]) == {}

    async def test_a_run_past_its_attempts_is_not_claimed(self, store: EventStore) -> None:
        run_id = await new_run(store)
        lost = await store.claim(run_id, "ex-2", 10_000, max_attempts=1)
        assert lost.outcome is ClaimOutcome.LEASED_ELSEWHERE  # ex-1's lease is live
        assert (
            await store.claim(run_id, "ex-1", 10_000, max_attempts=1)
        ).outcome is ClaimOutcome.CLAIMED
        payload = '{"error":{"type":"ExecutorLost","message":"m"}}'
        assert not await store.end_run(run_id, ev.RUN_FAILED, payload)  # ex-1 holds it
        assert (await store.read(run_id))[-1].type == ev.RUN_CREATED

    async def test_interrupt_asks_the_other_runs_of_the_thread_to_stop(
        self, store: EventStore
    ) -> None:
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
        assert (
            await store.claim(newest.run_id, "ex-2", 10_000)
        ).outcome is ClaimOutcome.THREAD_BUSY
