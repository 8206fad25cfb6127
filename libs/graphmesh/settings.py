"""Reading settings from an environment mapping.

Each service has one frozen settings object, built once in its `main()` from
`os.environ` and passed down; these helpers do the parsing so that every
service reports a bad value the same way. Libraries never read os.environ.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # (Imported where used: a client reading its TLS settings needs neither
    # SQLAlchemy nor aiokafka.)
    from graphmesh.db import DatabaseSettings
    from graphmesh.kafka import KafkaSettings


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""

    from graphmesh.kafka import KafkaSettings


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


def env_float(
    env: Mapping[str, str], name: str, default: float, minimum: float, maximum: float
) -> float:
    """The variable as a number within [minimum, maximum]."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a number") from exc
    if not minimum <= value <= maximum:  # also refuses nan
        raise SettingsError(f"{name}={value} is out of range [{minimum}, {maximum}]")
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """The variable as a flag: true/false, 1/0, yes/no."""
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} is not true or false")


def env_pairs(env: Mapping[str, str], name: str) -> dict[str, str]:
    """The variable as comma-separated key=value pairs ("a=1,b=2")."""
    pairs: dict[str, str] = {}
    for item in env.get(name, "").split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise SettingsError(f"{name}: {item.strip()!r} is not key=value")
        pairs[key.strip()] = value.strip()
    return pairs


def database_from_env(env: Mapping[str, str]) -> DatabaseSettings:
    """GRAPHMESH_DATABASE_URL (postgresql+asyncpg://...), GRAPHMESH_DB_POOL_SIZE,
    GRAPHMESH_DATABASE_PASSWORD (or _PASSWORD_FILE: kept out of the URL),
    and TLS: GRAPHMESH_DATABASE_SSLMODE (disable, require, verify-ca,
    verify-full), GRAPHMESH_DATABASE_SSL_CA_FILE, _SSL_CERT_FILE and
    _SSL_KEY_FILE."""
    from graphmesh.db import DatabaseSettings

    url = env_str(env, "GRAPHMESH_DATABASE_URL")
    if not url.startswith("postgresql+asyncpg://"):
        raise SettingsError("GRAPHMESH_DATABASE_URL must start with postgresql+asyncpg://")
    sslmode = env_str(env, "GRAPHMESH_DATABASE_SSLMODE", "")
    if sslmode not in ("", "disable", "require", "verify-ca", "verify-full"):
        raise SettingsError(f"GRAPHMESH_DATABASE_SSLMODE={sslmode!r} is not known")
    return DatabaseSettings(
        url=url,
        pool_size=env_int(env, "GRAPHMESH_DB_POOL_SIZE", 30, 1, 500),
        password=secret_from_env(env, "GRAPHMESH_DATABASE_PASSWORD"),
        sslmode=sslmode,
        ssl_ca_file=env_str(env, "GRAPHMESH_DATABASE_SSL_CA_FILE", "") or None,
        ssl_cert_file=env_str(env, "GRAPHMESH_DATABASE_SSL_CERT_FILE", "") or None,
        ssl_key_file=env_str(env, "GRAPHMESH_DATABASE_SSL_KEY_FILE", "") or None,
    )


def kafka_from_env(env: Mapping[str, str]) -> KafkaSettings:
    """GRAPHMESH_KAFKA_BOOTSTRAP, GRAPHMESH_TOPIC_PREFIX, GRAPHMESH_PARTITIONS,
    GRAPHMESH_REPLICATION, GRAPHMESH_KAFKA_FETCH_MAX_WAIT_MS,
    GRAPHMESH_KAFKA_IDLE_AFTER_MS, and the
    connection's security: GRAPHMESH_KAFKA_SECURITY_PROTOCOL (PLAINTEXT, SSL,
    SASL_PLAINTEXT, SASL_SSL), GRAPHMESH_KAFKA_SSL_CA_FILE / _CERT_FILE /
    _KEY_FILE, GRAPHMESH_KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256,
    SCRAM-SHA-512), GRAPHMESH_KAFKA_SASL_USERNAME and
    GRAPHMESH_KAFKA_SASL_PASSWORD (or _PASSWORD_FILE)."""
    from graphmesh.kafka import KafkaSettings

    protocol = env_str(env, "GRAPHMESH_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
    if protocol not in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
        raise SettingsError(f"GRAPHMESH_KAFKA_SECURITY_PROTOCOL={protocol!r} is not known")
    mechanism = env_str(env, "GRAPHMESH_KAFKA_SASL_MECHANISM", "PLAIN").upper()
    if mechanism not in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
        raise SettingsError(f"GRAPHMESH_KAFKA_SASL_MECHANISM={mechanism!r} is not supported")
    username = env_str(env, "GRAPHMESH_KAFKA_SASL_USERNAME", "") or None
    password = secret_from_env(env, "GRAPHMESH_KAFKA_SASL_PASSWORD")
    if protocol.startswith("SASL") and not (username and password):
        raise SettingsError(f"{protocol} needs GRAPHMESH_KAFKA_SASL_USERNAME and _PASSWORD")
    return KafkaSettings(
        bootstrap=env_str(env, "GRAPHMESH_KAFKA_BOOTSTRAP"),
        topic_prefix=env_str(env, "GRAPHMESH_TOPIC_PREFIX", "graphmesh"),
        partitions=env_int(env, "GRAPHMESH_PARTITIONS", 8, 1, 1024),
        replication=env_int(env, "GRAPHMESH_REPLICATION", 1, 1, 16),
        fetch_max_wait_ms=env_int(env, "GRAPHMESH_KAFKA_FETCH_MAX_WAIT_MS", 100, 0, 60000),
        idle_after_ms=env_int(env, "GRAPHMESH_KAFKA_IDLE_AFTER_MS", 5000, 0, 3_600_000),
        security_protocol=protocol,
        ssl_cafile=env_str(env, "GRAPHMESH_KAFKA_SSL_CA_FILE", "") or None,
        ssl_certfile=env_str(env, "GRAPHMESH_KAFKA_SSL_CERT_FILE", "") or None,
        ssl_keyfile=env_str(env, "GRAPHMESH_KAFKA_SSL_KEY_FILE", "") or None,
        sasl_mechanism=mechanism,
        sasl_username=username,
        sasl_password=password,
    )


def secret_from_env(env: Mapping[str, str], name: str) -> str | None:
    """A secret from `name`, or from the file `name`_FILE (for secrets
    mounted as files); None when neither is set."""
    path = env_str(env, f"{name}_FILE", "")
    if path:
        if env_str(env, name, ""):
            raise SettingsError(f"set {name} or {name}_FILE, not both")
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise SettingsError(f"{name}_FILE {path}: {exc.strerror}") from None
    return env_str(env, name, "") or None


def shutdown_grace_from_env(env: Mapping[str, str]) -> float:
    """GRAPHMESH_SHUTDOWN_GRACE_SECONDS: after SIGTERM, how long runs and
    calls in progress may take to finish (10 s)."""
    return env_float(env, "GRAPHMESH_SHUTDOWN_GRACE_SECONDS", 10.0, 0.0, 3600.0)
