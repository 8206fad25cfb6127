"""The long-term memory store through the mesh: graphs get it as LangGraph
Server gives it (`runtime.store`, `get_store()`), remembering across
threads as in-process LangGraph with its own store does; the public
StoreService reads and writes the same items; bad input is refused
precisely with nothing stored."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.memory import InMemoryStore

from graphmesh import Client, InvalidArgument, NotFound, RunStatus
from graphmesh.testing import LocalStack
from graphmesh.testing.infra.postgres import pgvector_bin_dir
from graphmesh.v1 import store_service_pb2 as st_pb2
from tests.conftest import TEST_GRAPHS, running_mesh
from tests.e2e.helpers import in_process_graph
from tests.e2e.test_cli_and_clients import graphmesh, node_client

pytestmark = pytest.mark.e2e
GRAPHS_DIR = str(Path(__file__).resolve().parents[1] / "graphs")


def _turns() -> list[tuple[str, str]]:
    """(thread, text): facts told on two threads, asked for on a third."""
    return [
        ("one", "remember I like tea"),
        ("two", "remember I live in Oslo"),
        ("three", "what do you know?"),
    ]


async def test_a_graph_remembers_across_threads_as_in_process(client: Client) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    reference = in_process_graph("control", "remember").copy(update={"store": InMemoryStore()})
    label = uuid.uuid4().hex[:8]
    for thread, text in _turns():
        run = client.create_run(
            "remember",
            {"text": text, "answer": "", "count": 0},
            thread_id=f"{thread}-{label}",
            context={"user_id": user},
        )
        done = client.wait_run(run.run_id, timeout=60)
        assert done.status is RunStatus.SUCCEEDED, done.error
        expected = await reference.ainvoke(
            {"text": text, "answer": "", "count": 0},
            config={"configurable": {"thread_id": f"{thread}-{label}"}},
            context={"user_id": user},
        )
        assert done.output["answer"] == expected["answer"]
    assert done.output["answer"] == "I like tea; I live in Oslo"
    # What the graph stored is the tenant's, through the API too.
    items = client.search_items(("memories", user))
    assert sorted(i.value["fact"] for i in items) == ["I like tea", "I live in Oslo"]
    assert ("memories", user) in client.list_namespaces(("memories",))


def test_items_through_the_api(client: Client) -> None:
    ns = ("api", uuid.uuid4().hex[:8])
    client.put_item(ns, "a", {"colour": "red", "n": 1})
    client.put_item(ns, "b", {"colour": "blue", "n": 5})
    client.put_item((*ns, "deeper"), "c", {"colour": "red", "n": 9})
    got = client.get_item(ns, "a")
    assert (got.namespace, got.key, got.value) == (ns, "a", {"colour": "red", "n": 1})
    red = client.search_items(ns, filter={"colour": "red"})
    assert sorted(i.key for i in red) == ["a", "c"]
    big = client.search_items(ns, filter={"n": {"$gt": 2}})
    assert sorted(i.key for i in big) == ["b", "c"]
    assert len(client.search_items(ns, limit=2)) == 2
    assert [i.key for i in client.search_items(ns, limit=1, offset=0)] == ["c"]  # newest first
    client.put_item(ns, "a", {"colour": "green", "n": 1})  # replaces
    assert client.get_item(ns, "a").value["colour"] == "green"
    assert client.list_namespaces(ns) == [ns, (*ns, "deeper")]
    assert client.list_namespaces(ns, max_depth=2) == [ns]
    assert client.list_namespaces(suffix=("deeper",)) == [(*ns, "deeper")]
    client.delete_item(ns, "a")
    with pytest.raises(NotFound) as gone:
        client.get_item(ns, "a")
    assert gone.value.reason == "ITEM_NOT_FOUND"


def _count_items(stack: LocalStack) -> str:
    return stack.postgres.query(
        "SELECT count(*), coalesce(max(updated_at)::text, '') FROM store_items"
    )


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda c: c.put_item((), "k", {"v": 1}), "NAMESPACE_EMPTY"),
        (lambda c: c.put_item(("a", ""), "k", {"v": 1}), "NAMESPACE_LABEL_EMPTY"),
        (lambda c: c.put_item(("a.b",), "k", {"v": 1}), "NAMESPACE_LABEL_HAS_SEPARATOR"),
        (lambda c: c.put_item(("x" * 300,), "k", {"v": 1}), "NAMESPACE_LABEL_TOO_LONG"),
        (lambda c: c.put_item(tuple("a" * 33), "k", {"v": 1}), "NAMESPACE_TOO_DEEP"),
        (lambda c: c.put_item(("langgraph",), "k", {"v": 1}), "NAMESPACE_RESERVED"),
        (lambda c: c.put_item(("a",), "", {"v": 1}), "KEY_EMPTY"),
        (lambda c: c.put_item(("a",), "k" * 2000, {"v": 1}), "KEY_TOO_LONG"),
        (lambda c: c.put_item(("a",), "k", {"v": "x" * (2 << 20)}), "VALUE_TOO_LARGE"),
        (lambda c: c.put_item(("a",), "k", {"v": 1}, ttl_minutes=0), "TTL_OUT_OF_RANGE"),
        (
            lambda c: c.search_items(("a",), filter={"n": {"$regex": "x"}}),
            "FILTER_OPERATOR_UNKNOWN",
        ),
        (lambda c: c.search_items(("a",), limit=0), "LIMIT_OUT_OF_RANGE"),
        (lambda c: c.search_items(("a",), offset=-1), "OFFSET_OUT_OF_RANGE"),
        (lambda c: c.list_namespaces(max_depth=0), "MAX_DEPTH_OUT_OF_RANGE"),
    ],
)
def test_bad_store_input_is_refused_and_stores_nothing(
    stack: LocalStack, client: Client, call: Any, reason: str
) -> None:
    before = _count_items(stack)
    with pytest.raises(InvalidArgument) as refused:
        call(client)
    assert refused.value.reason == reason, refused.value
    assert _count_items(stack) == before


def test_a_value_that_is_not_an_object_is_refused(client: Client) -> None:
    for text, reason in (("[1]", "VALUE_NOT_OBJECT"), ("{", "VALUE_MALFORMED_JSON")):
        with pytest.raises(InvalidArgument) as refused:
            client._call(
                client._store.PutItem,
                st_pb2.PutItemRequest(namespace=["a"], key="k", value_json=text),
            )
        assert refused.value.reason == reason


def test_the_store_through_the_cli(stack: LocalStack) -> None:
    ns = f"cli/{uuid.uuid4().hex[:8]}"
    _cli(stack, "store", "put", ns, "drink", '{"text": "tea", "cups": 3}')
    shown = json.loads(_cli(stack, "store", "get", ns, "drink").stdout)
    assert shown["value"] == {"text": "tea", "cups": 3}
    found = json.loads(_cli(stack, "store", "search", "cli", "--filter", '{"cups": 3}').stdout)
    assert [i["key"] for i in found["items"]] == ["drink"]
    spaces = json.loads(_cli(stack, "store", "namespaces", "--prefix", ns).stdout)
    assert spaces["namespaces"] == [ns]
    _cli(stack, "store", "delete", ns, "drink")
    missing = graphmesh(stack, "store", "get", ns, "drink")
    assert missing.returncode == 1 and "ITEM_NOT_FOUND" in missing.stderr


def _cli(stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    result = graphmesh(stack, *args)
    assert result.returncode == 0, result.stderr
    return result


async def test_the_memory_agent_remembers_across_threads_through_the_cli_and_node(
    stack: LocalStack,
) -> None:
    user = f"ann-{uuid.uuid4().hex[:6]}"
    context = json.dumps({"user_id": user})

    def ask(text: str) -> dict[str, Any]:
        return {"messages": [{"role": "user", "content": text}]}

    told = _cli(
        stack,
        "run",
        "memory_agent",
        "--context",
        context,
        "--input",
        json.dumps(ask("remember that I like tea")),
    )
    assert json.loads(told.stdout)["messages"][-1]["content"] == "Noted."
    # Another conversation (a new thread), through the Node client, chatty model.
    _, final = node_client(
        stack,
        "memory_agent",
        ask("what do you know about me?"),
        "--config",
        json.dumps({"configurable": {"model": "chatty"}}),
        "--context",
        context,
    )
    answer = final["output"]["messages"][-1]["content"]
    assert answer == f"Here is what I know about you, {user}: I like tea."
    # In-process LangGraph with its own store gives the same answers.
    graph = in_process_graph("memory_agent", "memory_agent").copy(update={"store": InMemoryStore()})
    await graph.ainvoke(
        ask("remember that I like tea"),
        config={"configurable": {"thread_id": "one"}},
        context={"user_id": user},
    )
    expected = await graph.ainvoke(
        ask("what do you know about me?"),
        config={"configurable": {"thread_id": "two", "model": "chatty"}},
        context={"user_id": user},
    )
    assert expected["messages"][-1].content == answer


def test_a_tool_writes_through_the_injected_store(client: Client) -> None:
    fact = f"fact-{uuid.uuid4().hex[:8]}"
    run = client.create_run("tool_store", {"messages": [{"role": "user", "content": fact}]})
    done = client.wait_run(run.run_id, timeout=60)
    assert done.status is RunStatus.SUCCEEDED, done.error
    assert done.output["messages"][-1]["content"] == f"saved {fact}"
    assert client.get_item(("tool-facts",), fact).value == {"fact": fact}


async def test_semantic_search_through_the_api_ranks_as_langgraph(client: Client) -> None:
    # tests/graphs/langgraph.json: "store": {"index": {"embed": embeddings.embed, ...}}
    await _check_semantic_search(client)


async def test_the_mesh_on_postgres_with_pgvector_ranks_the_same(
    request: pytest.FixtureRequest,
) -> None:
    # `graphmesh up --pgvector`: PostgreSQL 16 with pgvector (pgserver's).
    with running_mesh(request, graphs=TEST_GRAPHS, postgres_bin=pgvector_bin_dir()) as mesh:
        assert mesh.postgres.query("SELECT extname FROM pg_extension WHERE extname = 'vector'")
        with Client(mesh.gateway_target) as client:
            await _check_semantic_search(client, rel_tol=1e-6)


async def _check_semantic_search(client: Client, rel_tol: float = 1e-9) -> None:
    sys.path.insert(0, GRAPHS_DIR)
    try:
        from embeddings import embed  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    ns = ("docs", uuid.uuid4().hex[:8])
    docs = {
        "d1": {"text": "the cat sat on the mat"},
        "d2": {"text": "stocks rose sharply"},
        "d3": {"text": "a cat and a second cat"},
        "d4": {"title": "no text here"},
    }
    reference = InMemoryStore(index={"embed": embed, "dims": 9, "fields": ["text"]})
    for key, value in docs.items():
        client.put_item(ns, key, value)
        await reference.aput(ns, key, value)
    for query in ("cats", "stock prices", "o"):
        got = client.search_items(ns, query=query, limit=4)
        want = await reference.asearch(ns, query=query, limit=4)
        assert [i.key for i in got] == [i.key for i in want]
        for mine, theirs in zip(got, want, strict=True):
            if theirs.score is None:
                assert mine.score is None
            else:
                assert mine.score is not None
                assert math.isclose(mine.score, theirs.score, rel_tol=rel_tol)
    assert got[-1].key == "d4" and got[-1].score is None  # not embedded: last, unscored
