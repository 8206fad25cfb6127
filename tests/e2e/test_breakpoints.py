"""Breakpoints and runs with no input, as LangGraph has them: a run pauses
before or after the nodes it names (or the graph was compiled with), ends
INTERRUPTED with the next nodes in the thread's state, and a run with no
input continues the thread. Any JSON input reaches a graph that takes it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from graphmesh import Client, InvalidArgument, RunStatus
from tests.e2e.helpers import in_process_graph

pytestmark = pytest.mark.e2e

CHAIN3_IN = {"n": 0, "trail": []}


async def _in_process(graph: Any, turns: list[tuple[Any, dict[str, Any]]]) -> list[Any]:
    """Each turn's (input, astream options) run in-process on one thread:
    the values after each, and the next nodes."""
    config = {"configurable": {"thread_id": "t"}}
    seen = []
    for value, options in turns:
        async for _ in graph.astream(value, config, **options):
            pass
        state = await graph.aget_state(config)
        seen.append((state.values, list(state.next)))
    return seen


def _through_graphmesh(
    client: Client, graph_id: str, turns: list[tuple[Any, dict[str, Any]]]
) -> list[Any]:
    thread = f"bp-{uuid.uuid4()}"
    seen = []
    for value, options in turns:
        run = client.create_run(graph_id, value, thread_id=thread, **options)
        done = client.wait_run(run.run_id, timeout=60)
        state = client.get_thread_state(thread)
        seen.append((done.status, state.values, state.next))
    return seen


async def test_a_run_pauses_at_its_breakpoints_and_a_run_with_no_input_goes_on(
    client: Client,
) -> None:
    turns: list[tuple[Any, dict[str, Any]]] = [
        (CHAIN3_IN, {"interrupt_before": ["s1"]}),
        (None, {"interrupt_after": ["s1"]}),
        (None, {}),
    ]
    expected = await _in_process(in_process_graph("workload", "chain3"), turns)
    got = _through_graphmesh(client, "chain3", turns)
    assert [(values, nxt) for _, values, nxt in got] == [(v, n) for v, n in expected]
    assert [status for status, _, _ in got] == [
        RunStatus.INTERRUPTED,
        RunStatus.INTERRUPTED,
        RunStatus.SUCCEEDED,
    ]
    assert expected[0][1] == ["s1"] and expected[1][1] == ["s2"] and expected[2][1] == []


async def test_a_graph_compiled_with_a_breakpoint_pauses_there(client: Client) -> None:
    turns: list[tuple[Any, dict[str, Any]]] = [({"steps": []}, {}), (None, {})]
    expected = await _in_process(in_process_graph("control", "paused"), turns)
    got = _through_graphmesh(client, "paused", turns)
    assert [(values, nxt) for _, values, nxt in got] == [(v, n) for v, n in expected]
    assert got[0][0] is RunStatus.INTERRUPTED and got[0][2] == ["c"]
    assert got[1][0] is RunStatus.SUCCEEDED and got[1][1] == {"steps": ["a", "b", "c"]}


def test_every_node_is_a_breakpoint_with_a_star(client: Client) -> None:
    thread = f"bp-{uuid.uuid4()}"
    statuses = []
    value: Any = CHAIN3_IN
    for _ in range(5):
        run = client.create_run("chain3", value, thread_id=thread, interrupt_after=["*"])
        statuses.append(client.wait_run(run.run_id, timeout=60).status)
        value = None
        if statuses[-1] is RunStatus.SUCCEEDED:
            break
    assert statuses == [RunStatus.INTERRUPTED] * 3 + [RunStatus.SUCCEEDED]
    assert client.get_thread_state(thread).values == {"n": 3, "trail": ["s0", "s1", "s2"]}


def test_an_unknown_breakpoint_node_is_refused(client: Client) -> None:
    with pytest.raises(InvalidArgument) as refused:
        client.create_run("chain3", CHAIN3_IN, interrupt_before=["nope"])
    assert (refused.value.reason, refused.value.field) == ("NODE_UNKNOWN", "interrupt_before")


async def test_a_graph_that_takes_a_string_gets_one(client: Client) -> None:
    run = client.create_run("shout", '"cat"')  # JSON text: the string "cat"
    done = client.wait_run(run.run_id, timeout=60)
    expected = await in_process_graph("control", "shout").ainvoke(
        "cat", {"configurable": {"thread_id": "s"}}
    )
    assert (done.status, done.output, done.input) == (RunStatus.SUCCEEDED, expected, "cat")
    # A graph whose state is an object still refuses anything else.
    with pytest.raises(InvalidArgument) as refused:
        client.create_run("chain3", "[1, 2]")
    assert refused.value.reason == "INPUT_NOT_OBJECT"


async def test_a_sync_node_invoking_a_subgraph_runs_as_in_process(client: Client) -> None:
    thread = f"sync-{uuid.uuid4()}"
    run = client.create_run("sync_caller", {"n": 5}, thread_id=thread, stream_subgraphs=True)
    done = client.wait_run(run.run_id, timeout=60)
    graph = in_process_graph("control", "sync_caller")
    config = {"configurable": {"thread_id": "t"}}
    expected = await graph.ainvoke({"n": 5}, config)
    assert (done.status, done.output) == (RunStatus.SUCCEEDED, expected)
    assert expected == {"n": 11}
    assert client.get_thread_state(thread).values == (await graph.aget_state(config)).values


async def test_a_thread_whose_state_is_none_reads_back_as_none(client: Client) -> None:
    thread = f"none-{uuid.uuid4()}"
    done = client.wait_run(client.create_run("noop", '"x"', thread_id=thread).run_id, timeout=60)
    graph = in_process_graph("control", "noop")
    config = {"configurable": {"thread_id": "t"}}
    await graph.ainvoke("x", config)
    expected = (await graph.aget_state(config)).values
    assert done.status is RunStatus.SUCCEEDED and expected is None
    assert client.get_thread_state(thread).values is None
