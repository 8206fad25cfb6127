"""Gathering an executor's claims into one call.

A fetch from Kafka hands the executor many commands at once; claiming each
with its own RPC and transaction cost more than running chain3 itself. The
claims asked for in one turn of the event loop go out as one ClaimRuns call
(one transaction), and each caller gets its own run's decision.
"""

from __future__ import annotations

import asyncio

import grpc

from graphmesh.v1 import event_store_service_pb2 as es_pb2
from graphmesh.v1 import event_store_service_pb2_grpc as es_grpc


class ClaimBatcher:
    """Claims runs for one executor, batching concurrent requests."""

    def __init__(
        self, store: es_grpc.EventStoreServiceStub, executor_id: str, lease_ms: int
    ) -> None:
        self._store = store
        self._executor_id = executor_id
        self._lease_ms = lease_ms
        self._pending: dict[str, list[asyncio.Future[es_pb2.RunClaim]]] = {}
        self._calls: set[asyncio.Task[None]] = set()

    async def claim(self, run_id: str) -> es_pb2.RunClaim:
        """The store's decision on `run_id` for this executor; raises
        grpc.aio.AioRpcError if the checkpoint service cannot be reached."""
        loop = asyncio.get_running_loop()
        if not self._pending:
            loop.call_soon(self._send_pending)
        future: asyncio.Future[es_pb2.RunClaim] = loop.create_future()
        self._pending.setdefault(run_id, []).append(future)
        return await future

    def _send_pending(self) -> None:
        batch, self._pending = self._pending, {}
        call = asyncio.create_task(self._send(batch))
        self._calls.add(call)
        call.add_done_callback(self._calls.discard)

    async def _send(self, batch: dict[str, list[asyncio.Future[es_pb2.RunClaim]]]) -> None:
        try:
            answer = await self._store.ClaimRuns(
                es_pb2.ClaimRunsRequest(
                    run_ids=list(batch), executor_id=self._executor_id, lease_ms=self._lease_ms
                )
            )
        except grpc.aio.AioRpcError as exc:
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for futures, claim in zip(batch.values(), answer.claims, strict=True):
            for future in futures:
                if not future.done():
                    future.set_result(claim)
