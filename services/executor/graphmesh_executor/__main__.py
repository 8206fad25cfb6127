"""Entry point: python -m graphmesh_executor."""

from __future__ import annotations

import asyncio
import os

import structlog

from graphmesh import grpcutil
from graphmesh.checkpoints.remote import RemoteCheckpointReader
from graphmesh.eventstore.remote import RemoteEventStore
from graphmesh.grpcutil import add_health_and_reflection, create_server
from graphmesh.health import BrokerProbe, HealthReporter
from graphmesh.internal.v1 import checkpoint_service_pb2_grpc, item_store_service_pb2_grpc
from graphmesh.kafka import (
    EXECUTOR_GROUP,
    ConsumerJoin,
    ensure_topics,
    make_consumer,
    make_producer,
    watch_consumer_lag,
)
from graphmesh.registry import load_registry
from graphmesh.service import run_service, supervise
from graphmesh.store.remote import RemoteItems
from graphmesh_executor.settings import ExecutorSettings
from graphmesh_executor.worker import ExecutorWorker

log = structlog.get_logger("graphmesh_executor")
SERVICE_NAMES: list[str] = []  # work arrives over Kafka; gRPC serves health only


async def serve(settings: ExecutorSettings, stop: asyncio.Event) -> None:
    """Runs the executor until `stop` is set."""
    registry = load_registry(settings.graphs)
    server = create_server()
    broker = BrokerProbe(settings.kafka)
    health = HealthReporter(
        await add_health_and_reflection(server, SERVICE_NAMES), SERVICE_NAMES, [broker.probe()]
    )
    grpcutil.listen(
        server, settings.listen, settings.internal_tls.server if settings.internal_tls else None
    )
    await server.start()
    await ensure_topics(settings.kafka)
    producer = make_producer(settings.kafka)
    await producer.start()
    consumer = make_consumer(settings.kafka, settings.kafka.runs_topic, EXECUTOR_GROUP)
    # Healthy while the consumer joins its group; the worker starts after.
    join = ConsumerJoin(consumer, EXECUTOR_GROUP)
    async with grpcutil.channel(
        settings.checkpoint_target, settings.internal_tls.client if settings.internal_tls else None
    ) as channel:
        worker = ExecutorWorker(
            settings.executor_id,
            registry,
            settings.kafka,
            consumer,
            producer,
            RemoteEventStore(channel, claims_with_checkpoints=True),
            RemoteCheckpointReader(checkpoint_service_pb2_grpc.CheckpointServiceStub(channel)),
            settings.max_runs,
            settings.lease_ms,
            settings.graph_limits,
            settings.retry.policy(),
            settings.shutdown_grace_seconds,
            settings.max_state_bytes,
            settings.max_unacked_ms,
            items=RemoteItems(item_store_service_pb2_grpc.ItemStoreServiceStub(channel)),
        )
        joined = supervise(asyncio.create_task(join.joined(stop)), stop)
        task = supervise(asyncio.create_task(join.after(stop, lambda: worker.run(stop))), stop)
        probes = supervise(asyncio.create_task(health.run(stop)), stop)
        lag = supervise(
            asyncio.create_task(
                join.after(
                    stop,
                    lambda: watch_consumer_lag(
                        consumer, EXECUTOR_GROUP, stop, lambda: worker.fetching_paused
                    ),
                )
            ),
            stop,
        )
        log.info("serving", executor_id=settings.executor_id, graphs=len(registry.entries()))
        await stop.wait()
        await health.shutting_down()
        await asyncio.wait([joined, task, probes, lag])
        await join.cancel()
    # Leaving the group hands this executor's partitions to the others now,
    # not after a session timeout.
    await consumer.stop()
    await producer.stop()
    await broker.close()
    await server.stop(grace=1)


def main() -> None:
    """Reads the settings from the environment and serves."""
    settings = ExecutorSettings.from_env(os.environ)
    run_service(settings.telemetry, lambda stop: serve(settings, stop))


if __name__ == "__main__":
    main()
