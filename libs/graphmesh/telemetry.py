"""A service's telemetry in one place: structlog logs, OpenTelemetry traces
and its Prometheus endpoint, started at `main()` and flushed on the way out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import REGISTRY, start_http_server

from graphmesh.logs import configure_logging
from graphmesh.settings import SettingsError, env_str
from graphmesh.tracing import TracingSettings, configure_tracing, shutdown_tracing

log = structlog.get_logger(__name__)

LOG_FORMATS = ("json", "console")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True, slots=True)
class TelemetrySettings:
    """How a service logs, traces and exposes metrics."""

    service: str
    log_level: str = "INFO"
    log_format: str = "json"
    #: OTLP/gRPC endpoint for spans ("" turns tracing off).
    otlp_endpoint: str = ""
    #: host:port of the Prometheus endpoint ("" serves none).
    metrics_listen: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str], service: str) -> TelemetrySettings:
        """GRAPHMESH_LOG_LEVEL, GRAPHMESH_LOG_FORMAT (json|console),
        GRAPHMESH_OTLP_ENDPOINT (else OTEL_EXPORTER_OTLP_ENDPOINT) and
        GRAPHMESH_<SERVICE>_METRICS_LISTEN."""
        level = env_str(env, "GRAPHMESH_LOG_LEVEL", "INFO").upper()
        if level not in LOG_LEVELS:
            raise SettingsError(f"GRAPHMESH_LOG_LEVEL={level!r} is not one of {LOG_LEVELS}")
        fmt = env_str(env, "GRAPHMESH_LOG_FORMAT", "json").lower()
        if fmt not in LOG_FORMATS:
            raise SettingsError(f"GRAPHMESH_LOG_FORMAT={fmt!r} is not one of {LOG_FORMATS}")
        endpoint = env.get("GRAPHMESH_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
        if endpoint and not endpoint.startswith(("http://", "https://")):
            raise SettingsError(
                f"GRAPHMESH_OTLP_ENDPOINT={endpoint!r} must start with http:// or https://"
            )
        listen = env.get(f"GRAPHMESH_{service.upper()}_METRICS_LISTEN", "")
        if listen and not listen.rpartition(":")[2].isdigit():
            raise SettingsError(
                f"GRAPHMESH_{service.upper()}_METRICS_LISTEN={listen!r} is not host:port"
            )
        return cls(service, level, fmt, endpoint, listen)


class Telemetry:
    """The running telemetry of one service process."""

    def __init__(self, settings: TelemetrySettings) -> None:
        self.settings = settings
        self._metrics_server: Any = None

    def start(self) -> None:
        """Configures logging and tracing and serves /metrics."""
        s = self.settings
        configure_logging(s.service, s.log_level, s.log_format)
        configure_tracing(TracingSettings(f"graphmesh-{s.service}", s.otlp_endpoint))
        if s.metrics_listen:
            host, _, port = s.metrics_listen.rpartition(":")
            self._metrics_server, _ = start_http_server(
                int(port), addr=host or "0.0.0.0", registry=REGISTRY
            )
        log.info("telemetry", tracing=bool(s.otlp_endpoint), metrics=s.metrics_listen or None)

    def stop(self) -> None:
        """Flushes buffered spans and stops the metrics endpoint."""
        shutdown_tracing()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server = None
