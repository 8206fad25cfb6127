"""The event store's contract suites (graphmesh.eventstore.contract), run
against each adapter: in memory, PostgreSQL (a fresh database per test),
and the remote adapter the services use, against the checkpoint service's
API served in this process over such a database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh.errors import InvalidArgument, Unavailable
from graphmesh.eventstore.contract import EventStoreContract, RunStoreContract
from graphmesh.eventstore.interface import EventStore, RunStore
from graphmesh.eventstore.memory import MemoryEventStore
from graphmesh.eventstore.postgres import PostgresEventStore
from graphmesh.eventstore.remote import RemoteEventStore
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


async def test_an_unreachable_service_is_unavailable() -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{procs.free_port()}") as channel:
        with pytest.raises(Unavailable) as down:
            await RemoteEventStore(channel).read("run")
    assert down.value.reason == "UPSTREAM_UNAVAILABLE"
