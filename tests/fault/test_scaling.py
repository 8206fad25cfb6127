"""Executors added and removed under load, and a run whose executors keep
dying: nothing is lost, and nothing loops forever."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from graphmesh.client import Client
from graphmesh.runs import RunStatus
from graphmesh.testing.stack import wait_serving
from tests.conftest import TEST_GRAPHS, running_mesh

pytestmark = pytest.mark.e2e

SLOW_IN = {"seconds": 0.1, "trail": []}


def executor_ids(client: Client, run_ids: list[str]) -> dict[str, str]:
    """run id -> the executor that started its last attempt."""
    owners = {}
    for run_id in run_ids:
        for event in client.stream_run(run_id, timeout=60):
            if event.type == "RunStarted":
                owners[run_id] = event.payload["executor_id"]
    return owners


def test_an_executor_added_under_load_takes_runs_and_one_removed_hands_them_over(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = {"GRAPHMESH_EXECUTOR_MAX_RUNS": "2", "GRAPHMESH_LEASE_MS": "2000"}
    with (
        running_mesh(request, graphs=TEST_GRAPHS, extra_env=env) as mesh,
        Client(mesh.gateway_target) as client,
    ):
        # The runs wait at a gate until the added executor has started one:
        # on a loaded machine, starting it and its joining the consumer group
        # took longer than a workload of fixed length (it once found every
        # run done).
        gate, held = tmp_path / "gate", {"gate": str(tmp_path / "gate"), "trail": []}
        first = [client.create_run("gated", held, thread_id=f"t{i}").run_id for i in range(40)]
        wait_until(lambda: client.queue_depth("gated")["gated"]["pending"] > 0)  # in Kafka
        added = mesh.start_service("executor", 1)
        wait_serving(f"127.0.0.1:{added.port}", time.monotonic() + 60, added)
        started_by_added = (
            "SELECT count(*) FROM events WHERE type = 'RunStarted'"
            f" AND payload LIKE '%-{added.proc.pid}-%'"
        )
        wait_until(lambda: mesh.postgres.query(started_by_added).strip() != "0", timeout=120)
        gate.touch()
        done = [client.wait_run(r, timeout=120) for r in first]
        assert all(d.status is RunStatus.SUCCEEDED for d in done)
        owners = executor_ids(client, first)
        assert len(set(owners.values())) == 2, "the added executor took no runs"

        second = [client.create_run("slow", SLOW_IN, thread_id=f"u{i}").run_id for i in range(30)]
        time.sleep(0.5)
        mesh.service("executor").proc.send_signal(signal.SIGTERM)  # removed under load
        done = [client.wait_run(r, timeout=120) for r in second]
        assert all(d.status is RunStatus.SUCCEEDED for d in done)
        assert mesh.service("executor").proc.wait(timeout=30) == 0
        removed_pid = str(mesh.service("executor").proc.pid)
        later = executor_ids(client, second).values()
        assert any(removed_pid not in owner.split("-") for owner in later)
        stored = mesh.postgres.query("SELECT count(*) FROM run_heads WHERE NOT ended").strip()
        assert stored == "0"


def wait_until(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def test_a_run_whose_executors_keep_dying_fails_after_its_attempts(
    request: pytest.FixtureRequest,
) -> None:
    env = {"GRAPHMESH_LEASE_MS": "2000", "GRAPHMESH_MAX_RUN_ATTEMPTS": "2"}
    with (
        running_mesh(request, executors=3, graphs=TEST_GRAPHS, extra_env=env) as mesh,
        Client(mesh.gateway_target) as client,
    ):
        run = client.create_run("dies", {"trail": []})
        done = client.wait_run(run.run_id, timeout=180)
        assert done.status is RunStatus.FAILED
        assert done.error is not None and done.error["type"] == "ExecutorLost"
        assert "started 2 times" in done.error["message"]
        # Two executors ran it and died (exit 17): two attempts, no third.
        dead = [s for s in mesh.services if s.name.startswith("executor") and s.proc.poll() == 17]
        assert len(dead) == 2
        # An attempt's RunStarted goes to Kafka while its first node starts;
        # a process killed within that moment may lose it (seen once in CI:
        # only attempt 2's was stored). What the store keeps is the count.
        starts = [e for e in client.stream_run(run.run_id) if e.type == "RunStarted"]
        assert {e.attempt for e in starts} <= {1, 2}
