"""Traces, logs and metrics of the real service processes: a run is one
trace across the four services, read back from a real OTLP/gRPC receiver;
log lines join it by trace id; every service serves Prometheus figures."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from graphmesh.client import Client
from graphmesh.runs import RunStatus
from graphmesh.testing.stack import LocalStack
from graphmesh.v1 import run_service_pb2, run_service_pb2_grpc
from tests.conftest import TEST_GRAPHS, running_mesh
from tests.otlp import OtlpReceiver, Span, tree

SERVER, PRODUCER, CONSUMER = 2, 4, 5  # OTLP span kinds
SERVICES = {
    "graphmesh-gateway",
    "graphmesh-executor",
    "graphmesh-checkpoint",
    "graphmesh-projector",
}


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    r = OtlpReceiver()
    r.start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def traced(request: pytest.FixtureRequest, receiver: OtlpReceiver) -> Iterator[LocalStack]:
    """A mesh exporting its spans to the receiver, logging at DEBUG."""
    env = {"GRAPHMESH_OTLP_ENDPOINT": receiver.endpoint}
    with running_mesh(request, graphs=TEST_GRAPHS, extra_env=env, log_level="DEBUG") as mesh:
        yield mesh


@pytest.fixture(scope="module")
def tclient(traced: LocalStack) -> Iterator[Client]:
    with Client(traced.gateway_target) as c:
        yield c


def _run_trace(receiver: OtlpReceiver, run_id: str, names: set[str]) -> list[Span]:
    names = names | {"graphmesh.v1.RunService/CreateRun", "graphmesh.runs publish"}
    deadline = time.monotonic() + 20
    while True:  # until every span's parent has arrived too (one root)
        spans = receiver.wait_for_run(run_id, names)
        if len(tree(spans)) == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert names <= {s.name for s in spans}, sorted({s.name for s in spans})
    assert len({s.trace_id for s in spans}) == 1
    return spans


def _only_root(spans: list[Span]) -> Span:
    roots = tree(spans)
    assert [r.name for r in roots] == ["graphmesh.v1.RunService/CreateRun"], [
        (r.service, r.name) for r in roots
    ]
    return roots[0]


def _run_span(root: Span, graph_id: str) -> Span:
    [publish] = [c for c in root.children if c.name == "graphmesh.runs publish"]
    assert (publish.service, publish.kind) == ("graphmesh-gateway", PRODUCER)
    [run] = publish.children
    assert (run.service, run.name, run.kind) == ("graphmesh-executor", f"run {graph_id}", CONSUMER)
    return run


def test_an_agent_run_is_one_trace_across_the_four_services(
    tclient: Client, receiver: OtlpReceiver
) -> None:
    question = {"messages": [{"role": "user", "content": "what is 2 + 3?"}]}
    run = tclient.create_run("agent", input=question)
    assert tclient.wait_run(run.run_id).status is RunStatus.SUCCEEDED
    spans = _run_trace(
        receiver,
        run.run_id,
        {"run agent", "node model", "node tools", "project", "graphmesh.events append"},
    )
    assert {s.service for s in spans} == SERVICES
    root = _only_root(spans)
    assert (root.service, root.kind) == ("graphmesh-gateway", SERVER)
    assert root.attributes["rpc.grpc.status_code"] == 0
    # The gateway stored RunCreated through the checkpoint service: a child call.
    [append_call] = [c for c in root.children if c.name.endswith("EventStoreService/AppendEvents")]
    assert append_call.service == "graphmesh-checkpoint"
    assert [c.service for c in append_call.children] == ["graphmesh-projector"]

    run_span = _run_span(root, "agent")
    assert run_span.attributes["graphmesh.run_id"] == run.run_id
    assert run_span.attributes["graphmesh.attempt"] == 1
    assert run_span.attributes["graphmesh.outcome"] == "RunSucceeded"
    assert not run_span.failed
    nodes = sorted(
        (c for c in run_span.children if c.name.startswith("node ")),
        key=lambda s: s.attributes["graphmesh.step"],
    )
    assert [n.attributes["graphmesh.node"] for n in nodes] == ["model", "tools", "model"]
    assert all(n.attributes["graphmesh.outcome"] == "ok" and not n.failed for n in nodes)
    assert all(n.attributes["graphmesh.node_try"] == 1 for n in nodes)

    # Every message the run published was appended by the checkpoint service
    # under it, and the projector's work continues from the appends.
    publishes = [c for c in run_span.children if c.name == "graphmesh.events publish"]
    assert publishes and all(p.kind == PRODUCER for p in publishes)
    appends = [a for p in publishes for a in p.children]
    assert len(appends) == len(publishes)
    assert all(
        (a.service, a.name, a.kind) == ("graphmesh-checkpoint", "graphmesh.events append", CONSUMER)
        for a in appends
    )
    # The projector applies a batch per run in one span, under the append of
    # its first event and linked to the appends of the others: every append
    # of the run is reached.
    wanted = {a.span_id for a in [*appends, append_call]}
    deadline = time.monotonic() + 20
    while True:  # the projector exports its spans in its own time
        projects = [s for s in receiver.trace_of_run(run.run_id) if s.name == "project"]
        reached = {p.parent_id for p in projects} | {link for p in projects for link in p.links}
        if wanted <= reached or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert projects and {p.service for p in projects} == {"graphmesh-projector"}
    assert wanted <= reached


def test_a_callers_trace_context_is_continued(traced: LocalStack, receiver: OtlpReceiver) -> None:
    """A client in any language joins the run to its own trace with a W3C
    traceparent in the call's metadata."""
    trace_id, parent_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    with grpc.insecure_channel(traced.gateway_target) as channel:
        stub = run_service_pb2_grpc.RunServiceStub(channel)
        answer = stub.CreateRun(
            run_service_pb2.CreateRunRequest(graph_id="chain3", input_json='{"n": 1}'),
            metadata=[("traceparent", f"00-{trace_id}-{parent_id}-01")],
        )
    spans = _run_trace(receiver, answer.run.run_id, {"run chain3", "node s2"})
    assert {s.trace_id for s in spans} == {trace_id}
    [root] = tree(spans)
    assert root.parent_id == parent_id and root.name.endswith("CreateRun")


def test_a_failed_node_marks_its_span_and_the_runs(tclient: Client, receiver: OtlpReceiver) -> None:
    run = tclient.create_run("chain3", input={})  # node s0 reads state["n"]: KeyError
    assert tclient.wait_run(run.run_id).status is RunStatus.FAILED
    spans = _run_trace(receiver, run.run_id, {"run chain3", "node s0"})
    run_span = _run_span(_only_root(spans), "chain3")
    assert run_span.failed and run_span.attributes["graphmesh.outcome"] == "RunFailed"
    assert run_span.status_message.startswith("KeyError")
    [node] = [c for c in run_span.children if c.name.startswith("node ")]
    assert node.name == "node s0" and node.failed
    assert node.attributes["graphmesh.outcome"] == "error"
    assert "exception" in node.events
    assert node.status_message.startswith("KeyError")


def test_a_cancelled_run_ends_its_node_span_as_cancelled(
    tclient: Client, receiver: OtlpReceiver
) -> None:
    run = tclient.create_run("sleeper", input={"seconds": 120})
    deadline = time.monotonic() + 30
    running = RunStatus.RUNNING
    while tclient.get_run(run.run_id).status is not running and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # into the node
    assert tclient.cancel_run(run.run_id).status is RunStatus.CANCELLED
    spans = _run_trace(receiver, run.run_id, {"run sleeper", "node sleep"})
    run_span = _run_span(_only_root(spans), "sleeper")
    assert run_span.attributes["graphmesh.outcome"] == "RunCancelled"
    assert not run_span.failed  # a cancel is asked for, not a failure
    [node] = [c for c in run_span.children if c.name == "node sleep"]
    assert node.attributes["graphmesh.outcome"] == "cancelled" and not node.failed


def _log_lines(mesh: LocalStack, service: str) -> list[dict[str, Any]]:
    lines = []
    for raw in (mesh.config.data_dir / "logs" / f"{service}.log").read_text().splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


def test_log_lines_join_the_runs_trace(
    traced: LocalStack, tclient: Client, receiver: OtlpReceiver
) -> None:
    run = tclient.create_run("chain3", input={"n": 1})
    assert tclient.wait_run(run.run_id).status is RunStatus.SUCCEEDED
    spans = _run_trace(receiver, run.run_id, {"run chain3"})
    trace_id = spans[0].trace_id
    [run_span] = [s for s in spans if s.name == "run chain3"]
    deadline = time.monotonic() + 10
    while True:
        mine = [line for line in _log_lines(traced, "executor") if line.get("run_id") == run.run_id]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert mine, "the executor logged nothing for the run"
    for line in mine:
        assert line["thread_id"] == run.thread_id
        assert line["service"] == "executor"
        assert line["trace_id"] == trace_id
    span_ids = {s.span_id for s in spans}
    assert all(line["span_id"] in span_ids for line in mine)
    assert any(line["span_id"] == run_span.span_id for line in mine), (run_span, mine)
    # Every JSON line of every service carries its level, time and service.
    for service in ("gateway", "checkpoint", "projector", "executor"):
        lines = _log_lines(traced, service)
        assert lines and all({"level", "timestamp", "service", "event"} <= set(x) for x in lines)


def _scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def _total(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    want = set(labels.items())
    return sum(v for (n, lab), v in samples.items() if n == name and want <= lab)


def _consumer_lags(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], group: str
) -> list[float]:
    return [
        v
        for (n, lab), v in samples.items()
        if n == "graphmesh_consumer_lag" and ("group", group) in lab
    ]


def _settled(after: dict[str, dict[tuple[str, frozenset[tuple[str, str]]], float]]) -> bool:
    """Every lag and queue gauge of the mesh reads zero."""
    return (
        _total(after["projector"], "graphmesh_projector_lag_events") == 0
        and _total(after["gateway"], "graphmesh_queue_depth") == 0
        and all(
            len(lags) == 4 and not any(lags)
            for lags in (
                _consumer_lags(after["executor"], "graphmesh-executor"),
                _consumer_lags(after["checkpoint"], "graphmesh-checkpoint"),
            )
        )
    )


def test_every_service_serves_its_figures_under_load(traced: LocalStack, tclient: Client) -> None:
    before = {s.name: _scrape(s.metrics_url) for s in traced.services}
    runs = [tclient.create_run("chain3", input={"n": i}) for i in range(40)]
    failed = tclient.create_run("chain3", input={})
    for run in [*runs, failed]:
        tclient.wait_run(run.run_id)
    # The lag and queue gauges are refreshed every 2-5 s, after the work
    # they count is done: wait until they say it is (a fixed sleep raced
    # the projector's last batch on a busy machine).
    deadline = time.monotonic() + 60
    while True:
        after = {s.name: _scrape(s.metrics_url) for s in traced.services}
        if _settled(after) or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    def grew(service: str, name: str, **labels: str) -> float:
        return _total(after[service], name, **labels) - _total(before[service], name, **labels)

    create = "/graphmesh.v1.RunService/CreateRun"
    assert (
        grew("gateway", "graphmesh_grpc_requests_total", grpc_method=create, grpc_code="OK") == 41
    )
    assert (
        grew("gateway", "graphmesh_grpc_request_duration_seconds_count", grpc_method=create) == 41
    )
    assert grew("executor", "graphmesh_runs_total", graph_id="chain3", outcome="RunSucceeded") == 40
    assert grew("executor", "graphmesh_runs_total", graph_id="chain3", outcome="RunFailed") == 1
    assert grew("executor", "graphmesh_run_duration_seconds_count", graph_id="chain3") == 41
    assert grew("executor", "graphmesh_node_duration_seconds_count", node="s1", outcome="ok") == 40
    assert (
        grew("executor", "graphmesh_node_duration_seconds_count", node="s0", outcome="error") == 1
    )
    assert _total(after["executor"], "graphmesh_runs_in_flight") == 0
    # 40 runs x (RunStarted, 3 updates, checkpoints..., RunSucceeded) at least.
    assert grew("checkpoint", "graphmesh_events_total", outcome="APPENDED") >= 41 * 5
    assert grew("projector", "graphmesh_projector_events_applied_total") >= 41 * 5
    assert _total(after["projector"], "graphmesh_projector_lag_events") == 0
    assert _total(after["projector"], "graphmesh_projector_position") > 0
    for service, group in (
        ("executor", "graphmesh-executor"),
        ("checkpoint", "graphmesh-checkpoint"),
    ):
        lags = _consumer_lags(after[service], group)
        assert len(lags) == 4 and all(v == 0 for v in lags), (service, lags)  # 4 partitions
    assert _total(after["gateway"], "graphmesh_queue_depth") == 0
    assert grew("checkpoint", "graphmesh_grpc_requests_total", grpc_code="OK") > 0


def test_bad_input_is_counted_by_its_status(traced: LocalStack) -> None:
    url = traced.service("gateway").metrics_url
    before = _scrape(url)
    with grpc.insecure_channel(traced.gateway_target) as channel:
        stub = run_service_pb2_grpc.RunServiceStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            stub.GetRun(run_service_pb2.GetRunRequest(run_id="not-a-run-id"))
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    after = _scrape(url)
    method = "/graphmesh.v1.RunService/GetRun"
    labels = {"grpc_method": method, "grpc_code": "INVALID_ARGUMENT"}
    assert (
        _total(after, "graphmesh_grpc_requests_total", **labels)
        - _total(before, "graphmesh_grpc_requests_total", **labels)
        == 1
    )
