"""The checkpoint service's gRPC API, put together."""

from __future__ import annotations

import grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh.assistants.postgres import PostgresAssistants
from graphmesh.checkpoints.postgres import PostgresCheckpointReader
from graphmesh.eventstore.postgres import PostgresEventStore
from graphmesh.internal.v1 import (
    assistant_store_service_pb2_grpc,
    checkpoint_service_pb2_grpc,
    event_store_service_pb2_grpc,
    item_store_service_pb2_grpc,
)
from graphmesh.store.postgres import PostgresItems
from graphmesh_checkpoint.assistant_servicer import AssistantStoreServicer
from graphmesh_checkpoint.checkpoint_servicer import CheckpointServicer
from graphmesh_checkpoint.event_store_servicer import EventStoreServicer
from graphmesh_checkpoint.item_servicer import ItemStoreServicer
from graphmesh_checkpoint.notifier import RunNotifier
from graphmesh_checkpoint.records import ThreadRecords


def add_api(
    server: grpc.aio.Server,
    engine: AsyncEngine,
    notifier: RunNotifier,
    max_run_attempts: int,
) -> PostgresEventStore:
    """Serves the event store, the checkpoints, the assistants and the
    store's items in `engine`'s database on `server` (the service's whole
    API; the contract tests serve it in their own process); returns the
    event store."""
    # Its own appends wake its watchers at once (others hear PostgreSQL's NOTIFY).
    store = PostgresEventStore(engine, committed=notifier.committed, origin=notifier.origin)
    checkpoints = PostgresCheckpointReader(engine)
    event_store_service_pb2_grpc.add_EventStoreServiceServicer_to_server(
        EventStoreServicer(store, notifier, max_run_attempts, checkpoints), server
    )
    checkpoint_service_pb2_grpc.add_CheckpointServiceServicer_to_server(
        CheckpointServicer(store, checkpoints, ThreadRecords(engine), notifier),
        server,
    )
    assistant_store_service_pb2_grpc.add_AssistantStoreServiceServicer_to_server(
        AssistantStoreServicer(PostgresAssistants(engine)), server
    )
    item_store_service_pb2_grpc.add_ItemStoreServiceServicer_to_server(
        ItemStoreServicer(PostgresItems(engine)), server
    )
    return store
