"""The assistant store's contract suite (graphmesh.assistants.contract), run
against PostgreSQL (a fresh database per test) and against the checkpoint
service's API served in this process (the store the gateways use)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh.assistants import AssistantStore
from graphmesh.assistants.contract import AssistantStoreContract
from graphmesh.assistants.postgres import PostgresAssistants
from graphmesh.assistants.remote import RemoteAssistants
from graphmesh.internal.v1 import assistant_store_service_pb2_grpc


class TestPostgresAssistants(AssistantStoreContract):
    @pytest.fixture
    async def assistants(self, engine: AsyncEngine) -> AsyncIterator[AssistantStore]:
        yield PostgresAssistants(engine)


class TestRemoteAssistants(AssistantStoreContract):
    @pytest.fixture
    async def assistants(
        self, checkpoint_channel: grpc.aio.Channel
    ) -> AsyncIterator[AssistantStore]:
        yield RemoteAssistants(
            assistant_store_service_pb2_grpc.AssistantStoreServiceStub(checkpoint_channel)
        )
