"""The executor's settings, read once from the environment."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from langgraph.types import RetryPolicy

from graphmesh.kafka import KafkaSettings
from graphmesh.registry import DEFAULT_REGISTRY
from graphmesh.settings import (
    SettingsError,
    env_bool,
    env_float,
    env_int,
    env_pairs,
    env_str,
    kafka_from_env,
    shutdown_grace_from_env,
)
from graphmesh.telemetry import TelemetrySettings
from graphmesh.tls import InternalTls, internal_tls_from_env
from graphmesh_executor.runner import DEFAULT_MAX_EVENT_BYTES


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """The retry policy for nodes of graphs that set none (LangGraph's
    `RetryPolicy`): exponential backoff with jitter. One attempt: none."""

    max_attempts: int = 1
    initial_interval: float = 0.5
    backoff_factor: float = 2.0
    max_interval: float = 128.0
    jitter: bool = True
    #: Exception type names never retried (a subclass of one neither).
    #: Empty: LangGraph's default rule (programming errors are not retried).
    non_retryable: frozenset[str] = frozenset()

    def policy(self) -> RetryPolicy | None:
        """The LangGraph policy, or None when no retries are configured."""
        if self.max_attempts <= 1:
            return None
        policy = RetryPolicy(
            initial_interval=self.initial_interval,
            backoff_factor=self.backoff_factor,
            max_interval=self.max_interval,
            max_attempts=self.max_attempts,
            jitter=self.jitter,
        )
        if not self.non_retryable:
            return policy
        names = self.non_retryable

        def retry_on(exc: Exception) -> bool:
            return not any(t.__name__ in names for t in type(exc).__mro__)

        return policy._replace(retry_on=retry_on)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RetrySettings:
        """Reads GRAPHMESH_RETRY_*."""
        raw = env.get("GRAPHMESH_RETRY_NON_RETRYABLE", "")
        names = frozenset(n.strip() for n in raw.split(",") if n.strip())
        bad = [n for n in names if not n.isidentifier()]
        if bad:
            raise SettingsError(f"GRAPHMESH_RETRY_NON_RETRYABLE: {bad} are not type names")
        return cls(
            max_attempts=env_int(env, "GRAPHMESH_RETRY_MAX_ATTEMPTS", 1, 1, 100),
            initial_interval=env_float(env, "GRAPHMESH_RETRY_INITIAL_INTERVAL", 0.5, 0.0, 3600.0),
            backoff_factor=env_float(env, "GRAPHMESH_RETRY_BACKOFF_FACTOR", 2.0, 1.0, 100.0),
            max_interval=env_float(env, "GRAPHMESH_RETRY_MAX_INTERVAL", 128.0, 0.0, 86400.0),
            jitter=env_bool(env, "GRAPHMESH_RETRY_JITTER", True),
            non_retryable=names,
        )


def graph_limits_from_env(env: Mapping[str, str]) -> dict[str, int]:
    """GRAPHMESH_EXECUTOR_GRAPH_LIMITS: "graph=N,..." concurrent runs of a
    graph on one executor."""
    limits: dict[str, int] = {}
    for graph_id, raw in env_pairs(env, "GRAPHMESH_EXECUTOR_GRAPH_LIMITS").items():
        try:
            limits[graph_id] = int(raw)
        except ValueError as exc:
            raise SettingsError(f"GRAPHMESH_EXECUTOR_GRAPH_LIMITS: {graph_id}={raw!r}") from exc
        if not 1 <= limits[graph_id] <= 10000:
            raise SettingsError(
                f"GRAPHMESH_EXECUTOR_GRAPH_LIMITS: {graph_id}={raw} is out of range [1, 10000]"
            )
    return limits


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
    #: Concurrent runs per graph on this executor (graphs not named: max_runs).
    graph_limits: dict[str, int] = field(default_factory=dict)
    retry: RetrySettings = RetrySettings()
    #: After SIGTERM: how long work in progress may take to finish.
    shutdown_grace_seconds: float = 10.0
    #: The largest checkpoint, write or update a run may emit (its state).
    max_state_bytes: int = DEFAULT_MAX_EVENT_BYTES
    #: Mutual TLS with the other services (None: plaintext).
    internal_tls: InternalTls | None = None
    #: A run starts no node while a message it sent this long ago is still
    #: unacknowledged by Kafka (see graphmesh_executor.backlog).
    max_unacked_ms: int = 250
    telemetry: TelemetrySettings = field(default_factory=lambda: TelemetrySettings("executor"))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ExecutorSettings:
        """Reads GRAPHMESH_EXECUTOR_*, GRAPHMESH_RETRY_*, GRAPHMESH_MAX_STATE_BYTES
        and the shared variables."""
        default_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        return cls(
            listen=env_str(env, "GRAPHMESH_EXECUTOR_LISTEN", "127.0.0.1:50054"),
            kafka=kafka_from_env(env),
            checkpoint_target=env_str(env, "GRAPHMESH_CHECKPOINT_TARGET", "127.0.0.1:50052"),
            graphs=Path(env_str(env, "GRAPHMESH_GRAPHS", str(DEFAULT_REGISTRY))),
            executor_id=env_str(env, "GRAPHMESH_EXECUTOR_ID", default_id),
            max_runs=env_int(env, "GRAPHMESH_EXECUTOR_MAX_RUNS", 64, 1, 10000),
            lease_ms=env_int(env, "GRAPHMESH_LEASE_MS", 15000, 1000, 3_600_000),
            graph_limits=graph_limits_from_env(env),
            retry=RetrySettings.from_env(env),
            shutdown_grace_seconds=shutdown_grace_from_env(env),
            # Below the producer's 8 MiB request limit, with room for the envelope.
            max_state_bytes=env_int(
                env, "GRAPHMESH_MAX_STATE_BYTES", DEFAULT_MAX_EVENT_BYTES, 1024, 7 << 20
            ),
            internal_tls=internal_tls_from_env(env),
            max_unacked_ms=env_int(env, "GRAPHMESH_MAX_UNACKED_MS", 250, 1, 600_000),
            telemetry=TelemetrySettings.from_env(env, "executor"),
        )
