"""The gateway's Prometheus metrics: live streams, queue depth per graph,
refusals by a graph's rate limit and by a tenant's rate or quota, beside
the gRPC figures every service has. Served by the service's telemetry
(GRAPHMESH_GATEWAY_METRICS_LISTEN)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

from graphmesh.errors import GraphmeshError
from graphmesh.grpcutil import translated_rpc_errors
from graphmesh.internal.v1 import projection_service_pb2 as pj_pb2
from graphmesh.internal.v1 import projection_service_pb2_grpc as pj_grpc
from graphmesh_gateway.feeds import RunFeeds
from graphmesh_gateway.limits import RateLimiter, TenantQuota

log = structlog.get_logger(__name__)

#: How often the queue depth is read from the read model.
QUEUE_REFRESH_SECONDS = 2.0


class GatewayMetrics:
    """The gateway's metrics registry."""

    def __init__(
        self,
        feeds: RunFeeds,
        limiter: RateLimiter,
        graph_ids: list[str],
        tenant_limiter: RateLimiter | None = None,
        quota: TenantQuota | None = None,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self.registry = registry
        self._graph_ids = graph_ids
        Gauge(
            "graphmesh_stream_subscribers",
            "StreamRun calls being served",
            registry=self.registry,
        ).set_function(lambda: feeds.subscribers)
        Gauge(
            "graphmesh_run_feeds",
            "Runs with a live event-store watch in this gateway",
            registry=self.registry,
        ).set_function(lambda: feeds.feeds)
        refused = Counter(
            "graphmesh_runs_rate_limited",
            "CreateRun calls refused by a rate limit, by graph",
            ["graph_id"],
            registry=self.registry,
        )
        limiter.on_refused = lambda graph_id: refused.labels(graph_id).inc()
        tenant_refused = Counter(
            "graphmesh_tenant_runs_refused",
            "CreateRun calls refused by a tenant's rate limit or run quota",
            ["tenant", "reason"],
            registry=self.registry,
        )
        if tenant_limiter is not None:
            tenant_limiter.on_refused = lambda t: tenant_refused.labels(t, "rate").inc()
        if quota is not None:
            quota.on_refused = lambda t: tenant_refused.labels(t, "quota").inc()
        self._pending = Gauge(
            "graphmesh_queue_depth",
            "Runs accepted and not started (waiting in Kafka), by graph",
            ["graph_id"],
            registry=self.registry,
        )
        self._running = Gauge(
            "graphmesh_runs_running",
            "Runs being executed, by graph",
            ["graph_id"],
            registry=self.registry,
        )

    async def refresh_queues(
        self, projections: pj_grpc.ProjectionServiceStub, stop: asyncio.Event
    ) -> None:
        """Keeps the queue gauges current until `stop` is set."""
        while not stop.is_set():
            try:
                with translated_rpc_errors("counting runs"):
                    answer = await projections.CountActiveRuns(pj_pb2.CountActiveRunsRequest())
                counts = {g.graph_id: (g.pending, g.running) for g in answer.graphs}
                for graph_id in set(self._graph_ids) | set(counts):
                    pending, running = counts.get(graph_id, (0, 0))
                    self._pending.labels(graph_id).set(pending)
                    self._running.labels(graph_id).set(running)
            except GraphmeshError as exc:
                log.warning("queue_depth_refresh_failed", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), QUEUE_REFRESH_SECONDS)
