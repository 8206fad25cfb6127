"""The gateway's settings, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from graphmesh.kafka import KafkaSettings
from graphmesh.registry import DEFAULT_REGISTRY
from graphmesh.settings import env_int, env_str, kafka_from_env, shutdown_grace_from_env
from graphmesh.telemetry import TelemetrySettings
from graphmesh_gateway.limits import RateLimit, rate_limits_from_env


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """Everything the gateway is configured with."""

    listen: str
    kafka: KafkaSettings
    checkpoint_target: str
    projector_target: str
    graphs: Path
    max_input_bytes: int = 1 << 20
    requeue_after_ms: int = 30_000
    #: Batches a stream subscriber may fall behind before it is dropped.
    stream_buffer: int = 1024
    #: Run submissions per second by graph ("*": any other graph).
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    #: After SIGTERM: how long work in progress may take to finish.
    shutdown_grace_seconds: float = 10.0
    telemetry: TelemetrySettings = field(default_factory=lambda: TelemetrySettings("gateway"))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GatewaySettings:
        """Reads GRAPHMESH_GATEWAY_LISTEN, GRAPHMESH_MAX_INPUT_BYTES,
        GRAPHMESH_STREAM_BUFFER, GRAPHMESH_RATE_LIMITS,
        and the shared variables (telemetry: graphmesh.telemetry)."""
        return cls(
            listen=env_str(env, "GRAPHMESH_GATEWAY_LISTEN", "127.0.0.1:50051"),
            kafka=kafka_from_env(env),
            checkpoint_target=env_str(env, "GRAPHMESH_CHECKPOINT_TARGET", "127.0.0.1:50052"),
            projector_target=env_str(env, "GRAPHMESH_PROJECTOR_TARGET", "127.0.0.1:50053"),
            graphs=Path(env_str(env, "GRAPHMESH_GRAPHS", str(DEFAULT_REGISTRY))),
            max_input_bytes=env_int(env, "GRAPHMESH_MAX_INPUT_BYTES", 1 << 20, 2, 32 << 20),
            requeue_after_ms=env_int(env, "GRAPHMESH_REQUEUE_AFTER_MS", 30_000, 100, 86_400_000),
            stream_buffer=env_int(env, "GRAPHMESH_STREAM_BUFFER", 1024, 1, 1_000_000),
            rate_limits=rate_limits_from_env(env),
            shutdown_grace_seconds=shutdown_grace_from_env(env),
            telemetry=TelemetrySettings.from_env(env, "gateway"),
        )
