"""Dependencies going away under load, and services told to stop: health
says so, no service dies, every run finishes, nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from graphmesh.client import Client
from graphmesh.errors import GraphmeshError
from graphmesh.runs import RunStatus
from graphmesh.testing.stack import LocalStack, wait_serving
from tests.conftest import TEST_GRAPHS, running_mesh, store_counts

pytestmark = pytest.mark.e2e

SLOW_IN = {"seconds": 0.2, "trail": []}


def serving(mesh: LocalStack) -> dict[str, bool]:
    """Each service's gRPC health, now."""
    status = {}
    for service in mesh.services:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            try:
                answer = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=2
                )
                status[service.name] = answer.status == health_pb2.HealthCheckResponse.SERVING
            except grpc.RpcError:
                status[service.name] = False
    return status


def wait_until(what: Callable[[], bool], timeout: float, message: str | Callable[[], str]) -> None:
    """Waits for `what`; `message` (or what it returns, then) says why not."""
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() >= deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(0.2)


def submit(client: Client, prefix: str, count: int) -> list[str]:
    return [
        client.create_run("slow", SLOW_IN, thread_id=f"{prefix}{i}").run_id for i in range(count)
    ]


def assert_all_succeeded(mesh: LocalStack, client: Client, run_ids: list[str]) -> None:
    done = [client.wait_run(r, timeout=180) for r in run_ids]
    failed = [(d.run_id, d.error) for d in done if d.status is not RunStatus.SUCCEEDED]
    assert [d.status for d in done] == [RunStatus.SUCCEEDED] * len(run_ids), failed
    # Every run's events are stored gapless, and the read model agrees.
    gaps = mesh.postgres.query(
        "SELECT count(*) FROM (SELECT run_id, max(seq) AS m, count(*) AS c FROM events"
        " GROUP BY run_id) x WHERE m <> c"
    ).strip()
    assert gaps == "0"
    store_counts(mesh)
    views = mesh.postgres.query(
        "SELECT count(*) FROM run_views WHERE status = 3 AND run_id = ANY(ARRAY["
        + ",".join(f"'{r}'" for r in run_ids)
        + "])"
    ).strip()
    assert views == str(len(run_ids))


def assert_alive(mesh: LocalStack) -> None:
    dead = {s.name: s.proc.returncode for s in mesh.services if s.proc.poll() is not None}
    assert not dead, f"services exited: {dead}"


def test_postgres_away_under_load(request: pytest.FixtureRequest) -> None:
    with (
        running_mesh(request, graphs=TEST_GRAPHS) as mesh,
        Client(mesh.gateway_target) as client,
    ):
        before = submit(client, "a", 30)
        time.sleep(0.5)
        mesh.postgres.stop()
        wait_until(
            lambda: (
                serving(mesh)
                == {
                    "checkpoint": False,
                    "projector": False,
                    "executor": True,
                    "gateway": True,
                }
            ),
            20,
            f"health did not follow PostgreSQL going away: {serving(mesh)}",
        )
        # Submissions are refused (the run cannot be stored), not lost or half-made.
        with pytest.raises(GraphmeshError) as refused:
            client.create_run("slow", SLOW_IN, thread_id="refused")
        assert refused.value.code is grpc.StatusCode.UNAVAILABLE
        time.sleep(5)  # away for a while
        assert_alive(mesh)
        mesh.postgres.start()
        wait_until(lambda: all(serving(mesh).values()), 30, lambda: f"not back: {serving(mesh)}")
        after = submit(client, "b", 10)
        assert_all_succeeded(mesh, client, before + after)
        assert_alive(mesh)


def test_broker_unreachable_under_load(request: pytest.FixtureRequest) -> None:
    """The local broker loses its data when restarted (memory storage), so
    it is made unreachable instead: frozen, then thawed."""
    with (
        running_mesh(request, graphs=TEST_GRAPHS) as mesh,
        Client(mesh.gateway_target) as client,
    ):
        before = submit(client, "a", 30)
        time.sleep(0.5)
        broker_pid = mesh.broker.pid
        assert broker_pid is not None
        os.kill(broker_pid, signal.SIGSTOP)
        try:
            wait_until(
                lambda: (
                    not any(serving(mesh)[name] for name in ("gateway", "executor", "checkpoint"))
                ),
                30,
                f"health did not follow the broker going away: {serving(mesh)}",
            )
            assert serving(mesh)["projector"]  # it needs no broker
            time.sleep(5)
            assert_alive(mesh)
        finally:
            os.kill(broker_pid, signal.SIGCONT)
        wait_until(lambda: all(serving(mesh).values()), 60, lambda: f"not back: {serving(mesh)}")
        after = submit(client, "b", 10)
        assert_all_succeeded(mesh, client, before + after)
        assert_alive(mesh)


def test_broker_stopped_and_restarted_under_load(request: pytest.FixtureRequest) -> None:
    """A broker that keeps its data (noida-db's Kafka) goes away for a while
    and comes back: the services wait for it and go on where they were."""
    with (
        running_mesh(request, graphs=TEST_GRAPHS, broker="noida") as mesh,
        Client(mesh.gateway_target) as client,
    ):
        before = submit(client, "a", 30)
        time.sleep(0.5)
        mesh.broker.stop()
        wait_until(
            lambda: not any(serving(mesh)[name] for name in ("gateway", "executor", "checkpoint")),
            30,
            f"health did not follow the broker going away: {serving(mesh)}",
        )
        time.sleep(3)
        assert_alive(mesh)
        mesh.broker.start()
        wait_until(lambda: all(serving(mesh).values()), 60, lambda: f"not back: {serving(mesh)}")
        after = submit(client, "b", 10)
        assert_all_succeeded(mesh, client, before + after)
        assert_alive(mesh)


@pytest.mark.parametrize("name", ["gateway", "checkpoint", "projector"])
def test_sigterm_of_a_service_under_load(request: pytest.FixtureRequest, name: str) -> None:
    """Each service stops cleanly when told to (exit 0, NOT_SERVING first)
    and, started again, the mesh finishes every run."""
    with (
        running_mesh(request, graphs=TEST_GRAPHS) as mesh,
        Client(mesh.gateway_target) as client,
    ):
        before = submit(client, "a", 30)
        service = mesh.service(name)
        service.proc.send_signal(signal.SIGTERM)
        assert service.proc.wait(timeout=30) == 0
        log = (mesh.config.data_dir / "logs" / f"{name}.log").read_text()
        assert '"serving": false' in log  # reported NOT_SERVING before going
        mesh.services.remove(service)
        again = mesh.start_service(name)
        wait_serving(f"127.0.0.1:{again.port}", time.monotonic() + 60, again)
        assert_all_succeeded(mesh, client, before)
        assert_alive(mesh)


def test_an_executor_stopped_past_its_grace_hands_its_runs_over(
    request: pytest.FixtureRequest,
) -> None:
    env = {"GRAPHMESH_SHUTDOWN_GRACE_SECONDS": "1", "GRAPHMESH_LEASE_MS": "60000"}
    with (
        running_mesh(request, graphs=TEST_GRAPHS, extra_env=env, executors=2) as mesh,
        Client(mesh.gateway_target) as client,
    ):
        runs = [
            client.create_run("sleeper", {"seconds": 6}, thread_id=f"s{i}").run_id for i in range(8)
        ]
        wait_until(
            lambda: sum(client.get_run(r).status is RunStatus.RUNNING for r in runs) == 8,
            30,
            "the runs did not start",
        )
        first = mesh.service("executor")
        started = time.monotonic()
        first.proc.send_signal(signal.SIGTERM)
        assert first.proc.wait(timeout=30) == 0
        # Gone after its 1 s grace, long before its 6 s runs could end.
        assert time.monotonic() - started < 5
        done = [client.wait_run(r, timeout=120) for r in runs]
        assert all(d.status is RunStatus.SUCCEEDED for d in done)
        handed = [d for d in done if d.attempt == 2]
        # Its runs went on elsewhere at once (leases released, not expired:
        # the lease is 60 s) as a new attempt.
        assert handed, "no run was handed over"
        assert time.monotonic() - started < 40
        log = (mesh.config.data_dir / "logs" / "executor.log").read_text()
        assert log.count('"run_handed_over"') == len(handed)
        assert mesh.service("executor1").proc.poll() is None


def test_the_cli_healthcheck_follows_health(request: pytest.FixtureRequest) -> None:
    with running_mesh(request, graphs=TEST_GRAPHS) as mesh:
        target = f"127.0.0.1:{mesh.service('projector').port}"
        check = [sys.executable, "-m", "graphmesh.healthcheck", target]
        ok = subprocess.run(check, capture_output=True, text=True, check=False)
        assert ok.returncode == 0 and "SERVING" in ok.stdout
        mesh.postgres.stop()
        wait_until(
            lambda: subprocess.run(check, capture_output=True, check=False).returncode == 1,
            20,
            "the healthcheck did not turn",
        )
        mesh.postgres.start()
