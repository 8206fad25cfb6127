"""Publishing again the commands of runs that no executor ever claimed.

CreateRun stores a run before it publishes its command to Kafka. If the
gateway dies in between, or the publish fails and the client never retries,
the run would stay PENDING for ever. This loop asks the checkpoint service
for runs unclaimed for longer than `requeue_after` (doubling per earlier
attempt, so a run waiting behind a long queue gets at most a few extra
copies) and publishes their commands again; executors claim a run once, so a
second copy is harmless.
"""

from __future__ import annotations

import asyncio

import grpc
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from graphmesh import envelope as ev
from graphmesh.v1 import event_store_service_pb2 as es_pb2
from graphmesh.v1 import event_store_service_pb2_grpc as es_grpc

log = structlog.get_logger(__name__)

_BATCH = 200


async def requeue_stale_runs(
    store: es_grpc.EventStoreServiceStub,
    producer: AIOKafkaProducer,
    topic: str,
    requeue_after_ms: int,
    stop: asyncio.Event,
) -> None:
    """Sweeps every half `requeue_after_ms` until `stop` is set."""
    interval = requeue_after_ms / 2000
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval)
            return
        except TimeoutError:
            pass
        try:
            answer = await store.TakeStaleCommands(
                es_pb2.TakeStaleCommandsRequest(older_than_ms=requeue_after_ms, limit=_BATCH)
            )
            for message in answer.events:
                created = ev.from_proto(message)
                await producer.send_and_wait(
                    topic, ev.encode(created), key=created.thread_id.encode()
                )
                log.warning("run_command_republished", run_id=created.run_id)
        except (grpc.aio.AioRpcError, KafkaError) as exc:
            # Taken runs whose publish failed come back after the next backoff step.
            log.warning("requeue_sweep_failed", error=str(exc))
