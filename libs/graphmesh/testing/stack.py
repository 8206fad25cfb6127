"""The whole mesh on one machine: PostgreSQL, the broker, and the four
services as separate processes. Used by `graphmesh up`, `graphmesh bench`
and the end-to-end tests."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from graphmesh.migrations import upgrade
from graphmesh.registry import DEFAULT_REGISTRY
from graphmesh.testing.infra import procs
from graphmesh.testing.infra.broker import LocalBroker
from graphmesh.testing.infra.postgres import PrivatePostgres
from graphmesh.tls import ClientTls, internal_tls_from_env

SERVICES = ("checkpoint", "projector", "executor", "gateway")


class StackError(RuntimeError):
    """The local stack cannot start."""


@dataclass(frozen=True, slots=True)
class StackConfig:
    """Where the stack keeps its data, which ports it uses, what it runs."""

    data_dir: Path
    gateway_port: int = 50051
    checkpoint_port: int = 50052
    projector_port: int = 50053
    executor_port: int = 50054
    #: LangGraph Server's HTTP API, served by the gateway (0: not served).
    http_port: int = 8123
    postgres_port: int = 55432
    broker_port: int = 59092
    #: Prometheus endpoints (0: not served): the gateway's port, then the
    #: checkpoint service, the projector and each executor on the next ones.
    metrics_port: int = 9464
    graphs: Path = DEFAULT_REGISTRY
    executors: int = 1
    partitions: int = 8
    durable: bool = True
    #: "tansu" (memory) or "noida" (keeps its data across restarts).
    broker: str = "tansu"
    log_level: str = "INFO"
    #: Give each service's metrics a free port of its own (tests), rather
    #: than metrics_port + an offset.
    free_metrics_ports: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    #: How the stack's own checks reach a gateway that serves TLS (the
    #: services' TLS and credentials are set in `extra_env`).
    gateway_tls: ClientTls | None = None
    #: PostgreSQL binaries to run (None: the machine's); `pgvector_bin_dir()`
    #: gives a PostgreSQL with pgvector.
    postgres_bin: Path | None = None

    @classmethod
    def with_free_ports(cls, data_dir: Path, **kwargs: object) -> StackConfig:
        """A config whose ports are all free right now (for tests)."""
        ports = {
            name: procs.free_port()
            for name in (
                "gateway_port",
                "checkpoint_port",
                "projector_port",
                "executor_port",
                "http_port",
                "postgres_port",
                "broker_port",
                "metrics_port",
            )
        }
        return cls(data_dir=data_dir, **ports, free_metrics_ports=True, **kwargs)  # type: ignore[arg-type]


@dataclass
class ServiceProcess:
    """One running service process."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    #: Its Prometheus endpoint's port (0: none).
    metrics_port: int = 0
    #: Which service it is ("executor") and, for executors, which one.
    kind: str = ""
    index: int = 0

    @property
    def metrics_url(self) -> str:
        """Its Prometheus endpoint ("" when not served)."""
        return f"http://127.0.0.1:{self.metrics_port}/metrics" if self.metrics_port else ""


class LocalStack:
    """Starts and stops everything; services are reachable while it runs."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.postgres = PrivatePostgres(
            config.data_dir / "postgres",
            config.postgres_port,
            config.durable,
            bin_dir=config.postgres_bin,
        )
        self.broker = LocalBroker(config.data_dir / "broker", config.broker_port, config.broker)
        self.services: list[ServiceProcess] = []
        # One secret for the stack's cursors and page tokens, so that they
        # outlive a gateway restart (a secret of the test's own wins).
        self._token_secret = secrets.token_hex(32)

    @property
    def gateway_target(self) -> str:
        """Where the public API listens."""
        return f"127.0.0.1:{self.config.gateway_port}"

    @property
    def http_url(self) -> str:
        """Where LangGraph Server's HTTP API listens ("" when not served)."""
        scheme = "https" if self.config.gateway_tls else "http"
        return f"{scheme}://127.0.0.1:{self.config.http_port}" if self.config.http_port else ""

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL of graphmesh's database."""
        return self.postgres.url()

    def env(self) -> dict[str, str]:
        """The environment every service process gets."""
        c = self.config
        env = dict(os.environ)
        env.update(
            {
                "GRAPHMESH_DATABASE_URL": self.database_url,
                "GRAPHMESH_KAFKA_BOOTSTRAP": self.broker.bootstrap,
                "GRAPHMESH_PARTITIONS": str(c.partitions),
                "GRAPHMESH_GRAPHS": str(c.graphs),
                "GRAPHMESH_GATEWAY_LISTEN": f"127.0.0.1:{c.gateway_port}",
                "GRAPHMESH_HTTP_LISTEN": f"127.0.0.1:{c.http_port}" if c.http_port else "",
                "GRAPHMESH_CHECKPOINT_LISTEN": f"127.0.0.1:{c.checkpoint_port}",
                "GRAPHMESH_PROJECTOR_LISTEN": f"127.0.0.1:{c.projector_port}",
                "GRAPHMESH_CHECKPOINT_TARGET": f"127.0.0.1:{c.checkpoint_port}",
                "GRAPHMESH_PROJECTOR_TARGET": f"127.0.0.1:{c.projector_port}",
                "GRAPHMESH_LOG_LEVEL": c.log_level,
                # The local broker holds a fetch for its whole wait (see KafkaSettings).
                "GRAPHMESH_KAFKA_FETCH_MAX_WAIT_MS": "5",
                "GRAPHMESH_TOKEN_SECRET": self._token_secret,
            }
        )
        # The local broker keeps nothing across a restart: re-drive the runs
        # whose commands it lost sooner than the default (unless told).
        env.setdefault("GRAPHMESH_REQUEUE_AFTER_MS", "10000")
        env.update(c.extra_env)
        return env

    @property
    def metrics_url(self) -> str:
        """The gateway's Prometheus endpoint ("" when not served)."""
        return self.service("gateway").metrics_url

    def metrics_port_of(self, name: str, index: int = 0) -> int:
        """Where service `name` (executor `index`) serves its metrics."""
        base = self.config.metrics_port
        if not base:
            return 0
        offset = {"gateway": 0, "checkpoint": 1, "projector": 2}.get(name, 3 + index)
        return base + offset

    def check_ports_free(self) -> None:
        """Refuses to start over ports that something already listens on
        (a readiness check would otherwise talk to that other process)."""
        c = self.config
        ports = {
            "gateway": c.gateway_port,
            "checkpoint": c.checkpoint_port,
            "projector": c.projector_port,
            "executor": c.executor_port,
            "HTTP API": c.http_port,
            "postgres": c.postgres_port,
            "broker": c.broker_port,
        }
        if c.metrics_port and not c.free_metrics_ports:
            # (With free metrics ports each service gets one when it starts.)
            ports.update({f"metrics ({name})": self.metrics_port_of(name) for name in SERVICES})
            for index in range(1, c.executors):
                ports[f"metrics (executor{index})"] = self.metrics_port_of("executor", index)
        busy = [f"{name} {port}" for name, port in ports.items() if port and procs.port_open(port)]
        if busy:
            raise StackError(
                f"port(s) already in use: {', '.join(busy)}; is another graphmesh running? "
                "Stop it (graphmesh down) or choose other ports (--port, --http-port, "
                "--postgres-port, --broker-port, --metrics-port)"
            )

    def start_infrastructure(self) -> None:
        """Starts PostgreSQL and the broker and migrates the database."""
        self.check_ports_free()
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.postgres.start()
        self.broker.start()
        upgrade(self.database_url)

    def start_service(self, name: str, index: int = 0) -> ServiceProcess:
        """Starts one service process (executors may run several)."""
        c = self.config
        env = self.env()
        if name == "executor":
            port = c.executor_port if index == 0 else procs.free_port()
            env["GRAPHMESH_EXECUTOR_LISTEN"] = f"127.0.0.1:{port}"
        else:
            port = {
                "gateway": c.gateway_port,
                "checkpoint": c.checkpoint_port,
                "projector": c.projector_port,
            }[name]
        metrics_port = self.metrics_port_of(name, index)
        if metrics_port and c.free_metrics_ports:
            metrics_port = procs.free_port()
        if metrics_port:
            env[f"GRAPHMESH_{name.upper()}_METRICS_LISTEN"] = f"127.0.0.1:{metrics_port}"
        log_path = c.data_dir / "logs" / f"{name}{index or ''}.log"
        proc = procs.start([sys.executable, "-m", f"graphmesh_{name}"], log_path, env)
        service = ServiceProcess(f"{name}{index or ''}", port, proc, metrics_port, name, index)
        self.services.append(service)
        return service

    def restart_service(self, name: str) -> ServiceProcess:
        """Starts service `name` ("executor1", ...) again in its place (it
        exited, or is stopped first); it keeps its API port."""
        old = self.service(name)
        procs.stop(old.proc)
        position = self.services.index(old)
        self.services.remove(old)
        new = self.start_service(old.kind, old.index)
        self.services.remove(new)
        self.services.insert(position, new)
        return new

    def start(self, timeout: float = 60) -> None:
        """Starts everything and waits until every service is healthy."""
        self.start_infrastructure()
        for name in SERVICES:
            for index in range(self.config.executors if name == "executor" else 1):
                self.start_service(name, index)
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float = 60) -> None:
        """Waits until every service answers SERVING to a gRPC health check."""
        deadline = time.monotonic() + timeout
        for service in self.services:
            wait_serving(
                f"127.0.0.1:{service.port}", deadline, service, self.credentials_for(service.name)
            )

    def credentials_for(self, name: str) -> grpc.ChannelCredentials | None:
        """How to reach service `name` (None: plaintext): the gateway as its
        clients do, the others with the internal mutual-TLS identity."""
        if name == "gateway":
            tls = self.config.gateway_tls
            return tls.credentials() if tls else None
        internal = internal_tls_from_env(self.config.extra_env)
        return internal.client.credentials() if internal else None

    def service(self, name: str) -> ServiceProcess:
        """The running service called `name` ("executor", "executor1", ...)."""
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def pids(self) -> dict[str, int]:
        """The process id of each running part: services by name (executors
        numbered after the first), "broker" and "postgres" (the postmaster,
        whose backends are its children)."""
        running = {service.name: service.proc.pid for service in self.services}
        for name, pid in (("broker", self.broker.pid), ("postgres", self.postgres.pid)):
            if pid is not None:
                running[name] = pid
        return running

    def stop(self) -> None:
        """Stops the services (gateway first), then the broker and PostgreSQL."""
        for service in reversed(self.services):
            procs.stop(service.proc)
        self.services.clear()
        self.broker.stop()
        self.postgres.stop()


def wait_serving(
    target: str,
    deadline: float,
    service: ServiceProcess | None = None,
    credentials: grpc.ChannelCredentials | None = None,
) -> None:
    """Waits until `target` reports SERVING, failing early if its process exits."""
    # Reconnect at once: with gRPC's default backoff (1 s, then 1.6 s, ...)
    # a service that starts listening just after a refused connect would
    # be seen seconds late.
    options = [
        ("grpc.initial_reconnect_backoff_ms", 50),
        ("grpc.min_reconnect_backoff_ms", 50),
        ("grpc.max_reconnect_backoff_ms", 100),
    ]
    channel = (
        grpc.secure_channel(target, credentials, options)
        if credentials
        else grpc.insecure_channel(target, options)
    )
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if service is not None and service.proc.poll() is not None:
                raise RuntimeError(
                    f"{service.name} exited with code {service.proc.returncode} while starting"
                )
            try:
                answer = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{target} did not become healthy in time")
            time.sleep(0.1)
