"""The event store's contract suites (graphmesh.eventstore.contract), run
against each adapter: in memory, PostgreSQL (a fresh database per test),
and the remote adapter the services use, against the checkpoint service's
API served in this process over such a database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh import envelope as ev
from graphmesh.checkpoints.postgres import PostgresCheckpointReader
from graphmesh.errors import InvalidArgument, Unavailable
from graphmesh.eventstore import ClaimOutcome
from graphmesh.eventstore.contract import (
    EventStoreContract,
    RunStoreContract,
    created_on,
    new_run,
    run_events,
    saved_checkpoint,
    thread_of,
)
from graphmesh.eventstore.interface import EventStore, RunStore
from graphmesh.eventstore.memory import MemoryEventStore
from graphmesh.eventstore.postgres import PostgresEventStore
from graphmesh.eventstore.remote import RemoteEventStore
from graphmesh.eventstore.rules import LatestCheckpoint
from graphmesh.runs import RunStatus, fold_all
from graphmesh.testing.infra import procs


class TestMemoryEventStore(EventStoreContract):
    @pytest.fixture
    async def store(self) -> AsyncIterator[EventStore]:
        yield MemoryEventStore()


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    async def store(self, engine: AsyncEngine) -> AsyncIterator[EventStore]:
        yield PostgresEventStore(engine)


class TestRemoteEventStore(RunStoreContract):
    @pytest.fixture
    async def store(self, checkpoint_channel: grpc.aio.Channel) -> AsyncIterator[RunStore]:
        yield RemoteEventStore(checkpoint_channel)

    async def test_a_refusal_by_the_service_arrives_as_its_error(self, store: RunStore) -> None:
        with pytest.raises(InvalidArgument) as refused:
            await store.claim_many(["run"], "", 0)
        assert refused.value.reason == "CLAIM_MALFORMED"

    @pytest.mark.parametrize("ended_by", ["this service", "another process"])
    async def test_waiting_for_the_end_gets_what_the_run_view_folds_from(
        self, store: RunStore, engine: AsyncEngine, ended_by: str
    ) -> None:
        # The service answers from the end it stored itself, or reads the
        # store when another process's append ended the run.
        assert isinstance(store, RemoteEventStore)
        ender: RunStore = store if ended_by == "this service" else PostgresEventStore(engine)
        run_id = await new_run(store)
        await store.append(run_events(run_id, 4))  # seq 2-5, attempt 1

        async def wait() -> list[list[ev.Event]]:
            async with contextlib.aclosing(store.watch(run_id, wait_for_end=True)) as batches:
                return [batch async for batch in batches]

        waiting = asyncio.create_task(wait())
        await asyncio.sleep(0.1)
        assert not waiting.done()  # nothing is sent before the end
        end = ev.new_event(run_id, thread_of(run_id), 6, 1, ev.RUN_SUCCEEDED, '{"output":{"n":3}}')
        await ender.append([end])
        batches = await asyncio.wait_for(waiting, 10)
        assert [[e.seq for e in batch] for batch in batches] == [[1, 6]]
        view = fold_all(batches[0])
        assert view == fold_all(await store.read(run_id))
        assert view is not None and view.status is RunStatus.SUCCEEDED and view.attempt == 1

    async def test_a_watcher_gets_every_event_once_whoever_stored_it(
        self, store: RunStore, engine: AsyncEngine
    ) -> None:
        # Events this service stores reach its watchers from memory; those
        # another process stores, through PostgreSQL's notification and a
        # read. Interleaved, the watcher still gets each once, in order.
        other = PostgresEventStore(engine)
        run_id = await new_run(store)
        events = run_events(run_id, 12)  # seq 2-13
        events.append(
            ev.new_event(run_id, thread_of(run_id), 14, 1, ev.RUN_SUCCEEDED, '{"output":{}}')
        )

        async def follow() -> list[int]:
            async with contextlib.aclosing(store.watch(run_id)) as batches:
                return [e.seq async for batch in batches for e in batch]

        following = asyncio.create_task(follow())
        for i in range(0, len(events), 2):
            appender = store if i % 4 == 0 else other
            await appender.append(events[i : i + 2])
            await asyncio.sleep(0.02)
        assert await asyncio.wait_for(following, 10) == list(range(1, 15))


async def test_a_granted_claim_can_carry_its_threads_latest_checkpoint(
    checkpoint_channel: grpc.aio.Channel, engine: AsyncEngine
) -> None:
    store = RemoteEventStore(checkpoint_channel, claims_with_checkpoints=True)
    thread = "t-claims-with-checkpoints"
    first = created_on(thread)
    await store.append([first])
    claim = await store.claim(first.run_id, "ex-1", 10_000)
    assert claim.outcome is ClaimOutcome.CLAIMED
    assert claim.latest_checkpoint == LatestCheckpoint(None)  # read: the thread has none
    await store.append(
        [ev.new_event(first.run_id, thread, 2, 1, ev.RUN_SUCCEEDED, '{"output":{}}')]
    )
    await store.append_thread(
        thread,
        [
            saved_checkpoint("1f0-a", ""),
            saved_checkpoint("1f0-b", "1f0-a"),
            saved_checkpoint("1f0-c", "1f0-b", ns="child:1"),
        ],
    )
    second = created_on(thread)
    await store.append([second])
    claim = await store.claim(second.run_id, "ex-1", 10_000)
    assert claim.outcome is ClaimOutcome.CLAIMED
    assert claim.latest_checkpoint is not None and claim.latest_checkpoint.stored is not None
    assert claim.latest_checkpoint.stored.checkpoint_id == "1f0-b"  # the root's latest
    assert claim.latest_checkpoint.stored == await PostgresCheckpointReader(engine).get(
        thread, "", ""
    )
    # A claim not granted carries nothing, nor one that did not ask.
    third = created_on(thread)
    await store.append([third])
    busy = await store.claim(third.run_id, "ex-2", 10_000)
    assert busy.outcome is ClaimOutcome.THREAD_BUSY and busy.latest_checkpoint is None
    fourth = created_on("t-claims-without-checkpoints")
    await store.append([fourth])
    plain = await RemoteEventStore(checkpoint_channel).claim(fourth.run_id, "ex-1", 10_000)
    assert plain.outcome is ClaimOutcome.CLAIMED and plain.latest_checkpoint is None


async def test_an_unreachable_service_is_unavailable() -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{procs.free_port()}") as channel:
        with pytest.raises(Unavailable) as down:
            await RemoteEventStore(channel).read("run")
    assert down.value.reason == "UPSTREAM_UNAVAILABLE"
