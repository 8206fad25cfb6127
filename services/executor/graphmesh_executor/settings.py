"""The executor's settings, read once from the environment."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from graphmesh.kafka import KafkaSettings
from graphmesh.registry import DEFAULT_REGISTRY
from graphmesh.settings import env_int, env_str, kafka_from_env


@dataclass(frozen=True, slots=True)
class ExecutorSettings:
    """Everything an executor process is configured with."""

    listen: str
    kafka: KafkaSettings
    checkpoint_target: str
    graphs: Path
    executor_id: str
    max_runs: int = 64
    lease_ms: int = 15000
    log_level: str = "INFO"
    log_format: str = "json"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ExecutorSettings:
        """Reads GRAPHMESH_EXECUTOR_* and the shared variables."""
        default_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        return cls(
            listen=env_str(env, "GRAPHMESH_EXECUTOR_LISTEN", "127.0.0.1:50054"),
            kafka=kafka_from_env(env),
            checkpoint_target=env_str(env, "GRAPHMESH_CHECKPOINT_TARGET", "127.0.0.1:50052"),
            graphs=Path(env_str(env, "GRAPHMESH_GRAPHS", str(DEFAULT_REGISTRY))),
            executor_id=env_str(env, "GRAPHMESH_EXECUTOR_ID", default_id),
            max_runs=env_int(env, "GRAPHMESH_EXECUTOR_MAX_RUNS", 64, 1, 10000),
            lease_ms=env_int(env, "GRAPHMESH_LEASE_MS", 15000, 1000, 3_600_000),
            log_level=env_str(env, "GRAPHMESH_LOG_LEVEL", "INFO"),
            log_format=env_str(env, "GRAPHMESH_LOG_FORMAT", "json"),
        )
