"""The gateway's settings, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from graphmesh.kafka import KafkaSettings
from graphmesh.registry import DEFAULT_REGISTRY
from graphmesh.settings import env_int, env_str, kafka_from_env


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
    log_level: str = "INFO"
    log_format: str = "json"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GatewaySettings:
        """Reads GRAPHMESH_GATEWAY_LISTEN, GRAPHMESH_MAX_INPUT_BYTES and the
        shared variables."""
        return cls(
            listen=env_str(env, "GRAPHMESH_GATEWAY_LISTEN", "127.0.0.1:50051"),
            kafka=kafka_from_env(env),
            checkpoint_target=env_str(env, "GRAPHMESH_CHECKPOINT_TARGET", "127.0.0.1:50052"),
            projector_target=env_str(env, "GRAPHMESH_PROJECTOR_TARGET", "127.0.0.1:50053"),
            graphs=Path(env_str(env, "GRAPHMESH_GRAPHS", str(DEFAULT_REGISTRY))),
            max_input_bytes=env_int(env, "GRAPHMESH_MAX_INPUT_BYTES", 1 << 20, 2, 32 << 20),
            requeue_after_ms=env_int(env, "GRAPHMESH_REQUEUE_AFTER_MS", 30_000, 100, 86_400_000),
            log_level=env_str(env, "GRAPHMESH_LOG_LEVEL", "INFO"),
            log_format=env_str(env, "GRAPHMESH_LOG_FORMAT", "json"),
        )
