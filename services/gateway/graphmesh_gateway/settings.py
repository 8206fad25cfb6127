"""The gateway's settings, read once from the environment."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from graphmesh.auth import AuthSettings
from graphmesh.kafka import KafkaSettings
from graphmesh.registry import DEFAULT_REGISTRY
from graphmesh.settings import (
    SettingsError,
    env_int,
    env_str,
    kafka_from_env,
    shutdown_grace_from_env,
)
from graphmesh.telemetry import TelemetrySettings
from graphmesh.tls import InternalTls, ServerTls, internal_tls_from_env, public_tls_from_env
from graphmesh_gateway.limits import RateLimit, active_run_caps_from_env, rate_limits_from_env


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
    #: Run submissions per second by tenant ("*": any other tenant).
    tenant_rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    #: Most unfinished runs by tenant ("*": any other tenant).
    tenant_max_active_runs: dict[str, int] = field(default_factory=dict)
    #: After SIGTERM: how long work in progress may take to finish.
    shutdown_grace_seconds: float = 10.0
    auth: AuthSettings = field(default_factory=AuthSettings)
    #: Signs cursors and page tokens; every gateway of a mesh needs the same.
    token_secret: bytes = field(default=b"", repr=False)
    #: True when no secret was configured and one was made up at start.
    token_secret_ephemeral: bool = False
    public_tls: ServerTls | None = None
    #: Where LangGraph Server's HTTP API listens ("": not served).
    http_listen: str = ""
    #: Origins whose pages may call the HTTP API from a browser ("*": any).
    http_cors_origins: tuple[str, ...] = ("*",)
    internal_tls: InternalTls | None = None
    telemetry: TelemetrySettings = field(default_factory=lambda: TelemetrySettings("gateway"))

    @property
    def max_message_bytes(self) -> int:
        """The largest request the public API receives: room for an input
        and a command of the largest size, and the rest of the request."""
        return 2 * self.max_input_bytes + (256 << 10)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GatewaySettings:
        """Reads GRAPHMESH_GATEWAY_LISTEN, GRAPHMESH_MAX_INPUT_BYTES,
        GRAPHMESH_STREAM_BUFFER, GRAPHMESH_RATE_LIMITS, GRAPHMESH_HTTP_LISTEN,
        GRAPHMESH_HTTP_CORS_ORIGINS,
        GRAPHMESH_TENANT_RATE_LIMITS, GRAPHMESH_TENANT_MAX_ACTIVE_RUNS,
        GRAPHMESH_TOKEN_SECRET (or GRAPHMESH_TOKEN_SECRET_FILE), the
        authentication (graphmesh.auth) and TLS (graphmesh.tls) variables,
        and the shared ones (telemetry: graphmesh.telemetry)."""
        secret, ephemeral = _token_secret(env)
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
            tenant_rate_limits=rate_limits_from_env(env, "GRAPHMESH_TENANT_RATE_LIMITS"),
            tenant_max_active_runs=active_run_caps_from_env(env),
            shutdown_grace_seconds=shutdown_grace_from_env(env),
            auth=AuthSettings.from_env(env),
            token_secret=secret,
            token_secret_ephemeral=ephemeral,
            public_tls=public_tls_from_env(env),
            http_listen=env_str(env, "GRAPHMESH_HTTP_LISTEN", ""),
            http_cors_origins=tuple(
                o.strip()
                for o in env_str(env, "GRAPHMESH_HTTP_CORS_ORIGINS", "*").split(",")
                if o.strip()
            ),
            internal_tls=internal_tls_from_env(env),
            telemetry=TelemetrySettings.from_env(env, "gateway"),
        )


def _token_secret(env: Mapping[str, str]) -> tuple[bytes, bool]:
    """The configured token secret, or a random one (ephemeral: True)."""
    path = env_str(env, "GRAPHMESH_TOKEN_SECRET_FILE", "")
    text = env_str(env, "GRAPHMESH_TOKEN_SECRET", "")
    if path and text:
        raise SettingsError("set GRAPHMESH_TOKEN_SECRET or GRAPHMESH_TOKEN_SECRET_FILE, not both")
    if path:
        try:
            text = Path(path).read_text().strip()
        except OSError as exc:
            raise SettingsError(f"GRAPHMESH_TOKEN_SECRET_FILE {path}: {exc.strerror}") from None
    if not text:
        return secrets.token_bytes(32), True
    if len(text.encode()) < 16:
        raise SettingsError("the token secret must be at least 16 bytes")
    return text.encode(), False
