"""Entry point: python -m graphmesh_gateway."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

import structlog
from aiokafka import AIOKafkaProducer

from graphmesh import grpcutil
from graphmesh.assistants.remote import RemoteAssistants
from graphmesh.auth import DEFAULT_TENANT, Authenticator, AuthServerInterceptor
from graphmesh.eventstore.remote import RemoteEventStore
from graphmesh.grpcutil import UPSTREAM_PATIENCE_SECONDS, add_health_and_reflection, create_server
from graphmesh.health import BrokerProbe, HealthReporter
from graphmesh.internal.v1 import (
    assistant_store_service_pb2_grpc,
    checkpoint_service_pb2_grpc,
    item_store_service_pb2_grpc,
    projection_service_pb2_grpc,
)
from graphmesh.kafka import ensure_topics, make_producer
from graphmesh.registry import GraphRegistry, load_registry
from graphmesh.service import run_service, supervise
from graphmesh.store.remote import RemoteItems
from graphmesh.v1 import (
    assistant_service_pb2,
    assistant_service_pb2_grpc,
    graph_service_pb2,
    graph_service_pb2_grpc,
    run_service_pb2,
    run_service_pb2_grpc,
    store_service_pb2,
    store_service_pb2_grpc,
    thread_service_pb2,
    thread_service_pb2_grpc,
)
from graphmesh_gateway.assistant_servicer import (
    AssistantDirectory,
    AssistantServicer,
    write_default_assistants,
)
from graphmesh_gateway.feeds import RunFeeds
from graphmesh_gateway.graph_servicer import GraphServicer
from graphmesh_gateway.http.server import http_api
from graphmesh_gateway.limits import RateLimiter, TenantQuota
from graphmesh_gateway.metrics import GatewayMetrics
from graphmesh_gateway.requeue import requeue_stale_runs
from graphmesh_gateway.run_servicer import RunServicer
from graphmesh_gateway.settings import GatewaySettings
from graphmesh_gateway.store_servicer import StoreServicer
from graphmesh_gateway.thread_servicer import ThreadServicer
from graphmesh_gateway.thread_state import Threads
from graphmesh_gateway.tokens import Tokens

log = structlog.get_logger("graphmesh_gateway")
SERVICE_NAMES = [
    run_service_pb2.DESCRIPTOR.services_by_name["RunService"].full_name,
    graph_service_pb2.DESCRIPTOR.services_by_name["GraphService"].full_name,
    thread_service_pb2.DESCRIPTOR.services_by_name["ThreadService"].full_name,
    assistant_service_pb2.DESCRIPTOR.services_by_name["AssistantService"].full_name,
    store_service_pb2.DESCRIPTOR.services_by_name["StoreService"].full_name,
]


async def serve(settings: GatewaySettings, stop: asyncio.Event) -> None:
    """Runs the gateway until `stop` is set."""
    registry = load_registry(settings.graphs)
    authenticator = Authenticator(settings.auth)
    if not settings.auth.enabled:
        log.warning("authentication_off", tenant=DEFAULT_TENANT)
    if settings.token_secret_ephemeral:
        # Fine for one gateway; several must share a secret, or a cursor or
        # page token made by one is refused by the next.
        log.warning("token_secret_ephemeral")
    signer = Tokens(settings.token_secret)
    internal = settings.internal_tls.client if settings.internal_tls else None
    await ensure_topics(settings.kafka)
    producer = make_producer(settings.kafka)
    await producer.start()
    async with (
        grpcutil.channel(settings.checkpoint_target, internal) as store_channel,
        grpcutil.channel(settings.projector_target, internal) as projector_channel,
    ):
        # Reads wait out a restart of the checkpoint service (the call's deadline bounds it).
        store = RemoteEventStore(store_channel, patience=UPSTREAM_PATIENCE_SECONDS)
        projections = projection_service_pb2_grpc.ProjectionServiceStub(projector_channel)
        feeds = RunFeeds(store, settings.stream_buffer, signer)
        limiter = RateLimiter(settings.rate_limits)
        tenant_limiter = RateLimiter(settings.tenant_rate_limits, subject="tenant")
        quota = TenantQuota(settings.tenant_max_active_runs)
        metrics = GatewayMetrics(
            feeds, limiter, [e.graph_id for e in registry.entries()], tenant_limiter, quota
        )
        threads = Threads(
            registry, checkpoint_service_pb2_grpc.CheckpointServiceStub(store_channel)
        )
        directory = AssistantDirectory(
            registry,
            RemoteAssistants(
                assistant_store_service_pb2_grpc.AssistantStoreServiceStub(store_channel)
            ),
        )
        server = create_server(
            public=True,
            interceptors=[AuthServerInterceptor(authenticator)],
            max_receive_bytes=settings.max_message_bytes,
        )
        run_service_pb2_grpc.add_RunServiceServicer_to_server(
            RunServicer(
                settings,
                registry,
                store,
                projections,
                producer,
                threads,
                feeds,
                limiter,
                tenant_limiter,
                quota,
                signer,
                directory,
            ),
            server,
        )
        thread_service_pb2_grpc.add_ThreadServiceServicer_to_server(
            ThreadServicer(settings, threads, signer), server
        )
        graph_service_pb2_grpc.add_GraphServiceServicer_to_server(
            GraphServicer(registry, projections), server
        )
        assistant_service_pb2_grpc.add_AssistantServiceServicer_to_server(
            AssistantServicer(registry, directory, signer, settings.max_input_bytes), server
        )
        store_service_pb2_grpc.add_StoreServiceServicer_to_server(
            StoreServicer(
                RemoteItems(item_store_service_pb2_grpc.ItemStoreServiceStub(store_channel)),
                registry.store,
                settings.max_input_bytes,
            ),
            server,
        )
        broker = BrokerProbe(settings.kafka)
        health = HealthReporter(
            await add_health_and_reflection(server, SERVICE_NAMES), SERVICE_NAMES, [broker.probe()]
        )
        grpcutil.listen(server, settings.listen, settings.public_tls)
        async with contextlib.AsyncExitStack() as http:
            if settings.http_listen:
                # The HTTP API calls this server's gRPC API, through its
                # interceptors, on a socket only this process's user can open.
                private = Path(http.enter_context(tempfile.TemporaryDirectory(prefix="gm-gw-")))
                grpcutil.listen(server, f"unix:{private / 'grpc.sock'}", None)
            await server.start()
            if settings.http_listen:
                address = await http.enter_async_context(
                    http_api(
                        settings.http_listen,
                        f"unix:{private / 'grpc.sock'}",
                        settings.public_tls,
                        settings.shutdown_grace_seconds,
                        settings.http_cors_origins,
                        settings.max_message_bytes,
                    )
                )
                log.info("serving_http", listen=address)
            await _serve_until(
                stop, settings, store, producer, projections, metrics, health, registry, directory
            )
            # The HTTP API's calls in progress end first (leaving the context).
        # Calls in progress (streams, waits) get the grace period to end.
        await server.stop(grace=settings.shutdown_grace_seconds)
        await broker.close()
    await producer.stop()


async def _serve_until(
    stop: asyncio.Event,
    settings: GatewaySettings,
    store: RemoteEventStore,
    producer: AIOKafkaProducer,
    projections: projection_service_pb2_grpc.ProjectionServiceStub,
    metrics: GatewayMetrics,
    health: HealthReporter,
    registry: GraphRegistry,
    directory: AssistantDirectory,
) -> None:
    """Runs the gateway's background work until `stop` is set."""
    requeue = supervise(
        asyncio.create_task(
            requeue_stale_runs(
                store, producer, settings.kafka.runs_topic, settings.requeue_after_ms, stop
            )
        ),
        stop,
    )
    queues = supervise(asyncio.create_task(metrics.refresh_queues(projections, stop)), stop)
    probes = supervise(asyncio.create_task(health.run(stop)), stop)
    defaults = asyncio.create_task(write_default_assistants(directory, stop))
    log.info(
        "serving",
        listen=settings.listen,
        graphs=[e.graph_id for e in registry.entries()],
        tls=settings.public_tls is not None,
        internal_mtls=settings.internal_tls is not None,
        authentication=settings.auth.enabled,
    )
    await stop.wait()
    await health.shutting_down()
    await asyncio.wait([requeue, queues, probes, defaults])


def main() -> None:
    """Reads the settings from the environment and serves."""
    settings = GatewaySettings.from_env(os.environ)
    run_service(settings.telemetry, lambda stop: serve(settings, stop))


if __name__ == "__main__":
    main()
