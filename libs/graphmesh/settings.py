"""Reading settings from an environment mapping.

Each service has one frozen settings object, built once in its `main()` from
`os.environ` and passed down; these helpers do the parsing so that every
service reports a bad value the same way. Libraries never read os.environ.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphmesh.db import DatabaseSettings
from graphmesh.kafka import KafkaSettings


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""


def env_str(env: Mapping[str, str], name: str, default: str | None = None) -> str:
    """The variable's value; raises SettingsError if unset and no default."""
    value = env.get(name, default)
    if value is None or value == "":
        if default is not None:
            return default
        raise SettingsError(f"{name} must be set")
    return value


def env_int(
    env: Mapping[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None
) -> int:
    """The variable as an integer within [minimum, maximum]."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not an integer") from exc
    if value < minimum or (maximum is not None and value > maximum):
        raise SettingsError(f"{name}={value} is out of range [{minimum}, {maximum}]")
    return value


def database_from_env(env: Mapping[str, str]) -> DatabaseSettings:
    """GRAPHMESH_DATABASE_URL (postgresql+asyncpg://...) and GRAPHMESH_DB_POOL_SIZE."""
    url = env_str(env, "GRAPHMESH_DATABASE_URL")
    if not url.startswith("postgresql+asyncpg://"):
        raise SettingsError("GRAPHMESH_DATABASE_URL must start with postgresql+asyncpg://")
    return DatabaseSettings(url=url, pool_size=env_int(env, "GRAPHMESH_DB_POOL_SIZE", 30, 1, 500))


def kafka_from_env(env: Mapping[str, str]) -> KafkaSettings:
    """GRAPHMESH_KAFKA_BOOTSTRAP, GRAPHMESH_TOPIC_PREFIX, GRAPHMESH_PARTITIONS,
    GRAPHMESH_REPLICATION and GRAPHMESH_KAFKA_FETCH_MAX_WAIT_MS."""
    return KafkaSettings(
        bootstrap=env_str(env, "GRAPHMESH_KAFKA_BOOTSTRAP"),
        topic_prefix=env_str(env, "GRAPHMESH_TOPIC_PREFIX", "graphmesh"),
        partitions=env_int(env, "GRAPHMESH_PARTITIONS", 8, 1, 1024),
        replication=env_int(env, "GRAPHMESH_REPLICATION", 1, 1, 16),
        fetch_max_wait_ms=env_int(env, "GRAPHMESH_KAFKA_FETCH_MAX_WAIT_MS", 100, 0, 60000),
    )
