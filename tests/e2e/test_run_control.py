"""Cancel, timeouts, retries, rate limits and executor capacity, through the
real processes."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from graphmesh.client import Client
from graphmesh.errors import GraphmeshError
from graphmesh.runs import RunStatus
from graphmesh.testing.stack import LocalStack
from graphmesh.v1 import run_service_pb2 as pb
from graphmesh.v1 import run_service_pb2_grpc as pb_grpc
from tests.conftest import store_counts
from tests.e2e.helpers import status_details
from tests.e2e.test_cli_and_clients import graphmesh
from tests.e2e.test_streams import metric

pytestmark = pytest.mark.e2e

CHAIN3_IN = {"n": 0, "trail": []}


def stored(stack: LocalStack, run_id: str) -> list[tuple[int, int, str, dict[str, object]]]:
    rows = stack.postgres.query(
        f"SELECT seq, attempt, type, payload FROM events WHERE run_id = '{run_id}' ORDER BY seq"
    )
    events = []
    for line in rows.splitlines():
        seq, attempt, type_, payload = line.split("|", 3)
        events.append((int(seq), int(attempt), type_, json.loads(payload)))
    return events


def wait_started(client: Client, run_id: str, node_done: str = "") -> None:
    """Returns once the run has started (and, if given, the node has ended)."""
    for event in client.stream_run(run_id, timeout=60):
        if event.type == "RunStarted" and not node_done:
            return
        if event.type == "NodeUpdated" and event.payload["node"] == node_done:
            return
    raise AssertionError("the run ended first")


def test_cancel_of_a_running_run_stops_the_node_awaiting_io(
    client: Client, stack: LocalStack, thread_id: str
) -> None:
    # Each node sleeps 120 s: the run can only end in time by being cancelled mid-node.
    run = client.create_run("slow", {"seconds": 120, "trail": []}, thread_id=thread_id)
    wait_started(client, run.run_id)
    done = client.cancel_run(run.run_id)
    assert done.status is RunStatus.CANCELLED
    last = stored(stack, run.run_id)[-1]
    assert last[2:] == ("RunCancelled", {"action": "interrupt", "started": True})
    assert client.get_thread(thread_id).status == "IDLE"


def test_cancel_with_rollback_removes_the_runs_checkpoints(
    client: Client, stack: LocalStack, thread_id: str
) -> None:
    first = client.create_run("slow", {"seconds": 0, "trail": []}, thread_id=thread_id)
    client.wait_run(first.run_id, timeout=60)
    before = client.get_thread_state(thread_id)
    run = client.create_run("slow", {"seconds": 0.3, "trail": []}, thread_id=thread_id)
    wait_started(client, run.run_id, node_done="first")
    client.cancel_run(run.run_id, rollback=True)
    after = client.get_thread_state(thread_id)
    assert after.checkpoint_id == before.checkpoint_id and after.values == before.values
    counted = stack.postgres.query(
        f"SELECT count(*) FROM checkpoints WHERE run_id = '{run.run_id}'"
    )
    assert counted.strip() == "0"


def test_cancel_of_a_pending_run_ends_it_before_it_starts(
    client: Client, stack: LocalStack, thread_id: str
) -> None:
    blocker = client.create_run("slow", {"seconds": 0.5, "trail": []}, thread_id=thread_id)
    queued = client.create_run("chain3", CHAIN3_IN, thread_id=thread_id)
    answer = client.cancel_run(queued.run_id, wait=False)
    assert answer.status is RunStatus.CANCELLED
    assert [e[2] for e in stored(stack, queued.run_id)] == ["RunCreated", "RunCancelled"]
    assert client.wait_run(blocker.run_id, timeout=60).status is RunStatus.SUCCEEDED
    time.sleep(0.5)  # the queued run's command reaches the executor, which must not start it
    assert [e[2] for e in stored(stack, queued.run_id)] == ["RunCreated", "RunCancelled"]


def test_cancel_of_an_ended_run_changes_nothing_and_says_so(
    run_stub: pb_grpc.RunServiceStub, stack: LocalStack
) -> None:
    created = run_stub.CreateRun(pb.CreateRunRequest(graph_id="chain3", input_json="{}"))
    run_stub.WaitRun(pb.WaitRunRequest(run_id=created.run.run_id), timeout=60)
    before = store_counts(stack)
    for action in (pb.CANCEL_ACTION_INTERRUPT, pb.CANCEL_ACTION_ROLLBACK):
        answer = run_stub.CancelRun(
            pb.CancelRunRequest(run_id=created.run.run_id, action=action, wait=True)
        )
        assert answer.outcome == pb.CANCEL_OUTCOME_ALREADY_ENDED
        assert answer.run.status == RunStatus.FAILED  # chain3 without n fails
    assert store_counts(stack) == before


def test_cli_cancels_a_run(client: Client, stack: LocalStack) -> None:
    run = client.create_run("slow", {"seconds": 120, "trail": []})
    wait_started(client, run.run_id)
    result = graphmesh(stack, "runs", "cancel", run.run_id, "--rollback")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "CANCELLED"
    again = graphmesh(stack, "runs", "cancel", run.run_id)
    assert again.returncode == 0 and "already ended" in again.stderr


def test_a_run_past_its_timeout_ends_timed_out(client: Client, stack: LocalStack) -> None:
    run = client.create_run("slow", {"seconds": 120, "trail": []}, timeout_seconds=0.5)
    done = client.wait_run(run.run_id, timeout=60)
    assert done.status is RunStatus.TIMED_OUT
    assert done.error is not None and done.error["type"] == "RunTimeout"
    assert done.timeout_seconds == 0.5
    assert stored(stack, run.run_id)[-1][2] == "RunTimedOut"


def test_a_node_failing_twice_succeeds_under_its_retry_policy(client: Client) -> None:
    for graph in ("flaky", "flaky_default"):  # its own policy; the executor's default
        done = client.wait_run(client.create_run(graph, {"tries": 0}).run_id, timeout=60)
        assert done.status is RunStatus.SUCCEEDED, (graph, done.error)
        assert done.output == {"tries": 3}


def test_a_flood_above_the_rate_limit_is_refused_with_retry_info(
    run_stub: pb_grpc.RunServiceStub, stack: LocalStack
) -> None:
    before = store_counts(stack)
    accepted, refused = [], []
    for _ in range(12):
        try:
            accepted.append(
                run_stub.CreateRun(pb.CreateRunRequest(graph_id="limited", input_json="{}")).run
            )
        except grpc.RpcError as exc:
            refused.append(exc)
    assert 3 <= len(accepted) <= 5 and refused  # a burst of 3 at 2/s
    code, _, reason, _ = status_details(refused[0])
    assert (code, reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    status = rpc_status.from_call(refused[0])
    assert status is not None
    retry = error_details_pb2.RetryInfo()
    assert any(d.Unpack(retry) for d in status.details if d.Is(retry.DESCRIPTOR))
    delay = retry.retry_delay.ToTimedelta().total_seconds()
    assert 0 < delay <= 0.5
    time.sleep(delay)
    accepted.append(
        run_stub.CreateRun(pb.CreateRunRequest(graph_id="limited", input_json="{}")).run
    )
    for run in accepted:
        run_stub.WaitRun(pb.WaitRunRequest(run_id=run.run_id), timeout=60)
    after = store_counts(stack)
    assert after["run_heads"] - before["run_heads"] == len(accepted)
    assert metric(stack, 'graphmesh_runs_rate_limited_total{graph_id="limited"}') >= len(refused)


def test_runs_above_executor_capacity_wait_in_the_queue_and_all_finish(
    client: Client, stack: LocalStack
) -> None:
    # The executor runs at most 2 "capped" runs at once (GRAPHMESH_EXECUTOR_GRAPH_LIMITS).
    runs = [client.create_run("capped", {"seconds": 0.2, "trail": []}) for _ in range(10)]
    seen: list[dict[str, int]] = []
    scraped: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        with Client(stack.gateway_target) as own:
            while not stop.is_set():
                seen.append(own.queue_depth("capped")["capped"])
                scraped.append(metric(stack, 'graphmesh_queue_depth{graph_id="capped"}'))
                time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    done = [client.wait_run(r.run_id, timeout=120) for r in runs]
    stop.set()
    watcher.join()
    assert all(d.status is RunStatus.SUCCEEDED for d in done)
    assert max(s["pending"] for s in seen) >= 3
    assert max(s["running"] for s in seen) <= 2
    assert max(scraped) >= 1
    spans = []
    for run in runs:
        events = client.stream_run(run.run_id)
        times = {e.type: e.time for e in events if e.type in ("RunStarted", "RunSucceeded")}
        spans.append((times["RunStarted"], times["RunSucceeded"]))
    assert max_overlap(spans) <= 2
    deadline = time.monotonic() + 30  # the read model follows the store closely
    while client.queue_depth("capped")["capped"] != {"pending": 0, "running": 0}:
        assert time.monotonic() < deadline, "the queue never emptied"
        time.sleep(0.05)


def max_overlap(spans: list[tuple[datetime, datetime]]) -> int:
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


def test_queue_depth_of_an_unknown_graph_is_not_found(client: Client) -> None:
    with pytest.raises(GraphmeshError) as exc:
        client.queue_depth("no-such-graph")
    assert exc.value.reason == "GRAPH_NOT_FOUND"
