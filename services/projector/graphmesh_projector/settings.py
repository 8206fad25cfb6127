"""The projector's settings, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphmesh.db import DatabaseSettings
from graphmesh.settings import database_from_env, env_int, env_str, shutdown_grace_from_env
from graphmesh.telemetry import TelemetrySettings
from graphmesh.tls import InternalTls, internal_tls_from_env


@dataclass(frozen=True, slots=True)
class ProjectorSettings:
    """Everything the projector is configured with."""

    listen: str
    database: DatabaseSettings
    batch_max: int = 1000
    debounce_ms: int = 5
    #: After SIGTERM: how long work in progress may take to finish.
    shutdown_grace_seconds: float = 10.0
    #: Mutual TLS with the other services (None: plaintext).
    internal_tls: InternalTls | None = None
    telemetry: TelemetrySettings = field(default_factory=lambda: TelemetrySettings("projector"))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProjectorSettings:
        """Reads GRAPHMESH_PROJECTOR_LISTEN and the shared variables."""
        return cls(
            listen=env_str(env, "GRAPHMESH_PROJECTOR_LISTEN", "127.0.0.1:50053"),
            database=database_from_env(env),
            batch_max=env_int(env, "GRAPHMESH_PROJECTOR_BATCH_MAX", 1000, 1, 100000),
            debounce_ms=env_int(env, "GRAPHMESH_PROJECTOR_DEBOUNCE_MS", 5, 0, 10000),
            shutdown_grace_seconds=shutdown_grace_from_env(env),
            internal_tls=internal_tls_from_env(env),
            telemetry=TelemetrySettings.from_env(env, "projector"),
        )
