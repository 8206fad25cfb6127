"""Stream modes, joining and resuming, many and slow subscribers, through
the real processes."""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any

import grpc
import pytest

from graphmesh import streams
from graphmesh.client import Client, RunEvent
from graphmesh.errors import GraphmeshError
from graphmesh.runs import RunStatus
from graphmesh.testing.stack import LocalStack
from graphmesh.v1 import run_pb2
from graphmesh.v1 import run_service_pb2 as pb
from graphmesh.v1 import run_service_pb2_grpc as pb_grpc
from tests.e2e.helpers import public_seqs, status_details
from tests.e2e.test_cli_and_clients import graphmesh, node_client

pytestmark = pytest.mark.e2e

AGENT_IN = {"messages": [{"role": "user", "content": "what is 2 + 3?"}]}
ALL_MODES = list(streams.STREAM_MODES)


def stored_types(stack: LocalStack, run_id: str) -> list[tuple[int, str]]:
    rows = stack.postgres.query(
        f"SELECT seq, type FROM events WHERE run_id = '{run_id}' ORDER BY seq"
    )
    return [(int(s), t) for s, t in (line.split("|") for line in rows.split())]


def distinct_seqs(seqs: Iterable[int]) -> list[int]:
    """The seqs of the stored events a stream served: the chunks of one
    stored MessageChunks event come one by one, under its seq."""
    return [seq for seq, _ in itertools.groupby(seqs)]


def test_agent_in_every_mode_records_each_kind_with_its_seq(
    client: Client, stack: LocalStack
) -> None:
    run = client.create_run("agent", AGENT_IN, stream_modes=ALL_MODES)
    events = list(client.stream_run(run.run_id, timeout=60))
    assert distinct_seqs(e.seq for e in events) == public_seqs(stack, run.run_id)
    by_mode: dict[str, list[RunEvent]] = {}
    for event in events:
        by_mode.setdefault(event.mode, []).append(event)
        assert event.mode == streams.MODE_OF_EVENT_TYPE.get(event.type, "")
    assert set(by_mode) == {
        "",
        "values",
        "updates",
        "messages",
        "debug",
        "tasks",
        "checkpoints",
        "events",
    }
    kinds = {e.payload["data"]["event"] for e in by_mode["events"]}
    assert kinds >= {"on_chat_model_start", "on_chat_model_stream", "on_tool_start", "on_tool_end"}
    tokens = [
        e.payload["data"][0]["content"]
        for e in by_mode["messages"]
        if e.payload["data"][1]["langgraph_node"] == "model"
    ]
    assert "".join(tokens) == "The answer is 5."
    assert len(tokens) >= 4  # token chunks, not one message
    assert by_mode["values"][-1].payload["data"] == client.get_run(run.run_id).output
    assert [e.payload["node"] for e in by_mode["updates"]] == ["model", "tools", "model"]
    assert {e.payload["data"]["name"] for e in by_mode["tasks"]} == {"model", "tools"}
    assert {e.payload["data"]["type"] for e in by_mode["debug"]} >= {"task", "task_result"}
    saved = [t for _, t in stored_types(stack, run.run_id) if t == "CheckpointSaved"]
    assert len(by_mode["checkpoints"]) == len(saved)
    assert client.get_run(run.run_id).stream_modes == tuple(ALL_MODES)


def test_a_subscriber_chooses_among_the_recorded_modes(client: Client) -> None:
    run = client.create_run("agent", AGENT_IN, stream_modes=["messages", "updates", "values"])
    client.wait_run(run.run_id, timeout=60)
    only = list(client.stream_run(run.run_id, stream_modes=["messages"]))
    assert {e.mode for e in only} == {"", "messages"}
    # The seqs skip what the subscriber does not follow; each event says
    # which it follows, so a hidden event is told from a lost one.
    assert any(b.seq - a.seq > 1 for a, b in itertools.pairwise(only))
    assert [e.previous_seq for e in only] == [0] + [e.seq for e in only[:-1]]
    assert [e.type for e in only if not e.mode] == ["RunCreated", "RunStarted", "RunSucceeded"]
    default = list(client.stream_run(client.create_run("chain3", {"n": 0, "trail": []}).run_id))
    assert {e.mode for e in default} == {"", "updates"}


def test_custom_mode_and_subgraph_namespaces(client: Client) -> None:
    ticks = client.create_run(
        "ticker", {"count": 3, "size": 1, "interval": 0, "ticks": 0}, stream_modes=["custom"]
    )
    custom = [e for e in client.stream_run(ticks.run_id, timeout=60) if e.mode]
    assert [e.payload["data"]["tick"] for e in custom] == [0, 1, 2]
    nested = client.create_run(
        "nested", {"trail": []}, stream_modes=["updates"], stream_subgraphs=True
    )
    updates = [e for e in client.stream_run(nested.run_id, timeout=60) if e.mode == "updates"]
    placed = [
        (e.payload["node"], e.namespace[0].split(":")[0] if e.namespace else "") for e in updates
    ]
    assert placed == [("inner", "child"), ("child", ""), ("outer", "")]
    flat = client.create_run("nested", {"trail": []}, stream_modes=["updates"])
    assert [e.payload["node"] for e in client.stream_run(flat.run_id, timeout=60) if e.mode] == [
        "child",
        "outer",
    ]


def test_cli_streams_the_agent_in_every_mode(stack: LocalStack) -> None:
    args = ["run", "agent", "--input", json.dumps(AGENT_IN)]
    for mode in ALL_MODES:
        args += ["--stream-mode", mode]
    result = graphmesh(stack, *args)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    types = {line.split("]", 1)[1].split()[0] for line in lines}
    assert {"MessageChunk", "StateValues", "NodeUpdated", "TaskEvent", "DebugEvent"} <= types
    assert {"CheckpointEvent", "RunSucceeded"} <= types
    assert any('model: "answer "' in line for line in lines)


def test_node_client_streams_the_agent_in_every_mode(stack: LocalStack) -> None:
    modes = [arg for mode in ALL_MODES for arg in ("--stream-mode", mode)]
    events, final = node_client(stack, "agent", AGENT_IN, *modes)
    assert distinct_seqs(e["seq"] for e in events) == public_seqs(stack, final["run_id"])
    assert {e["mode"] for e in events} == {"", *ALL_MODES} - {"custom"}
    tokens = [e["payload"]["data"][0]["content"] for e in events if e["mode"] == "messages"]
    assert "The answer is 5." in "".join(tokens)


def follow_with_drops(client: Client, run_id: str, rng: random.Random, most: int) -> list[RunEvent]:
    """The run's events to its end, the stream dropped by the client after
    1 to `most` events each time (mid-run or not) and resumed from the
    cursor of the last event received."""
    got: list[RunEvent] = []
    cursor = ""
    while not got or got[-1].type != "RunSucceeded":
        stream = client.stream_run(run_id, cursor, timeout=60)
        for _ in range(rng.randint(1, most)):
            event = next(stream, None)
            if event is None:
                break
            got.append(event)
        stream.close()
        cursor = got[-1].cursor if got else ""
    return got


def test_streams_dropped_and_resumed_at_random_points_match_the_store(
    client: Client, stack: LocalStack
) -> None:
    rng = random.Random(4)
    run = client.create_run(
        "ticker", {"count": 60, "size": 10, "interval": 0.01, "ticks": 0}, stream_modes=["custom"]
    )
    got = follow_with_drops(client, run.run_id, rng, most=12)
    assert [e.seq for e in got] == public_seqs(stack, run.run_id)
    assert [e.payload["data"]["tick"] for e in got if e.mode] == list(range(60))
    # Across every drop and resume, each event names the one served before it.
    assert [e.previous_seq for e in got] == [0] + [e.seq for e in got[:-1]]


def test_tokens_stored_together_stream_one_by_one_and_resume_between_any_two(
    client: Client, stack: LocalStack
) -> None:
    # A model with no pause between tokens: they come faster than Kafka
    # acknowledges the run's events, so the executor stores them together.
    run = client.create_run(
        "streamer", {"messages": [], "tokens": 300, "interval_ms": 0}, stream_modes=["messages"]
    )
    client.wait_run(run.run_id, timeout=60)
    stored = [t for _, t in stored_types(stack, run.run_id)]
    assert "MessageChunks" in stored, "no tokens were stored together"
    rng = random.Random(9)
    # Dropped anywhere: inside a stored event, too.
    got = follow_with_drops(client, run.run_id, rng, most=40)
    # Clients see what LangGraph streams, one chunk an event, whatever the storage.
    assert {e.type for e in got if e.mode} == {"MessageChunk"}
    tokens = [
        e.payload["data"][0]["content"].split("@")[0]
        for e in got
        if e.mode and e.payload["data"][0]["content"]
    ]
    assert tokens == [str(i) for i in range(300)]
    assert distinct_seqs(e.seq for e in got) == public_seqs(stack, run.run_id)
    assert len({e.cursor for e in got}) == len(got)
    assert [e.previous_seq for e in got] == [0] + [e.seq for e in got[:-1]]
    # A gRPC client that does not ask for group_chunks gets the same events
    # one by one; one that does gets them together, with a cursor for each.
    with grpc.insecure_channel(stack.gateway_target) as channel:
        stub = pb_grpc.RunServiceStub(channel)
        request = pb.StreamRunRequest(
            run_id=run.run_id, stream_modes=[run_pb2.STREAM_MODE_MESSAGES]
        )
        one_by_one = [r.event for r in stub.StreamRun(request, timeout=60)]
        request.group_chunks = True
        together = [r.event for r in stub.StreamRun(request, timeout=60)]
    whole = list(client.stream_run(run.run_id, stream_modes=["messages"]))
    assert [(e.type, e.seq, e.cursor, e.previous_seq) for e in one_by_one] == [
        (e.type, e.seq, e.cursor, e.previous_seq) for e in whole
    ]
    assert [json.loads(e.payload_json) for e in one_by_one] == [e.payload for e in whole]
    grouped = [e for e in together if e.type == "MessageChunks"]
    assert grouped and len(together) < len(one_by_one)
    for event in grouped:
        assert len(event.item_cursors) == len(json.loads(event.payload_json)["data"]) > 1
        assert event.item_cursors[-1] == event.cursor
    assert [c for e in together for c in (e.item_cursors or [e.cursor])] == [
        e.cursor for e in one_by_one
    ]


def test_many_subscribers_joining_at_different_times_get_the_same_events(
    client: Client, stack: LocalStack
) -> None:
    run = client.create_run(
        "ticker", {"count": 40, "size": 10, "interval": 0.01, "ticks": 0}, stream_modes=["custom"]
    )
    results: list[list[int]] = []

    def subscribe(delay: float) -> None:
        time.sleep(delay)
        with Client(stack.gateway_target) as own:
            results.append([e.seq for e in own.stream_run(run.run_id, timeout=60)])

    threads = [threading.Thread(target=subscribe, args=(i * 0.1,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    late = [e.seq for e in client.stream_run(run.run_id)]  # after the run ended
    expected = public_seqs(stack, run.run_id)
    assert results == [expected] * 6 and late == expected


def metric(stack: LocalStack, name: str) -> float:
    text = urllib.request.urlopen(stack.metrics_url, timeout=5).read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_for_metric(stack: LocalStack, name: str, want: float) -> float:
    deadline = time.monotonic() + 20
    while (value := metric(stack, name)) != want and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def test_a_stalled_subscriber_is_dropped_with_its_cursor_and_slows_no_one(
    client: Client, stack: LocalStack
) -> None:
    run = client.create_run(
        "ticker",
        {"count": 400, "size": 60_000, "interval": 0.005, "ticks": 0},
        stream_modes=["custom"],
    )
    with grpc.insecure_channel(stack.gateway_target) as channel:
        stub = pb_grpc.RunServiceStub(channel)
        stalled = stub.StreamRun(pb.StreamRunRequest(run_id=run.run_id), timeout=120)
        first = next(stalled)  # then it stops reading while the run goes on
        steady = [e.seq for e in client.stream_run(run.run_id, timeout=60)]
        assert client.wait_run(run.run_id, timeout=60).status is RunStatus.SUCCEEDED
        received = [first.event]
        with pytest.raises(grpc.RpcError) as dropped:
            for answer in stalled:
                received.append(answer.event)
    code, _, reason, _ = status_details(dropped.value)
    assert (code, reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "STREAM_TOO_SLOW")
    rest = list(client.stream_run(run.run_id, cursor=received[-1].cursor, resume=False))
    expected = public_seqs(stack, run.run_id)
    assert steady == expected
    assert [e.seq for e in received] + [e.seq for e in rest] == expected


def test_a_departed_client_leaves_nothing_running(client: Client, stack: LocalStack) -> None:
    run = client.create_run("slow", {"seconds": 0.5, "trail": []})
    stream = client.stream_run(run.run_id, timeout=60)
    next(stream)
    assert metric(stack, "graphmesh_stream_subscribers") >= 1
    stream.close()
    with grpc.insecure_channel(stack.gateway_target) as channel:
        stub = pb_grpc.RunServiceStub(channel)
        with pytest.raises(grpc.RpcError) as late:
            list(stub.StreamRun(pb.StreamRunRequest(run_id=run.run_id), timeout=0.3))
        assert late.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        with pytest.raises(grpc.RpcError) as waited:
            stub.WaitRun(pb.WaitRunRequest(run_id=run.run_id), timeout=0.3)
        assert waited.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert wait_for_metric(stack, "graphmesh_stream_subscribers", 0) == 0
    assert wait_for_metric(stack, "graphmesh_run_feeds", 0) == 0
    assert client.wait_run(run.run_id, timeout=60).status is RunStatus.SUCCEEDED


def test_stream_mode_numbers_and_names_agree() -> None:
    for number, name in enumerate(streams.STREAM_MODES, start=1):
        assert run_pb2.StreamMode.Name(number) == f"STREAM_MODE_{name.upper()}"


def test_a_client_detects_an_event_it_did_not_get(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = client.create_run("chain3", {"n": 0, "trail": []})
    client.wait_run(run.run_id, timeout=60)
    events = list(client.stream_run(run.run_id))
    assert len(events) >= 4
    resumed = client.stream_run(run.run_id, events[2].cursor)
    assert next(resumed).previous_seq == events[2].seq  # the cursor's event
    resumed.close()
    # The real stream with its second event lost on the way: the client's
    # check of previous_seq refuses to go on as if nothing happened.
    real = client._runs.StreamRun

    class LosingOne:
        def __init__(self, request: Any, **kwargs: Any) -> None:
            self._call = real(request, **kwargs)

        def __iter__(self) -> Iterator[Any]:
            answers = list(self._call)
            return iter([answers[0], *answers[2:]])

        def cancel(self) -> None:
            self._call.cancel()

    monkeypatch.setattr(client._runs, "StreamRun", LosingOne)
    with pytest.raises(GraphmeshError) as exc:
        list(client.stream_run(run.run_id))
    assert (exc.value.code, exc.value.reason) == (grpc.StatusCode.DATA_LOSS, "STREAM_GAP")
