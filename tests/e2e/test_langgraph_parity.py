"""LangGraph's semantics, exactly: graphs in the patterns of LangGraph's own
documentation (tests/graphs/parity.py) run in-process with LangGraph and
through graphmesh's public API, turn by turn on one thread, and every item
of the updates, values and custom streams, the outcome (values or
interrupts) and the thread's state after each turn must be the same."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Command

from graphmesh import Client, RunStatus
from graphmesh.jsonutil import to_jsonable
from tests.e2e.helpers import in_process_graph

pytestmark = pytest.mark.e2e

MODES = ["updates", "values", "custom"]

#: A turn: ("input", value[, options]) with options among config, context,
#: interrupt_before, interrupt_after (value None: no input, continue);
#: ("resume", value); ("by_value", answer) answering each pending interrupt
#: by its value (a map of interrupt ids); ("fork", (step, value)) from the
#: checkpoint of that step; ("update", values): a state edit, no run.
Turn = tuple[Any, ...]


def _streams(items: list[tuple[str, Any]]) -> dict[str, list[Any]]:
    """Stream items by mode, as graphmesh records them: one entry per node
    update (the interrupt marker is reported apart), each JSON data."""
    out: dict[str, list[Any]] = {mode: [] for mode in MODES}
    for mode, chunk in items:
        if mode == "updates":
            out[mode] += [[n, u] for n, u in chunk.items() if n != "__interrupt__"]
        else:
            out[mode].append(chunk)
    return to_jsonable(out)  # type: ignore[no-any-return]


def _without_ids(value: Any) -> Any:
    """`value` with interrupt ids blanked: an id is derived from its task's
    id, which LangGraph makes anew for every run (two in-process runs of the
    same graph give different ids too), so ids are compared by position."""
    if isinstance(value, dict):
        if "__interrupt__" in value:
            value = {**value, "__interrupt__": [{**i, "id": "-"} for i in value["__interrupt__"]]}
        return {k: _without_ids(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _answer(kind: str, value: Any, interrupts: list[tuple[str, Any]]) -> Any:
    """The resume value of a turn (a map of interrupt ids for `by_value`)."""
    if kind == "by_value":
        return {i: value(v) for i, v in interrupts}
    return value


async def _in_process(name: str, turns: list[Turn]) -> list[dict[str, Any]]:
    graph = in_process_graph("parity", name)
    thread = {"configurable": {"thread_id": "t"}}
    seen: list[dict[str, Any]] = []
    pending: list[tuple[str, Any]] = []
    for kind, given_value, *rest in turns:
        value = given_value
        options = dict(rest[0]) if rest else {}
        config: dict[str, Any] = dict(thread)
        if "config" in options:
            given = options.pop("config")
            configurable = {**given.get("configurable", {}), **thread["configurable"]}
            config = {**given, "configurable": configurable}
        items: list[Any] = []
        if kind == "update":
            await graph.aupdate_state(thread, value)
        else:
            if kind == "fork":
                step, value = value
                history = [s async for s in graph.aget_state_history(thread)]
                at = next(s for s in history if s.metadata["step"] == step)
                config = {"configurable": {**at.config["configurable"]}}
            elif kind in ("resume", "by_value"):
                value = Command(resume=_answer(kind, value, pending))
            items = [i async for i in graph.astream(value, config, stream_mode=MODES, **options)]
        state = await graph.aget_state(thread)
        pending = [(i.id, i.value) for i in state.interrupts]
        seen.append(
            {
                "streams": _streams(items),
                "interrupts": to_jsonable([v for _, v in pending]),
                "values": to_jsonable(state.values),
                "next": list(state.next),
            }
        )
    return seen


def _through_graphmesh(client: Client, name: str, turns: list[Turn]) -> list[dict[str, Any]]:
    thread = f"parity-{uuid.uuid4()}"
    seen: list[dict[str, Any]] = []
    pending: list[tuple[str, Any]] = []
    for kind, given_value, *rest in turns:
        value = given_value
        options = dict(rest[0]) if rest else {}
        streams: dict[str, list[Any]] = {mode: [] for mode in MODES}
        if kind == "update":
            client.update_thread_state(thread, value)
        else:
            if kind == "fork":
                step, value = value
                history, _ = client.get_thread_history(thread, page_size=100)
                options["checkpoint_id"] = next(
                    s.checkpoint_id for s in history if s.metadata["step"] == step
                )
            elif kind in ("resume", "by_value"):
                options["resume"] = _answer(kind, value, pending)
                value = None
            run = client.create_run(name, value, thread_id=thread, stream_modes=MODES, **options)
            done = client.wait_run(run.run_id, timeout=60)
            assert done.status in (RunStatus.SUCCEEDED, RunStatus.INTERRUPTED), done.error
            for event in client.stream_run(run.run_id, stream_modes=MODES):
                if event.mode == "updates":
                    streams["updates"].append([event.payload["node"], event.payload["update"]])
                elif event.mode in ("values", "custom"):
                    streams[event.mode].append(event.payload["data"])
        state = client.get_thread_state(thread)
        pending = [(i["id"], i["value"]) for i in state.interrupts]
        seen.append(
            {
                "streams": streams,
                "interrupts": [v for _, v in pending],
                "values": state.values,
                "next": state.next,
            }
        )
    return seen


CASES: dict[str, tuple[str, list[Turn]]] = {
    "reducers": ("reducers", [("input", {"items": [], "counts": {}, "last": ""})]),
    "map_reduce": (
        "map_reduce",
        [("input", {"subjects": ["cats", "dogs", "elephants"], "jokes": []})],
    ),
    "commands": ("commands", [("input", {"n": 1, "path": []}), ("input", {"n": 2, "path": []})]),
    "parent_command": ("parent_command", [("input", {"n": 0, "path": []})]),
    "parallel_interrupts": (
        "parallel_interrupts",
        [
            ("input", {"reviews": []}),
            ("by_value", lambda v: f"ok-{v['review']}"),
        ],
    ),
    "custom_stream": ("custom_stream", [("input", {"topic": "the quick brown fox", "words": 0})]),
    "deferred": ("deferred", [("input", {"seen": []})]),
    "schemas": ("schemas", [("input", {"question": "why"})]),
    "approval_flow": ("approval_flow", [("input", [1, 2, 3]), ("resume", "approved")]),
    "conditional": ("conditional", [("input", {"n": 0})]),
    "retries": ("retries", [("input", {"key": f"k-{uuid.uuid4()}", "tries": []})]),
    "cached": ("cached", [("input", {"x": 4, "calls": []}), ("input", {"x": 4, "calls": []})]),
    "two_questions": (
        "two_questions",
        [("input", {"answers": []}), ("resume", "Ann"), ("resume", "42")],
    ),
    "chat": (
        "chat",
        [
            ("input", {"messages": [{"role": "user", "content": "hi", "id": "u-1"}]}),
            ("input", {"messages": [{"role": "user", "content": "again", "id": "u-3"}]}),
        ],
    ),
    "subgraph_interrupt": ("subgraph_interrupt", [("input", {"x": "a"}), ("resume", "Y")]),
    "configured": (
        "configured",
        [
            (
                "input",
                {"text": "hi"},
                {
                    "config": {"configurable": {"model": "m2"}, "tags": ["t"]},
                    "context": {"user_id": "u9", "lang": "fr"},
                },
            )
        ],
    ),
    "breakpoints": (
        "steps",
        [
            ("input", {"log": []}, {"interrupt_before": ["two"]}),
            ("input", None, {"interrupt_after": ["two"]}),
            ("input", None),
        ],
    ),
    "word_lengths": ("word_lengths", [("input", ["graph", "mesh", "runs"])]),
    "time_travel": ("steps", [("input", {"log": []}), ("fork", (1, None))]),
    "state_edit": (
        "steps",
        [
            ("input", {"log": []}, {"interrupt_before": ["three"]}),
            ("update", {"log": ["edited"]}),
            ("input", None),
        ],
    ),
}


#: Cases with parallel branches: their tasks finish in any order (in-process
#: too), so their updates and custom items are compared as multisets; the
#: values after each step are still compared in order.
PARALLEL = {"reducers", "map_reduce", "parallel_interrupts", "deferred", "word_lengths"}


def _unordered(seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for turn in seen:
        streams = dict(turn["streams"])
        for mode in ("updates", "custom"):
            streams[mode] = sorted(streams[mode], key=repr)
        out.append({**turn, "streams": streams})
    return out


@pytest.mark.parametrize("name", sorted(CASES))
async def test_a_documented_pattern_runs_as_in_process(client: Client, name: str) -> None:
    graph, turns = CASES[name]
    expected = await _in_process(graph, turns)
    got = _through_graphmesh(client, graph, turns)
    if name in PARALLEL:
        expected, got = _unordered(expected), _unordered(got)
    for turn, (want, have) in enumerate(zip(expected, got, strict=True)):
        assert _without_ids(have) == _without_ids(want), f"{name}, turn {turn}"
    assert expected[-1]["next"] == []  # each case runs to its end


def test_the_cases_cover_every_parity_graph() -> None:
    graphs = Path(__file__).resolve().parents[1] / "graphs" / "parity.py"
    names = {
        line.split(" = ")[0]
        for line in graphs.read_text().splitlines()
        if " = _build_" in line and not line.startswith(" ")
    } | {"approval_flow", "word_lengths"}
    assert names == {graph for graph, _ in CASES.values()}
    assert len(CASES) >= 20


def _message_stream(items: list[tuple[Any, dict[str, Any]]]) -> list[tuple[Any, ...]]:
    """What a messages stream says, without what each run makes anew (message
    and run ids, task ids in namespaces): the node, the chunk's text and its
    tool call chunks, item by item."""
    out = []
    for chunk, metadata in to_jsonable(items):
        calls = [(c.get("name"), c.get("args")) for c in chunk.get("tool_call_chunks") or []]
        out.append((metadata.get("langgraph_node"), chunk.get("content"), calls))
    return out


def _without_message_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_message_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_without_message_ids(v) for v in value]
    return value


async def test_a_tool_calling_agent_streams_its_tokens_as_in_process(client: Client) -> None:
    graph = in_process_graph("agent", "agent")
    question = {"messages": [{"role": "user", "content": "what is 19 + 23?"}]}
    config = {"configurable": {"thread_id": "t"}}
    items = [i async for i in graph.astream(question, config, stream_mode=["messages", "values"])]
    expected_tokens = _message_stream([chunk for mode, chunk in items if mode == "messages"])
    expected_values = [_without_message_ids(to_jsonable(c)) for m, c in items if m == "values"]

    run = client.create_run("agent", question, stream_modes=["messages", "values"])
    done = client.wait_run(run.run_id, timeout=60)
    events = list(client.stream_run(run.run_id, stream_modes=["messages", "values"]))
    tokens = _message_stream([e.payload["data"] for e in events if e.mode == "messages"])
    values = [_without_message_ids(e.payload["data"]) for e in events if e.mode == "values"]
    assert tokens == expected_tokens and len(tokens) > 3
    assert values == expected_values
    assert done.output["messages"][-1]["content"] == "The answer is 42."


def run_events(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(kind, name) of LangChain's run events as LangGraph Server streams them
    in its `events` mode: not the root graph's own stream items (those are
    the other modes' items), not those LangChain hides."""
    return [
        (e["event"], e["name"])
        for e in events
        if not (e["event"] == "on_chain_stream" and not e.get("parent_ids"))
        and "langsmith:hidden" not in (e.get("tags") or ())
    ]


async def test_run_events_are_recorded_as_astream_events_gives_them(client: Client) -> None:
    graph = in_process_graph("agent", "agent")
    question = {"messages": [{"role": "user", "content": "what is 19 + 23?"}]}
    config = {"configurable": {"thread_id": "t"}}
    expected = [
        e async for e in graph.astream_events(question, config, version="v2", stream_mode="values")
    ]
    run = client.create_run("agent", question, stream_modes=["events", "values"])
    assert client.wait_run(run.run_id, timeout=60).status is RunStatus.SUCCEEDED
    events = list(client.stream_run(run.run_id, stream_modes=["events", "values"]))
    recorded = [e.payload["data"] for e in events if e.mode == "events"]
    assert run_events(recorded) == run_events(expected)
    assert len(recorded) > 10
    values = [_without_message_ids(e.payload["data"]) for e in events if e.mode == "values"]
    in_process = [
        _without_message_ids(to_jsonable(e["data"]["chunk"]))
        for e in expected
        if e["event"] == "on_chain_stream" and not e.get("parent_ids")
    ]
    assert values == in_process
