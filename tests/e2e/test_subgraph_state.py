"""A thread's subgraph state and tasks, as LangGraph's
`get_state(subgraphs=True)` gives them, and updates of a subgraph's state."""

from __future__ import annotations

import uuid

import pytest
from langgraph.types import Command

from graphmesh import Client, InvalidArgument, RunStatus
from tests.e2e.helpers import in_process_graph

pytestmark = pytest.mark.e2e


def _shape(state: object) -> list[tuple[str, object, list[str], list[object]]]:
    """What a state's tasks say, the same way for both sides."""
    tasks = state.tasks  # type: ignore[attr-defined]
    out = []
    for task in tasks:
        inner = task.state
        values = inner.values if inner is not None else None
        nxt = list(inner.next) if inner is not None else []
        interrupts = [i.value if hasattr(i, "value") else i["value"] for i in task.interrupts]
        out.append((task.name, values, nxt, interrupts))
    return out


async def test_subgraph_state_reads_and_updates_as_in_process(client: Client) -> None:
    graph = in_process_graph("parity", "subgraph_interrupt")
    config = {"configurable": {"thread_id": "t"}}
    await graph.ainvoke({"x": "a"}, config)
    expected = await graph.aget_state(config, subgraphs=True)

    thread = f"sub-{uuid.uuid4()}"
    run = client.create_run("subgraph_interrupt", {"x": "a"}, thread_id=thread)
    assert client.wait_run(run.run_id, timeout=60).status is RunStatus.INTERRUPTED
    state = client.get_thread_state(thread, subgraphs=True)
    assert _shape(state) == _shape(expected) == [("child", {"x": "a"}, ["ask"], ["what next?"])]
    child = state.tasks[0].state
    assert child is not None and child.checkpoint_ns.startswith("child:")
    # Without `subgraphs`, the task is there but not its state.
    assert client.get_thread_state(thread).tasks[0].state is None

    # An update of the subgraph's state, then the resume, as in-process.
    ns = expected.tasks[0].state.config["configurable"]["checkpoint_ns"]
    await graph.aupdate_state(
        {"configurable": {"thread_id": "t", "checkpoint_ns": ns}}, {"x": "EDIT"}
    )
    final = await graph.ainvoke(Command(resume="Y"), config)
    client.update_thread_state(thread, {"x": "EDIT"}, checkpoint_ns=child.checkpoint_ns)
    resumed = client.create_run("subgraph_interrupt", None, thread_id=thread, resume="Y")
    done = client.wait_run(resumed.run_id, timeout=60)
    assert (done.status, done.output) == (RunStatus.SUCCEEDED, final)
    assert final == {"x": "[EDITY!]"}


def test_an_unknown_subgraph_namespace_is_refused(client: Client) -> None:
    thread = f"sub-{uuid.uuid4()}"
    client.wait_run(
        client.create_run("subgraph_interrupt", {"x": "a"}, thread_id=thread).run_id, 60
    )
    with pytest.raises(InvalidArgument) as refused:
        client.update_thread_state(thread, {"x": "b"}, checkpoint_ns="nope:1")
    assert (refused.value.reason, refused.value.field) == ("CHECKPOINT_NS_UNKNOWN", "checkpoint_ns")
