"""Entry point: python -m graphmesh_projector."""

from __future__ import annotations

import asyncio
import os

import structlog

from graphmesh import db, grpcutil
from graphmesh.eventstore.postgres import PostgresEventStore
from graphmesh.grpcutil import add_health_and_reflection, create_server
from graphmesh.health import HealthReporter, postgres_probe
from graphmesh.internal.v1 import projection_service_pb2, projection_service_pb2_grpc
from graphmesh.service import run_service, supervise
from graphmesh_projector.projection import RUNS_PROJECTION
from graphmesh_projector.projection_servicer import ProjectionServicer
from graphmesh_projector.projector import Projector
from graphmesh_projector.readmodel import RunViewStore
from graphmesh_projector.settings import ProjectorSettings

log = structlog.get_logger("graphmesh_projector")
SERVICE_NAMES = [projection_service_pb2.DESCRIPTOR.services_by_name["ProjectionService"].full_name]


async def serve(settings: ProjectorSettings, stop: asyncio.Event) -> None:
    """Runs the projector until `stop` is set."""
    engine = db.create_engine(settings.database)
    views = RunViewStore(engine, RUNS_PROJECTION)
    projector = Projector(
        engine,
        PostgresEventStore(engine),
        views,
        settings.database,
        settings.batch_max,
        settings.debounce_ms,
    )
    server = create_server()
    projection_service_pb2_grpc.add_ProjectionServiceServicer_to_server(
        ProjectionServicer(views), server
    )
    health = HealthReporter(
        await add_health_and_reflection(server, SERVICE_NAMES),
        SERVICE_NAMES,
        [postgres_probe(engine)],
    )
    grpcutil.listen(
        server, settings.listen, settings.internal_tls.server if settings.internal_tls else None
    )
    await server.start()
    task = supervise(asyncio.create_task(projector.run(stop)), stop)
    probes = supervise(asyncio.create_task(health.run(stop)), stop)
    lag = supervise(asyncio.create_task(projector.watch_lag(stop)), stop)
    log.info("serving", listen=settings.listen)
    await stop.wait()
    await health.shutting_down()
    await asyncio.wait([task, probes, lag])
    await server.stop(grace=settings.shutdown_grace_seconds)
    await engine.dispose()


def main() -> None:
    """Reads the settings from the environment and serves."""
    settings = ProjectorSettings.from_env(os.environ)
    run_service(settings.telemetry, lambda stop: serve(settings, stop))


if __name__ == "__main__":
    main()
