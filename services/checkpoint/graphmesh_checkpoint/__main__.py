"""Entry point: python -m graphmesh_checkpoint."""

from __future__ import annotations

import asyncio
import os

import structlog

from graphmesh import db, grpcutil
from graphmesh.grpcutil import add_health_and_reflection, create_server
from graphmesh.health import BrokerProbe, HealthReporter, postgres_probe
from graphmesh.internal.v1 import (
    assistant_store_service_pb2,
    checkpoint_service_pb2,
    event_store_service_pb2,
    item_store_service_pb2,
)
from graphmesh.kafka import (
    CHECKPOINT_GROUP,
    ConsumerJoin,
    FetchGate,
    ensure_topics,
    make_consumer,
    watch_consumer_lag,
)
from graphmesh.service import run_service, supervise
from graphmesh.store.postgres import PostgresItems
from graphmesh_checkpoint.api import add_api
from graphmesh_checkpoint.ingest import EventIngestor
from graphmesh_checkpoint.item_servicer import sweep_expired_items
from graphmesh_checkpoint.notifier import RunNotifier
from graphmesh_checkpoint.settings import CheckpointSettings

log = structlog.get_logger("graphmesh_checkpoint")
SERVICE_NAMES = [
    event_store_service_pb2.DESCRIPTOR.services_by_name["EventStoreService"].full_name,
    checkpoint_service_pb2.DESCRIPTOR.services_by_name["CheckpointService"].full_name,
    assistant_store_service_pb2.DESCRIPTOR.services_by_name["AssistantStoreService"].full_name,
    item_store_service_pb2.DESCRIPTOR.services_by_name["ItemStoreService"].full_name,
]


async def serve(settings: CheckpointSettings, stop: asyncio.Event) -> None:
    """Runs the checkpoint service until `stop` is set."""
    engine = db.create_engine(settings.database)
    notifier = RunNotifier(settings.database)
    await notifier.start()
    server = create_server()
    store = add_api(server, engine, notifier, settings.max_run_attempts)
    broker = BrokerProbe(settings.kafka)
    health = HealthReporter(
        await add_health_and_reflection(server, SERVICE_NAMES),
        SERVICE_NAMES,
        [postgres_probe(engine), broker.probe()],
    )
    grpcutil.listen(
        server, settings.listen, settings.internal_tls.server if settings.internal_tls else None
    )
    await server.start()
    await ensure_topics(settings.kafka)
    consumer = make_consumer(settings.kafka, settings.kafka.events_topic, CHECKPOINT_GROUP)
    # The API serves while the consumer joins its group; ingestion follows.
    join = ConsumerJoin(consumer, CHECKPOINT_GROUP)
    # Idle (no run unended), the consumer fetches nothing until a run is created.
    fetching = FetchGate(
        consumer,
        settings.kafka.idle_after_ms / 1000,
        busy=store.has_unended_runs,
        group=CHECKPOINT_GROUP,
    )
    notifier.expecting = fetching.active
    ingestor = EventIngestor(consumer, store, settings.batch_max, fetching)
    stop_ingesting = asyncio.Event()  # set once the server has drained
    joined = supervise(asyncio.create_task(join.joined(stop_ingesting)), stop)
    ingest_task = supervise(
        asyncio.create_task(join.after(stop_ingesting, lambda: ingestor.run(stop_ingesting))),
        stop,
    )
    gate = supervise(
        asyncio.create_task(join.after(stop_ingesting, lambda: fetching.run(stop_ingesting))),
        stop,
    )
    probes = supervise(asyncio.create_task(health.run(stop)), stop)
    lag = supervise(
        asyncio.create_task(
            join.after(
                stop,
                lambda: watch_consumer_lag(
                    consumer, CHECKPOINT_GROUP, stop, lambda: fetching.paused
                ),
            )
        ),
        stop,
    )
    sweep = supervise(
        asyncio.create_task(
            sweep_expired_items(PostgresItems(engine), settings.store_sweep_seconds, stop)
        ),
        stop,
    )
    log.info("serving", listen=settings.listen)
    await stop.wait()
    await health.shutting_down()
    # Calls in progress get the grace period while ingestion goes on: a
    # checkpoint read waiting for a run's own writes (read-your-writes)
    # needs them stored.
    await server.stop(grace=settings.shutdown_grace_seconds)
    stop_ingesting.set()
    # The ingestor finishes its batch and commits its offsets.
    await asyncio.wait([joined, ingest_task, gate, probes, lag, sweep])
    await join.cancel()
    await consumer.stop()
    await broker.close()
    await notifier.stop()
    await engine.dispose()


def main() -> None:
    """Reads the settings from the environment and serves."""
    settings = CheckpointSettings.from_env(os.environ)
    run_service(settings.telemetry, lambda stop: serve(settings, stop))


if __name__ == "__main__":
    main()
