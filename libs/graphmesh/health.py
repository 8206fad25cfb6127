"""gRPC health that an orchestrator can trust.

A service reports SERVING only while every dependency it needs (PostgreSQL,
the broker) answers a real request, and NOT_SERVING from the moment it
starts to shut down. Probes run in the background every few seconds; a
probe that fails or takes too long counts as the dependency being away.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import structlog
from aiokafka.client import AIOKafkaClient
from grpc_health.v1 import health
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh.grpcutil import set_serving
from graphmesh.kafka import KafkaSettings

log = structlog.get_logger(__name__)

PROBE_INTERVAL_SECONDS = 5.0
PROBE_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class Probe:
    """One dependency and how to check it (raises when it is away)."""

    name: str
    check: Callable[[], Awaitable[object]]


def postgres_probe(engine: AsyncEngine) -> Probe:
    """PostgreSQL answers `SELECT 1`."""

    async def check() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return Probe("postgres", check)


class BrokerProbe:
    """The broker answers a metadata request (its own client, so that a
    probe never competes with the service's consumer or producer)."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self._kafka = kafka
        self._client: AIOKafkaClient | None = None

    async def check(self) -> None:
        if self._client is None:
            client = AIOKafkaClient(**self._kafka.client_options())
            try:
                await client.bootstrap()
            except BaseException:
                await client.close()
                raise
            self._client = client
        await self._client.fetch_all_metadata()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def probe(self) -> Probe:
        return Probe("broker", self.check)


class HealthReporter:
    """Keeps a server's health status in step with its dependencies."""

    def __init__(
        self, servicer: health.aio.HealthServicer, service_names: Iterable[str], probes: list[Probe]
    ) -> None:
        self._servicer = servicer
        self._names = list(service_names)
        self._probes = probes
        self._stopping = False
        self._reported = False
        self.serving = False
        #: The dependencies found away at the last probe.
        self.away: list[str] = []

    async def check(self) -> bool:
        """Probes every dependency now and reports the outcome."""
        away = []
        for probe in self._probes:
            try:
                await asyncio.wait_for(probe.check(), PROBE_TIMEOUT_SECONDS)
            except Exception as exc:  # any failure means "not reachable"
                away.append(probe.name)
                if probe.name not in self.away:
                    log.warning("dependency_unreachable", dependency=probe.name, error=repr(exc))
        for name in set(self.away) - set(away):
            log.info("dependency_back", dependency=name)
        self.away = away
        await self._report(not away)
        return not away

    async def run(self, stop: asyncio.Event) -> None:
        """Probes until `stop` is set."""
        while not stop.is_set():
            await self.check()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PROBE_INTERVAL_SECONDS)

    async def shutting_down(self) -> None:
        """Reports NOT_SERVING for good: the service is going away."""
        self._stopping = True
        await self._report(False)

    async def _report(self, healthy: bool) -> None:
        serving = healthy and not self._stopping
        if serving == self.serving and self._reported:
            return
        log.info("health", serving=serving, away=self.away)
        self.serving, self._reported = serving, True
        await set_serving(self._servicer, self._names, serving)
