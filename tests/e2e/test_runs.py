"""One run end to end through the real processes, via the public gRPC API."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import grpc
import pytest
from aiokafka import AIOKafkaProducer

from graphmesh import envelope as ev
from graphmesh.client import Client
from graphmesh.internal.v1 import event_store_service_pb2 as es_pb2
from graphmesh.internal.v1 import event_store_service_pb2_grpc
from graphmesh.run_created import RunCreated
from graphmesh.runs import RunStatus
from graphmesh.testing.stack import LocalStack
from graphmesh.v1 import run_service_pb2 as pb
from graphmesh.v1 import run_service_pb2_grpc
from tests.conftest import store_counts
from tests.e2e.helpers import public_seqs

pytestmark = pytest.mark.e2e

CHAIN3_IN = {"n": 0, "trail": []}
CHAIN3_OUT = {"n": 3, "trail": ["s0", "s1", "s2"]}
AGENT_IN = {"messages": [{"role": "user", "content": "what is 19 + 23?"}]}


def test_chain3_through_create_and_wait(client: Client, stack: LocalStack) -> None:
    run = client.create_run("chain3", CHAIN3_IN)
    assert run.status is RunStatus.PENDING
    done = client.wait_run(run.run_id, timeout=60)
    assert done.status is RunStatus.SUCCEEDED
    assert done.output == CHAIN3_OUT
    assert done.attempt == 1 and done.last_seq == public_seqs(stack, run.run_id)[-1]


def test_chain3_through_stream_shows_every_node_then_the_final_state(
    client: Client, stack: LocalStack
) -> None:
    run = client.create_run("chain3", CHAIN3_IN)
    events = list(client.stream_run(run.run_id, timeout=60))
    assert [e.seq for e in events] == public_seqs(stack, run.run_id)
    assert len(events) == 6
    assert [e.type for e in events] == [
        "RunCreated",
        "RunStarted",
        "NodeUpdated",
        "NodeUpdated",
        "NodeUpdated",
        "RunSucceeded",
    ]
    assert [e.payload["node"] for e in events[2:5]] == ["s0", "s1", "s2"]
    assert events[2].payload["update"] == {"n": 1, "trail": ["s0"]}
    assert events[-1].payload["output"] == CHAIN3_OUT


def test_fanout_runs_branches_in_parallel_and_joins(client: Client) -> None:
    run = client.create_run("fanout", {"results": []})
    done = client.wait_run(run.run_id, timeout=60)
    assert done.status is RunStatus.SUCCEEDED
    assert done.output["joined"] == "b0,b1,b2,b3"
    events = list(client.stream_run(run.run_id))
    branch_nodes = {e.payload["node"] for e in events if e.type == "NodeUpdated"}
    assert branch_nodes == {"start", "b0", "b1", "b2", "b3", "join"}


def test_agent_calls_its_tool_through_wait_and_stream(client: Client) -> None:
    run = client.create_run("agent", AGENT_IN)
    done = client.wait_run(run.run_id, timeout=60)
    assert done.status is RunStatus.SUCCEEDED
    messages = done.output["messages"]
    assert [m["type"] for m in messages] == ["human", "ai", "tool", "ai"]
    assert messages[-1]["content"] == "The answer is 42."
    streamed = [e for e in client.stream_run(run.run_id) if e.type == "NodeUpdated"]
    assert [e.payload["node"] for e in streamed] == ["model", "tools", "model"]


def test_failed_node_gives_a_failed_run_with_its_error(client: Client) -> None:
    run = client.create_run("chain3", {"trail": []})
    done = client.wait_run(run.run_id, timeout=60)
    assert done.status is RunStatus.FAILED
    assert done.error is not None and done.error["type"] == "KeyError"


def test_interrupt_ends_the_run_as_interrupted(client: Client) -> None:
    run = client.create_run("hitl", {"trail": []})
    done = client.wait_run(run.run_id, timeout=60)
    assert done.status is RunStatus.INTERRUPTED
    last = list(client.stream_run(run.run_id))[-1]
    assert last.type == "RunInterrupted"
    assert last.payload["interrupts"][0]["value"]["question"] == "approve?"


def test_same_request_id_gives_one_run(client: Client, stack: LocalStack) -> None:
    request_id = f"req-{uuid.uuid4()}"
    first = client.create_run("chain3", CHAIN3_IN, request_id=request_id)
    second = client.create_run("chain3", CHAIN3_IN, request_id=request_id)
    assert first.run_id == second.run_id == ev.run_id_for_request(request_id)
    client.wait_run(first.run_id, timeout=60)
    third = client.create_run("chain3", CHAIN3_IN, request_id=request_id)
    assert third.run_id == first.run_id and third.status is RunStatus.SUCCEEDED
    rows = stack.postgres.query(
        f"SELECT count(*) FROM events WHERE run_id = '{first.run_id}' AND type = 'RunStarted'"
    )
    assert rows.strip() == "1", "the run executed more than once"


def test_get_run_right_after_create_finds_it(run_stub: run_service_pb2_grpc.RunServiceStub) -> None:
    for _ in range(20):
        created = run_stub.CreateRun(
            pb.CreateRunRequest(graph_id="chain3", input_json=json.dumps(CHAIN3_IN))
        )
        found = run_stub.GetRun(pb.GetRunRequest(run_id=created.run.run_id))
        assert found.run.run_id == created.run.run_id
        assert found.run.graph_id == "chain3"


def test_stream_resumed_from_a_cursor_gives_exactly_the_rest(
    client: Client, stack: LocalStack
) -> None:
    run = client.create_run("agent", AGENT_IN)
    full = list(client.stream_run(run.run_id, timeout=60))
    assert [e.seq for e in full] == public_seqs(stack, run.run_id)
    for cut in range(len(full)):
        resumed = list(client.stream_run(run.run_id, cursor=full[cut].cursor))
        assert [(e.seq, e.type, e.payload) for e in resumed] == [
            (e.seq, e.type, e.payload) for e in full[cut + 1 :]
        ]


def test_stream_resumed_while_the_run_is_going_has_no_gap_or_duplicate(
    client: Client, stack: LocalStack
) -> None:
    run = client.create_run("fanout", {"results": []})
    stream = client.stream_run(run.run_id, timeout=60)
    first_two = [next(stream), next(stream)]
    stream.close()  # the client drops the stream mid-run
    rest = list(client.stream_run(run.run_id, cursor=first_two[-1].cursor, timeout=60))
    seqs = [e.seq for e in first_two + rest]
    assert seqs == public_seqs(stack, run.run_id)
    assert rest[-1].type == "RunSucceeded"


def test_list_runs_filters_and_pages(client: Client, thread_id: str) -> None:
    ids = [client.create_run("chain3", CHAIN3_IN, thread_id=thread_id).run_id for _ in range(5)]
    for run_id in ids:
        client.wait_run(run_id, timeout=60)
    seen: list[str] = []
    token = ""
    deadline_pages = 10
    while deadline_pages:
        deadline_pages -= 1
        page, token = client.list_runs(thread_id=thread_id, page_size=2, page_token=token)
        assert len(page) <= 2
        seen += [r.run_id for r in page]
        if not token:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    # ListRuns reads the projector's model, which may lag WaitRun by moments.
    deadline = time.monotonic() + 30
    succeeded: list[Any] = []
    while len(succeeded) < 5 and time.monotonic() < deadline:
        succeeded, _ = client.list_runs(
            thread_id=thread_id, status=RunStatus.SUCCEEDED, page_size=100
        )
    assert len(succeeded) == 5
    failed, _ = client.list_runs(thread_id=thread_id, status=RunStatus.FAILED)
    assert failed == []
    other_graph, _ = client.list_runs(thread_id=thread_id, graph_id="fanout")
    assert other_graph == []


def test_runs_on_one_thread_run_one_at_a_time_in_order(client: Client, thread_id: str) -> None:
    runs = [client.create_run("fanout", {"results": []}, thread_id=thread_id) for _ in range(3)]
    finals = [client.wait_run(r.run_id, timeout=60) for r in runs]
    assert all(f.status is RunStatus.SUCCEEDED for f in finals)
    spans = []
    for run in runs:
        events = list(client.stream_run(run.run_id))
        started = next(e for e in events if e.type == "RunStarted")
        spans.append((started.time, events[-1].time))
    for (_, earlier_end), (later_start, _) in itertools.pairwise(spans):
        assert later_start >= earlier_end, "two runs of one thread overlapped"


async def test_an_event_delivered_twice_is_stored_once_and_projected_once(
    client: Client, stack: LocalStack
) -> None:
    run = client.create_run("chain3", CHAIN3_IN)
    client.wait_run(run.run_id, timeout=60)
    before = store_counts(stack)
    row_before = stack.postgres.query(
        f"SELECT status, last_seq, updated_at FROM run_views WHERE run_id = '{run.run_id}'"
    )
    stored = list(client.stream_run(run.run_id))
    producer = AIOKafkaProducer(bootstrap_servers=stack.broker.bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for event in stored[1:]:  # every event the executor sent, sent again
            envelope = ev.Event(
                run_id=event.run_id,
                thread_id=run.thread_id,
                seq=event.seq,
                attempt=event.attempt,
                type=event.type,
                payload_json=json.dumps(event.payload),
                time=ev.utcnow(),
            )
            await producer.send_and_wait(
                "graphmesh.events", ev.encode_batch([envelope]), key=run.thread_id.encode()
            )
    finally:
        await producer.stop()
    # A fresh run on the same partition proves the duplicates were consumed.
    marker = client.create_run("chain3", CHAIN3_IN, thread_id=run.thread_id)
    client.wait_run(marker.run_id, timeout=60)
    after = store_counts(stack)
    marker_events = int(
        stack.postgres.query(f"SELECT count(*) FROM events WHERE run_id = '{marker.run_id}'")
    )
    assert after["events"] == before["events"] + marker_events  # only the marker run's
    assert after["run_views"] == before["run_views"] + 1
    assert after["event_rejections"] == before["event_rejections"]
    row_after = stack.postgres.query(
        f"SELECT status, last_seq, updated_at FROM run_views WHERE run_id = '{run.run_id}'"
    )
    assert row_after == row_before


def test_event_store_has_no_duplicate_and_no_gap_after_many_runs(
    client: Client, stack: LocalStack
) -> None:
    ids = [client.create_run("chain3", CHAIN3_IN).run_id for _ in range(150)]
    for run_id in ids:
        assert client.wait_run(run_id, timeout=120).status is RunStatus.SUCCEEDED
    store_counts(stack)  # waits for the projector to catch up
    duplicates = stack.postgres.query(
        "SELECT count(*) FROM (SELECT run_id, seq FROM events GROUP BY 1, 2 HAVING count(*) > 1) d"
    )
    gaps = stack.postgres.query(
        "SELECT count(*) FROM (SELECT run_id FROM events GROUP BY run_id"
        " HAVING max(seq) <> count(*) OR min(seq) <> 1) g"
    )
    unprojected = stack.postgres.query(
        "SELECT count(*) FROM run_heads h LEFT JOIN run_views v USING (run_id)"
        " WHERE v.run_id IS NULL OR v.last_seq <> h.last_seq"
    )
    assert (duplicates.strip(), gaps.strip(), unprojected.strip()) == ("0", "0", "0")


def test_health_and_reflection_on_every_service(stack: LocalStack) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    for service in stack.services:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            assert health.status == health_pb2.HealthCheckResponse.SERVING, service.name
            answers = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            names = {s.name for a in answers for s in a.list_services_response.service}
            assert "grpc.health.v1.Health" in names, service.name
    with grpc.insecure_channel(stack.gateway_target) as channel:
        answers = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        names = {s.name for a in answers for s in a.list_services_response.service}
        assert {"graphmesh.v1.RunService", "graphmesh.v1.GraphService"} <= names


def test_a_stored_run_whose_command_was_never_published_still_runs(
    client: Client, stack: LocalStack
) -> None:
    # What a gateway that died between storing a run and publishing its
    # command leaves behind: the RunCreated event in the store, nothing on Kafka.
    run_id = str(uuid.uuid4())
    orphan = RunCreated("chain3", CHAIN3_IN, fingerprint="fp").to_event(run_id, f"orphan-{run_id}")
    with grpc.insecure_channel(f"127.0.0.1:{stack.config.checkpoint_port}") as channel:
        store = event_store_service_pb2_grpc.EventStoreServiceStub(channel)
        store.AppendEvents(es_pb2.AppendEventsRequest(events=[ev.to_proto(orphan)]))
    assert client.get_run(run_id).status is RunStatus.PENDING
    done = client.wait_run(run_id, timeout=60)
    assert done.status is RunStatus.SUCCEEDED and done.output == CHAIN3_OUT


@contextmanager
def read_model_held(stack: LocalStack) -> Iterator[None]:
    """Keeps the projector from writing the runs read model (an EXCLUSIVE
    table lock lets readers through): the read model stays behind the store,
    as it does for a while under load."""
    held, release = threading.Event(), threading.Event()
    dsn = stack.database_url.replace("+asyncpg", "").replace("?ssl=disable", "")

    async def hold() -> None:
        conn = await asyncpg.connect(dsn, ssl=False)
        try:
            async with conn.transaction():
                await conn.execute("LOCK TABLE run_views IN EXCLUSIVE MODE")
                held.set()
                await asyncio.to_thread(release.wait)
        finally:
            await conn.close()

    holder = threading.Thread(target=lambda: asyncio.run(hold()))
    holder.start()
    try:
        assert held.wait(30), "could not lock the read model"
        yield
    finally:
        release.set()
        holder.join(30)


def test_get_run_says_what_wait_run_says_while_the_read_model_is_behind(
    client: Client, stack: LocalStack
) -> None:
    run = client.create_run("slow", {"seconds": 0.5, "trail": []})
    deadline = time.monotonic() + 30
    while client.get_run(run.run_id).status is not RunStatus.RUNNING:  # the read model has it
        assert time.monotonic() < deadline
        time.sleep(0.02)
    with read_model_held(stack):
        ended = client.wait_run(run.run_id, timeout=60)
        assert ended.status is RunStatus.SUCCEEDED
        row = stack.postgres.query(f"SELECT status FROM run_views WHERE run_id = '{run.run_id}'")
        assert row.strip() == str(int(RunStatus.RUNNING))  # the read model is behind...
        got = client.get_run(run.run_id)  # ...and GetRun is not
        assert (got.status, got.last_seq, got.output, got.attempt) == (
            ended.status,
            ended.last_seq,
            ended.output,
            ended.attempt,
        )
        assert got.created_at == ended.created_at and got.updated_at == ended.updated_at


def _consumers_fetching(stack: LocalStack) -> dict[str, float]:
    """graphmesh_consumer_fetching of the executor's and the checkpoint
    service's consumers (1: fetching, 0: idle)."""
    from prometheus_client.parser import text_string_to_metric_families

    values = {}
    for name in ("executor", "checkpoint"):
        text = urllib.request.urlopen(stack.service(name).metrics_url, timeout=5).read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "graphmesh_consumer_fetching":
                    values[name] = sample.value
    return values


def test_an_idle_mesh_stops_fetching_and_a_new_run_wakes_it(
    client: Client, stack: LocalStack
) -> None:
    """Idle, the consumers send no fetch (GRAPHMESH_KAFKA_IDLE_AFTER_MS,
    5 s); a run created then reaches the executor through the notices, not
    the 10 s probe, and its events reach the store."""
    deadline = time.monotonic() + 60  # other tests' runs may still be ending
    while _consumers_fetching(stack) != {"executor": 0, "checkpoint": 0}:
        assert time.monotonic() < deadline, _consumers_fetching(stack)
        time.sleep(0.5)
    started = time.monotonic()
    run = client.create_run("chain3", {"n": 0, "trail": []})
    done = client.wait_run(run.run_id, timeout=30)
    woke_in = time.monotonic() - started
    assert done.status is RunStatus.SUCCEEDED
    # Well inside the probe interval: woken by the notices (a probe or the
    # requeue would take seconds).
    assert woke_in < 5, woke_in
    assert _consumers_fetching(stack) == {"executor": 1, "checkpoint": 1}
