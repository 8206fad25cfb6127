"""The checkpoint reader's contract suite (graphmesh.checkpoints.contract),
run against each reader over the store it reads: in memory, PostgreSQL (a
fresh database per test), and the checkpoint service's API served in this
process (the reader the executors and the gateway use)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh.checkpoints.contract import CheckpointReaderContract, Checkpoints
from graphmesh.checkpoints.postgres import PostgresCheckpointReader
from graphmesh.checkpoints.remote import RemoteCheckpointReader
from graphmesh.eventstore.memory import MemoryEventStore
from graphmesh.eventstore.postgres import PostgresEventStore
from graphmesh.eventstore.remote import RemoteEventStore
from graphmesh.internal.v1 import checkpoint_service_pb2_grpc


class TestMemoryCheckpoints(CheckpointReaderContract):
    @pytest.fixture
    async def checkpoints(self) -> AsyncIterator[Checkpoints]:
        store = MemoryEventStore()
        yield store, store.checkpoints


class TestPostgresCheckpointReader(CheckpointReaderContract):
    @pytest.fixture
    async def checkpoints(self, engine: AsyncEngine) -> AsyncIterator[Checkpoints]:
        yield PostgresEventStore(engine), PostgresCheckpointReader(engine)


class TestRemoteCheckpointReader(CheckpointReaderContract):
    @pytest.fixture
    async def checkpoints(self, checkpoint_channel: grpc.aio.Channel) -> AsyncIterator[Checkpoints]:
        stub = checkpoint_service_pb2_grpc.CheckpointServiceStub(checkpoint_channel)
        yield RemoteEventStore(checkpoint_channel), RemoteCheckpointReader(stub)
