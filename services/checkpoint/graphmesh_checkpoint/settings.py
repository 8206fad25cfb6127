"""The checkpoint service's settings, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphmesh.db import DatabaseSettings
from graphmesh.kafka import KafkaSettings
from graphmesh.settings import (
    database_from_env,
    env_int,
    env_str,
    kafka_from_env,
    shutdown_grace_from_env,
)
from graphmesh.telemetry import TelemetrySettings
from graphmesh.tls import InternalTls, internal_tls_from_env


@dataclass(frozen=True, slots=True)
class CheckpointSettings:
    """Everything the checkpoint service is configured with."""

    listen: str
    database: DatabaseSettings
    kafka: KafkaSettings
    batch_max: int = 1000
    #: How many times a run is started before the store gives up on it
    #: (its executors kept dying) and ends it as failed.
    max_run_attempts: int = 5
    #: Seconds between sweeps of the store's expired items.
    store_sweep_seconds: float = 60.0
    #: After SIGTERM: how long work in progress may take to finish.
    shutdown_grace_seconds: float = 10.0
    #: Mutual TLS with the other services (None: plaintext).
    internal_tls: InternalTls | None = None
    telemetry: TelemetrySettings = field(default_factory=lambda: TelemetrySettings("checkpoint"))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CheckpointSettings:
        """Reads GRAPHMESH_CHECKPOINT_LISTEN, GRAPHMESH_CHECKPOINT_BATCH_MAX,
        GRAPHMESH_MAX_RUN_ATTEMPTS and the shared variables."""
        return cls(
            listen=env_str(env, "GRAPHMESH_CHECKPOINT_LISTEN", "127.0.0.1:50052"),
            database=database_from_env(env),
            kafka=kafka_from_env(env),
            batch_max=env_int(env, "GRAPHMESH_CHECKPOINT_BATCH_MAX", 1000, 1, 100000),
            max_run_attempts=env_int(env, "GRAPHMESH_MAX_RUN_ATTEMPTS", 5, 1, 1000),
            store_sweep_seconds=env_int(env, "GRAPHMESH_STORE_SWEEP_SECONDS", 60, 1, 86_400),
            shutdown_grace_seconds=shutdown_grace_from_env(env),
            internal_tls=internal_tls_from_env(env),
            telemetry=TelemetrySettings.from_env(env, "checkpoint"),
        )
