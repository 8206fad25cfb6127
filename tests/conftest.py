"""Shared fixtures: one real mesh per test session (PostgreSQL, the broker
and the four service processes), started by the fixtures themselves."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest

from graphmesh.client import Client
from graphmesh.testing.stack import LocalStack, StackConfig
from graphmesh.v1 import run_service_pb2_grpc

#: The examples and the test-only graphs (`slow`: nodes that take a while).
TEST_GRAPHS = Path(__file__).resolve().parent / "graphs" / "langgraph.json"


#: The shared mesh's settings.
SHARED_ENV = {
    # A short requeue delay, so that the test of lost commands does not wait 30 s.
    "GRAPHMESH_REQUEUE_AFTER_MS": "1000",
    # A default retry policy (graphs flaky_default, chain3's KeyError is not retried).
    "GRAPHMESH_RETRY_MAX_ATTEMPTS": "3",
    "GRAPHMESH_RETRY_INITIAL_INTERVAL": "0.01",
    "GRAPHMESH_RETRY_NON_RETRYABLE": "KeyError,ValueError,TypeError",
    # Limits on graphs of their own, so that other tests do not feel them.
    "GRAPHMESH_EXECUTOR_GRAPH_LIMITS": "capped=2",
    "GRAPHMESH_RATE_LIMITS": "limited=2:3",
    # Small subscriber buffers, so that a stalled stream is dropped soon.
    "GRAPHMESH_STREAM_BUFFER": "16",
}


@contextmanager
def running_mesh(request: pytest.FixtureRequest, **config: Any) -> Iterator[LocalStack]:
    """A whole mesh on free ports in a fresh directory (non-durable
    PostgreSQL, 4 partitions unless `config` says otherwise); its service
    logs are printed at the end if any test failed."""
    data_dir = Path(tempfile.mkdtemp(prefix="graphmesh-test-"))
    data_dir.chmod(0o755)  # PostgreSQL runs as its own user and must reach it
    mesh = LocalStack(
        StackConfig.with_free_ports(data_dir, **{"durable": False, "partitions": 4, **config})
    )
    failed = False
    try:
        mesh.start(timeout=120)
        yield mesh
    except BaseException:
        # A test using the mesh in its own body fails here, before pytest
        # has counted the failure: its logs are wanted all the same.
        failed = True
        raise
    finally:
        for service in mesh.services:  # a stopped process would not stop
            if service.proc.poll() is None:
                os.kill(service.proc.pid, signal.SIGCONT)
        mesh.stop()
        if failed or request.session.testsfailed:
            for log in sorted((data_dir / "logs").glob("*.log")):
                print(f"\n===== {log.name} (last 3000 chars)\n{log.read_text()[-3000:]}")
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """The mesh most tests share."""
    with running_mesh(request, graphs=TEST_GRAPHS, extra_env=SHARED_ENV) as mesh:
        yield mesh


@pytest.fixture(scope="session")
def client(stack: LocalStack) -> Iterator[Client]:
    """The Python client, connected to the mesh's gateway."""
    with Client(stack.gateway_target) as c:
        yield c


@pytest.fixture(scope="session")
def run_stub(stack: LocalStack) -> Iterator[run_service_pb2_grpc.RunServiceStub]:
    """A raw RunService stub, for checking statuses and details."""
    with grpc.insecure_channel(stack.gateway_target) as channel:
        yield run_service_pb2_grpc.RunServiceStub(channel)


@pytest.fixture
def thread_id() -> str:
    """A thread id no other test uses."""
    return f"test-{uuid.uuid4()}"


def store_counts(stack: LocalStack) -> dict[str, int]:
    """Row counts of every table the mesh writes, once the projector has
    caught up with the event store (so that the counts are settled)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lag = stack.postgres.query(
            "SELECT coalesce((SELECT max(position) FROM events), 0)"
            " - coalesce((SELECT position FROM projection_positions WHERE projection='runs'), 0)"
        ).strip()
        if lag == "0":
            break
        time.sleep(0.05)
    counts = {}
    for table in (
        "events",
        "run_heads",
        "run_views",
        "event_rejections",
        "threads",
        "checkpoints",
        "checkpoint_writes",
    ):
        counts[table] = int(stack.postgres.query(f"SELECT count(*) FROM {table}").strip())
    return counts
