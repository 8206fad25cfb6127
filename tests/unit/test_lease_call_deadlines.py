"""A claim or renewal the checkpoint service never answers ends at the
lease's length: an answer later than that proves nothing, and an executor
whose renewal loop waited forever would hold every run's next node back."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from graphmesh.errors import Unavailable
from graphmesh.eventstore.remote import RemoteEventStore
from graphmesh.internal.v1 import event_store_service_pb2_grpc as pb_grpc


class _Silent(pb_grpc.EventStoreServiceServicer):
    """A service that takes lease calls and never answers them."""

    async def ClaimRuns(self, request: object, context: object) -> object:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def RenewLeases(self, request: object, context: object) -> object:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


async def test_lease_calls_end_at_the_lease_s_length() -> None:
    server = grpc.aio.server()
    pb_grpc.add_EventStoreServiceServicer_to_server(_Silent(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            store = RemoteEventStore(channel)
            for call in (
                lambda: store.renew_leases("ex-1", ["r"], 1000),
                lambda: store.claim("r", "ex-1", 1000),
            ):
                started = time.monotonic()
                with pytest.raises(Unavailable):
                    await call()
                assert 0.9 < time.monotonic() - started < 5
    finally:
        await server.stop(grace=None)
