"""The projector's settings, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphmesh.db import DatabaseSettings
from graphmesh.settings import database_from_env, env_int, env_str


@dataclass(frozen=True, slots=True)
class ProjectorSettings:
    """Everything the projector is configured with."""

    listen: str
    database: DatabaseSettings
    batch_max: int = 1000
    debounce_ms: int = 5
    log_level: str = "INFO"
    log_format: str = "json"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProjectorSettings:
        """Reads GRAPHMESH_PROJECTOR_LISTEN and the shared variables."""
        return cls(
            listen=env_str(env, "GRAPHMESH_PROJECTOR_LISTEN", "127.0.0.1:50053"),
            database=database_from_env(env),
            batch_max=env_int(env, "GRAPHMESH_PROJECTOR_BATCH_MAX", 1000, 1, 100000),
            debounce_ms=env_int(env, "GRAPHMESH_PROJECTOR_DEBOUNCE_MS", 5, 0, 10000),
            log_level=env_str(env, "GRAPHMESH_LOG_LEVEL", "INFO"),
            log_format=env_str(env, "GRAPHMESH_LOG_FORMAT", "json"),
        )
