"""LangGraph Server's HTTP API on the mesh, driven by LangGraph's own Python
client (`langgraph-sdk`): the documented patterns run through it as they do
in-process with LangGraph (streams, interrupts, forks, state edits), streams
dropped and joined again with `Last-Event-ID` give exactly the rest, and the
assistants, threads, runs and store endpoints answer as LangGraph Server
does, errors included."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph.types import Command
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from graphmesh.assistants import default_assistant_id
from graphmesh.jsonutil import to_jsonable
from graphmesh.testing import LocalStack
from tests.e2e.helpers import in_process_graph
from tests.e2e.test_langgraph_parity import (
    CASES,
    MODES,
    PARALLEL,
    Turn,
    _answer,
    _in_process,
    _message_stream,
    _unordered,
    _without_ids,
    run_events,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
async def sdk(stack: LocalStack) -> AsyncIterator[LangGraphClient]:
    """LangGraph's Python client, pointed at the mesh's HTTP API."""
    client = get_client(url=stack.http_url)
    try:
        yield client
    finally:
        await client.http.client.aclose()


async def _through_http(
    sdk: LangGraphClient, graph: str, turns: list[Turn]
) -> list[dict[str, Any]]:
    """A case's turns through the HTTP API, seen as `_in_process` sees them."""
    thread = (await sdk.threads.create())["thread_id"]
    seen: list[dict[str, Any]] = []
    pending: list[tuple[str, Any]] = []
    for kind, given_value, *rest in turns:
        value = given_value
        options = dict(rest[0]) if rest else {}
        streams: dict[str, list[Any]] = {mode: [] for mode in MODES}
        if kind == "update":
            await sdk.threads.update_state(thread, value)
        else:
            if kind == "fork":
                step, value = value
                history = await sdk.threads.get_history(thread, limit=100)
                at = next(s for s in history if s["metadata"]["step"] == step)
                options["checkpoint_id"] = at["checkpoint"]["checkpoint_id"]
            if kind in ("resume", "by_value"):
                options["command"] = {"resume": _answer(kind, value, pending)}
                value = None
            async for part in sdk.runs.stream(
                thread, graph, input=value, stream_mode=MODES, **options
            ):
                assert part.event != "error", part.data
                if part.event == "updates":
                    streams["updates"] += [
                        [n, u] for n, u in part.data.items() if n != "__interrupt__"
                    ]
                elif part.event in ("values", "custom"):
                    streams[part.event].append(part.data)
        state = await sdk.threads.get_state(thread)
        pending = [(i["id"], i["value"]) for i in state["interrupts"]]
        seen.append(
            {
                "streams": streams,
                "interrupts": [v for _, v in pending],
                "values": state["values"],
                "next": state["next"],
            }
        )
    return seen


@pytest.mark.parametrize("name", sorted(CASES))
async def test_a_documented_pattern_runs_over_http_as_in_process(
    sdk: LangGraphClient, name: str
) -> None:
    graph, turns = CASES[name]
    expected = await _in_process(graph, turns)
    got = await _through_http(sdk, graph, turns)
    if name in PARALLEL:
        expected, got = _unordered(expected), _unordered(got)
    for turn, (want, have) in enumerate(zip(expected, got, strict=True)):
        assert _without_ids(have) == _without_ids(want), f"{name}, turn {turn}"


async def _sse(
    stack: LocalStack, path: str, last_event_id: str = "", **params: Any
) -> list[tuple[str, Any, str | None]]:
    """(event, data, id) of every SSE event a GET of `path` streams."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    out: list[tuple[str, Any, str | None]] = []
    async with (
        httpx.AsyncClient(base_url=stack.http_url, timeout=60) as http,
        http.stream("GET", path, headers=headers, params=params) as answer,
    ):
        assert answer.status_code == 200, await answer.aread()
        event, data, ident = "", "", None
        async for line in answer.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line.startswith("id: "):
                ident = line[4:]
            elif not line and event:
                out.append((event, json.loads(data), ident))
                event, data, ident = "", "", None
    return out


@pytest.mark.parametrize("mode", ["messages-tuple", "messages", "values"])
async def test_a_stream_joined_with_last_event_id_gets_exactly_the_rest(
    sdk: LangGraphClient, stack: LocalStack, mode: str
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    question = {"messages": [{"role": "user", "content": "what is 19 + 23?"}]}
    run = await sdk.runs.create(thread, "agent", input=question, stream_mode=[mode, "updates"])
    await sdk.runs.join(thread, run["run_id"])
    path = f"/threads/{thread}/runs/{run['run_id']}/stream"
    whole = await _sse(stack, path, stream_mode=[mode, "updates"])
    assert whole[0][0] == "metadata"
    ids = [i for _, _, i in whole if i]
    assert len(ids) > 5 and len(set(ids)) == len(ids)
    for cut in random.Random(7).sample(range(1, len(whole)), 6):
        if whole[cut - 1][2] is None:
            continue
        rest = await _sse(stack, path, whole[cut - 1][2] or "", stream_mode=[mode, "updates"])
        assert rest == whole[cut:], f"after event {cut}"


async def test_the_sdk_resumes_a_dropped_stream_where_it_left_off(
    sdk: LangGraphClient, stack: LocalStack
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    run = await sdk.runs.create(
        thread,
        "agent",
        input={"messages": [{"role": "user", "content": "hi"}]},
        stream_mode="messages-tuple",
    )
    await sdk.runs.join(thread, run["run_id"])
    whole = [
        (p.event, p.data)
        async for p in sdk.runs.join_stream(thread, run["run_id"], stream_mode="messages-tuple")
    ]
    path = f"/threads/{thread}/runs/{run['run_id']}/stream"
    middle = (await _sse(stack, path, stream_mode="messages-tuple"))[4][2]
    rest = [
        (p.event, p.data)
        async for p in sdk.runs.join_stream(
            thread, run["run_id"], stream_mode="messages-tuple", last_event_id=middle
        )
    ]
    assert rest == whole[5:] and len(rest) > 3


async def test_a_run_waited_for_returns_the_state_and_its_interrupt(
    sdk: LangGraphClient,
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    first = await sdk.runs.wait(thread, "hitl", input={"n": 0, "trail": []})
    assert first["trail"] == ["a"]
    assert [i["value"]["question"] for i in first["__interrupt__"]] == ["approve?"]
    assert (await sdk.threads.get(thread))["status"] == "interrupted"
    second = await sdk.runs.wait(thread, "hitl", command={"resume": "yes"})
    assert second == {"trail": ["a", "approved:yes", "b"]}
    runs = await sdk.runs.list(thread)
    assert [r["status"] for r in runs] == ["success", "interrupted"]
    assert (await sdk.runs.get(thread, runs[0]["run_id"]))["run_id"] == runs[0]["run_id"]
    stateless = await sdk.runs.wait(None, "chain3", input={"n": 0, "trail": []})
    assert stateless == {"n": 3, "trail": ["s0", "s1", "s2"]}


async def test_a_busy_thread_refuses_a_run_with_reject_and_queues_with_enqueue(
    sdk: LangGraphClient,
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    slow = await sdk.runs.create(thread, "sleeper", input={"seconds": 1.0, "slept": 0})
    with pytest.raises(ConflictError):
        await sdk.runs.create(
            thread, "chain3", input={"n": 0, "trail": []}, multitask_strategy="reject"
        )
    queued = await sdk.runs.create(
        thread, "chain3", input={"n": 0, "trail": []}, multitask_strategy="enqueue"
    )
    await sdk.runs.join(thread, queued["run_id"])
    assert (await sdk.runs.get(thread, slow["run_id"]))["status"] == "success"
    assert (await sdk.runs.get(thread, queued["run_id"]))["status"] == "success"


@pytest.mark.parametrize("strategy", ["interrupt", "rollback"])
async def test_a_new_run_interrupts_or_rolls_back_the_running_one(
    sdk: LangGraphClient, strategy: str
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    first = await sdk.runs.create(thread, "sleeper", input={"seconds": 30.0, "slept": 0})
    for _ in range(400):  # until it runs (20 s at most)
        if (await sdk.runs.get(thread, first["run_id"]))["status"] == "running":
            break
        await asyncio.sleep(0.05)
    second = await sdk.runs.wait(
        thread, "chain3", input={"n": 0, "trail": []}, multitask_strategy=strategy
    )
    assert second["n"] == 3
    # graphmesh keeps a rolled-back run in its log (LangGraph Server deletes it).
    assert (await sdk.runs.get(thread, first["run_id"]))["status"] == "interrupted"
    values = (await sdk.threads.get_state(thread))["values"]
    if strategy == "rollback":  # the first run's checkpoints went with it
        assert values == {"n": 3, "trail": ["s0", "s1", "s2"]}


async def test_a_stream_whose_client_goes_cancels_its_run_when_asked(
    sdk: LangGraphClient, stack: LocalStack
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    body = {
        "assistant_id": "sleeper",
        "input": {"seconds": 30.0, "slept": 0},
        "on_disconnect": "cancel",
        "stream_mode": ["values"],
    }
    async with (
        httpx.AsyncClient(base_url=stack.http_url, timeout=30) as http,
        http.stream("POST", f"/threads/{thread}/runs/stream", json=body) as answer,
    ):
        lines = answer.aiter_lines()
        while not (await anext(lines)).startswith("event: values"):
            pass
        run_id = answer.headers["content-location"].rsplit("/", 1)[1]
    deadline = asyncio.get_running_loop().time() + 20
    while (await sdk.runs.get(thread, run_id))["status"] != "interrupted":
        assert asyncio.get_running_loop().time() < deadline, "the run went on"
        await asyncio.sleep(0.1)


async def test_a_run_is_cancelled_and_waits_for_its_end(sdk: LangGraphClient) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    run = await sdk.runs.create(thread, "sleeper", input={"seconds": 30.0, "slept": 0})
    await asyncio.sleep(0.5)
    await sdk.runs.cancel(thread, run["run_id"], wait=True)
    assert (await sdk.runs.get(thread, run["run_id"]))["status"] == "interrupted"


async def test_assistants_keep_versions(sdk: LangGraphClient) -> None:
    # A graph's default assistant reads as searches list it (a graph id names it).
    default = await sdk.assistants.get("chain3")
    listed = await sdk.assistants.search(graph_id="chain3", metadata={"created_by": "system"})
    assert listed == [default] and not default["created_at"].startswith("1970")
    name = f"a-{uuid.uuid4().hex[:8]}"
    made = await sdk.assistants.create(
        "chain3", config={"tags": ["x"]}, metadata={"team": name}, name=name
    )
    assert made["version"] == 1 and made["graph_id"] == "chain3"
    changed = await sdk.assistants.update(made["assistant_id"], metadata={"stage": "two"})
    assert changed["version"] == 2
    versions = await sdk.assistants.get_versions(made["assistant_id"])
    assert sorted(v["version"] for v in versions) == [1, 2]
    back = await sdk.assistants.set_latest(made["assistant_id"], 1)
    assert back["version"] == 1
    found = await sdk.assistants.search(metadata={"team": name})
    assert [a["assistant_id"] for a in found] == [made["assistant_id"]]
    assert await sdk.assistants.count(metadata={"team": name}) == 1
    out = await sdk.runs.wait(None, made["assistant_id"], input={"n": 0, "trail": []})
    assert out["n"] == 3
    schemas = await sdk.assistants.get_schemas(made["assistant_id"])
    assert schemas["graph_id"] == "chain3" and schemas["input_schema"]
    assert await sdk.assistants.get_subgraphs("nested") == {
        "child": (await sdk.assistants.get_subgraphs("nested", namespace="child"))["child"]
    }
    assert await sdk.assistants.get_subgraphs(made["assistant_id"]) == {}
    graph = await sdk.assistants.get_graph(made["assistant_id"])
    assert {n["id"] for n in graph["nodes"]} >= {"s0", "s1", "s2"}
    await sdk.assistants.delete(made["assistant_id"])
    with pytest.raises(NotFoundError):
        await sdk.assistants.get(made["assistant_id"])


async def test_threads_are_created_searched_and_deleted(sdk: LangGraphClient) -> None:
    label = uuid.uuid4().hex[:8]
    made = await sdk.threads.create(metadata={"label": label})
    assert made["status"] == "idle" and made["metadata"]["label"] == label
    with pytest.raises(ConflictError):
        await sdk.threads.create(thread_id=made["thread_id"])
    same = await sdk.threads.create(thread_id=made["thread_id"], if_exists="do_nothing")
    assert same["thread_id"] == made["thread_id"]
    await sdk.runs.wait(made["thread_id"], "chain3", input={"n": 0, "trail": []})
    found = await sdk.threads.search(metadata={"label": label})
    assert [t["thread_id"] for t in found] == [made["thread_id"]]
    # As the Agent Chat UI lists a graph's threads:
    by_graph = await sdk.threads.search(metadata={"graph_id": "chain3", "label": label})
    assert by_graph == found
    assert await sdk.threads.search(metadata={"graph_id": "agent", "label": label}) == []
    fresh = await sdk.threads.create(graph_id="agent", metadata={"label": label})  # no run yet
    listed = await sdk.threads.search(metadata={"graph_id": "agent", "label": label})
    assert [t["thread_id"] for t in listed] == [fresh["thread_id"]]
    assert found[0]["values"] == {"n": 3, "trail": ["s0", "s1", "s2"]}
    assert await sdk.threads.count(metadata={"label": label}) == 2
    copy = await sdk.threads.copy(made["thread_id"])
    assert copy["thread_id"] != made["thread_id"] and copy["values"] == found[0]["values"]
    assert copy["metadata"]["label"] == label
    changed = await sdk.threads.update(made["thread_id"], metadata={"stage": "done"})
    chain3 = default_assistant_id("chain3")
    assert changed["metadata"] == {
        "label": label,
        "stage": "done",
        "graph_id": "chain3",
        "assistant_id": chain3,  # labelled by its run, as LangGraph Server does
    }
    by_assistant = await sdk.threads.search(metadata={"assistant_id": chain3, "label": label})
    assert {t["thread_id"] for t in by_assistant} == {made["thread_id"], copy["thread_id"]}
    assert (await sdk.threads.get(made["thread_id"]))["metadata"]["stage"] == "done"
    await sdk.threads.delete(made["thread_id"])
    with pytest.raises(NotFoundError):
        await sdk.threads.get(made["thread_id"])


async def test_the_store_puts_gets_searches_and_deletes(sdk: LangGraphClient) -> None:
    space = ["http", uuid.uuid4().hex[:8]]
    await sdk.store.put_item(space, "k1", {"color": "red"})
    await sdk.store.put_item(space, "k2", {"color": "blue"})
    item = await sdk.store.get_item(space, "k1")
    assert item["value"] == {"color": "red"} and item["namespace"] == space
    found = await sdk.store.search_items(space, filter={"color": "blue"})
    assert [i["key"] for i in found["items"]] == ["k2"]
    spaces = await sdk.store.list_namespaces(prefix=space)
    assert spaces["namespaces"] == [space]
    await sdk.store.delete_item(space, "k1")
    with pytest.raises(NotFoundError):
        await sdk.store.get_item(space, "k1")


async def test_bad_input_gets_langgraph_servers_statuses(
    sdk: LangGraphClient, stack: LocalStack
) -> None:
    thread = (await sdk.threads.create())["thread_id"]
    with pytest.raises(NotFoundError):
        await sdk.runs.create(thread, "no-such-graph", input={})
    with pytest.raises(NotFoundError):
        await sdk.runs.create(str(uuid.uuid4()), "chain3", input={"n": 0, "trail": []})
    with pytest.raises(UnprocessableEntityError):
        await sdk.runs.create(thread, "chain3", input={}, stream_mode="nonsense")
    async with httpx.AsyncClient(base_url=stack.http_url) as http:
        answer = await http.post(f"/threads/{thread}/runs", content=b"{not json")
        assert answer.status_code == 422 and answer.json()["reason"] == "REQUEST_MALFORMED"
        answer = await http.post(f"/threads/{thread}/runs", json={"input": {}})
        assert answer.status_code == 422 and answer.json()["reason"] == "ASSISTANT_ID_MISSING"
        answer = await http.get("/no/such/route")
        assert answer.status_code == 404
        answer = await http.post(f"/threads/{thread}/runs", content=b" " * (3 << 20))
        assert answer.status_code == 413 and answer.json()["reason"] == "REQUEST_TOO_LARGE"
        answer = await http.patch(f"/threads/{thread}", json={"metadata": []})
        assert answer.status_code == 422
        answer = await http.get(f"/threads/{thread}/stream")
        assert (answer.status_code, answer.json()["reason"]) == (501, "THREAD_STREAM_NOT_SERVED")
        assert (await http.get(f"/threads/{uuid.uuid4()}/stream")).status_code == 404
    assert await sdk.runs.list(thread) == []  # nothing was created


async def test_the_openapi_document_names_every_route(stack: LocalStack) -> None:
    async with httpx.AsyncClient(base_url=stack.http_url) as http:
        document = (await http.get("/openapi.json")).json()
        assert (await http.get("/ok")).json() == {"ok": True}
    assert document["openapi"].startswith("3.")
    assert "/threads/{thread_id}/runs/stream" in document["paths"]


JS_DIR = Path(__file__).resolve().parents[1] / "js"


async def _node(script: str, *args: str) -> Any:
    """What a script of tests/js printed (one JSON object); it must succeed."""
    result = await asyncio.to_thread(
        subprocess.run,
        ["node", script, *args],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _events(seen: list[list[Any]], name: str) -> list[Any]:
    return [data for event, data, _ in seen if event == name]


async def test_langgraphs_javascript_client_drives_the_mesh(stack: LocalStack) -> None:
    """tests/js/sdk_scenarios.mjs (`@langchain/langgraph-sdk` from npm, run
    with Node) against the mesh, beside the same graphs in-process."""
    seen = await _node("sdk_scenarios.mjs", stack.http_url)

    hitl = in_process_graph("workload", "hitl")
    config = {"configurable": {"thread_id": "t"}}
    first = [
        (mode, to_jsonable(chunk))
        async for mode, chunk in hitl.astream(
            {"n": 0, "trail": []}, config, stream_mode=["values", "updates"]
        )
    ]
    second = [
        to_jsonable(chunk)
        async for chunk in hitl.astream(Command(resume="yes"), config, stream_mode="values")
    ]
    assert seen["first"][0][0] == "metadata"
    assert _without_ids(_events(seen["first"], "values")) == _without_ids(
        [chunk for mode, chunk in first if mode == "values"]
    )
    updates = [chunk for mode, chunk in first if mode == "updates"]
    assert _events(seen["first"], "updates")[0] == updates[0]
    [interrupt] = _events(seen["first"], "updates")[-1]["__interrupt__"]
    assert interrupt["value"] == updates[-1]["__interrupt__"][0]["value"]
    assert seen["paused"] == {
        "next": ["approve"],
        "interrupts": [{"question": "approve?", "trail": ["a"]}],
    }
    assert _events(seen["second"], "values") == second
    assert seen["final"] == (await hitl.aget_state(config)).values
    assert seen["history"][:3] == [[], ["b"], ["approve"]]

    agent = in_process_graph("agent", "agent")
    question = {"messages": [{"role": "user", "content": "what is 19 + 23?"}]}
    tokens = [
        chunk
        async for chunk in agent.astream(
            question, {"configurable": {"thread_id": "a"}}, stream_mode="messages"
        )
    ]
    names = {event for event, _, _ in seen["modes"]}
    assert names >= {"metadata", "values", "updates", "messages", "debug", "tasks", "checkpoints"}
    assert _message_stream(_events(seen["modes"], "messages")) == _message_stream(tokens)
    assert seen["rest"] == seen["whole"][seen["cut"] + 1 :] and len(seen["rest"]) > 2

    assert seen["stateless"] == {"n": 3, "trail": ["s0", "s1", "s2"]}
    assert seen["item"] == {"color": "red"} and seen["found"] == ["k"]
    assert seen["versions"] == [1, 2]
    assert seen["assistantRun"] == {"n": 13, "trail": ["s0", "s1", "s2"]}
    assert seen["refused"] == 404


async def test_reacts_use_stream_shows_the_agents_streamed_messages_in_chromium(
    stack: LocalStack,
) -> None:
    """tests/js/use_stream.mjs: a page built on useStream, served on an
    origin of its own, in headless Chromium (driven by playwright-core),
    asks the agent a question through the mesh's HTTP API."""
    question = "what is 19 + 23?"
    shown = await _node("use_stream.mjs", stack.http_url, question)
    assert shown["error"] == "" and shown["refused"] == [], shown
    agent = in_process_graph("agent", "agent")
    final = await agent.ainvoke(
        {"messages": [{"role": "user", "content": question}]},
        {"configurable": {"thread_id": "t"}},
    )
    expected = [
        (m.type, m.content if isinstance(m.content, str) else json.dumps(m.content))
        for m in final["messages"]
    ]
    assert [(m["type"], m["content"]) for m in shown["messages"]] == expected
    # The answer appeared as it streamed: some frames showed part of it.
    answer = expected[-1][1]
    assert any(
        0 < len(frame) < len(answer) and answer.startswith(frame) for frame in shown["frames"]
    )
    # The page's thread holds the conversation.
    async with httpx.AsyncClient(base_url=stack.http_url) as http:
        state = (await http.get(f"/threads/{shown['thread']}/state")).json()
    assert [m["content"] for m in state["values"]["messages"]][-1] == answer


async def test_the_events_mode_streams_langchains_run_events(sdk: LangGraphClient) -> None:
    agent = in_process_graph("agent", "agent")
    question = {"messages": [{"role": "user", "content": "what is 19 + 23?"}]}
    expected = [
        e
        async for e in agent.astream_events(
            question, {"configurable": {"thread_id": "t"}}, version="v2", stream_mode="values"
        )
    ]
    parts = [p async for p in sdk.runs.stream(None, "agent", input=question, stream_mode="events")]
    assert parts[0].event == "metadata"
    assert {p.event for p in parts[1:]} == {"events"}
    assert run_events([p.data for p in parts[1:]]) == run_events(expected)


@pytest.mark.parametrize("on_completion", ["delete", "keep"])
async def test_a_stateless_runs_thread_goes_once_it_ends_unless_kept(
    stack: LocalStack, on_completion: str
) -> None:
    body = {"assistant_id": "chain3", "input": {"n": 0, "trail": []}}
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=60) as http:
        answer = await http.post("/runs/wait", json={**body, "on_completion": on_completion})
        assert answer.json() == {"n": 3, "trail": ["s0", "s1", "s2"]}
        thread = answer.headers["content-location"].split("/")[2]
        deadline = asyncio.get_running_loop().time() + 20
        status = 200
        while asyncio.get_running_loop().time() < deadline:
            status = (await http.get(f"/threads/{thread}")).status_code
            if status == 404 or on_completion == "keep":
                break
            await asyncio.sleep(0.05)
    assert status == (404 if on_completion == "delete" else 200)
