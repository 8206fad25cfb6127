"""The store against LangGraph's own: `GraphmeshStore` over PostgreSQL and
LangGraph's `InMemoryStore` are given the same generated sequences of
operations and must give the same answers.

Two differences are LangGraph's own stores disagreeing, and graphmesh
follows its PostgreSQL store: a search without a query lists items most
recently updated first (`InMemoryStore`: in insertion order), so searches
are compared as sets unless they are ranked; `InMemoryStore` lists a
namespace whose items were all deleted (or that was only read), which no
database-backed store does, so listings are compared with what it holds.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph.store.base import GetOp, ListNamespacesOp, MatchCondition, PutOp, SearchOp
from langgraph.store.memory import InMemoryStore
from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh.internal.v1 import item_store_service_pb2_grpc
from graphmesh.store import ItemStore
from graphmesh.store.langgraph import GraphmeshStore
from graphmesh.store.postgres import PostgresItems
from graphmesh.store.remote import RemoteItems

LABELS = st.sampled_from(["users", "u1", "u2", "notes", "prefs", "a"])
NAMESPACES = st.lists(LABELS, min_size=1, max_size=3).map(tuple)
KEYS = st.sampled_from(["k1", "k2", "k3", "fact"])
VALUES = st.fixed_dictionaries(
    {
        "n": st.integers(min_value=-3, max_value=3),
        "tag": st.sampled_from(["red", "blue"]),
        "text": st.sampled_from(["likes tea", "likes coffee", "has a cat", "moved to Oslo"]),
    },
    optional={"nested": st.fixed_dictionaries({"on": st.booleans()})},
)
FILTERS = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"tag": st.sampled_from(["red", "blue"])}),
    st.fixed_dictionaries({"n": st.fixed_dictionaries({"$gte": st.integers(-2, 2)})}),
    st.fixed_dictionaries({"n": st.fixed_dictionaries({"$ne": st.integers(-1, 1)})}),
    st.just({"nested": {"on": True}}),
)
OPS = st.one_of(
    # (Every field given: `builds` would otherwise draw the optional ones.)
    st.builds(PutOp, NAMESPACES, KEYS, VALUES, index=st.none(), ttl=st.none()),
    st.builds(PutOp, NAMESPACES, KEYS, st.none(), index=st.none(), ttl=st.none()),
    st.builds(GetOp, NAMESPACES, KEYS, refresh_ttl=st.booleans()),
    st.builds(
        SearchOp,
        st.lists(LABELS, max_size=2).map(tuple),
        FILTERS,
        st.just(100),
        st.just(0),
        query=st.none(),
        refresh_ttl=st.booleans(),
    ),
    st.builds(
        ListNamespacesOp,
        st.one_of(
            st.none(),
            st.lists(LABELS, min_size=1, max_size=2).map(
                lambda p: (MatchCondition(match_type="prefix", path=tuple(p)),)
            ),
            st.lists(st.sampled_from(["u1", "notes", "*"]), min_size=1, max_size=2).map(
                lambda p: (MatchCondition(match_type="suffix", path=tuple(p)),)
            ),
        ),
        st.one_of(st.none(), st.integers(1, 2)),
        limit=st.just(100),
        offset=st.just(0),
    ),
)


def _held(reference: InMemoryStore) -> InMemoryStore:
    """A store with only the namespaces that hold items."""
    held = InMemoryStore()
    for namespace, items in reference._data.items():
        for key, item in items.items():
            held.put(namespace, key, item.value)
    return held


def _comparable(result: Any) -> Any:
    if isinstance(result, list) and result and hasattr(result[0], "key"):
        return sorted((tuple(i.namespace), i.key, repr(sorted(i.value.items()))) for i in result)
    if hasattr(result, "key"):
        return (tuple(result.namespace), result.key, result.value)
    return result


@pytest.fixture(params=["postgres", "remote"])
async def items(
    request: pytest.FixtureRequest, engine: AsyncEngine, checkpoint_channel: grpc.aio.Channel
) -> AsyncIterator[ItemStore]:
    """The items in PostgreSQL, directly and through the checkpoint
    service's API served in this process (what executors and gateways use)."""
    if request.param == "postgres":
        yield PostgresItems(engine)
    else:
        yield RemoteItems(item_store_service_pb2_grpc.ItemStoreServiceStub(checkpoint_channel))


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(OPS, min_size=1, max_size=25))
def test_the_store_answers_as_langgraph_s_in_memory_store(items: ItemStore, ops: list[Any]) -> None:
    async def check() -> None:
        ours = GraphmeshStore(items, f"t-{uuid.uuid4()}")
        reference = InMemoryStore()
        for op in ops:
            [got] = await ours.abatch([op])
            if isinstance(op, ListNamespacesOp):
                [want] = _held(reference).batch([op])
                reference.batch([op])
            else:
                [want] = reference.batch([op])
            assert _comparable(got) == _comparable(want), (op, got, want)

    asyncio.get_event_loop().run_until_complete(check())


def _embed(texts: list[str]) -> list[list[float]]:
    """A deterministic embedding: letter counts of a few letters."""
    return [[float(t.count(c)) + 0.01 for c in "aeiostc"] for t in texts]


async def test_semantic_search_ranks_as_langgraph_s_in_memory_store(items: ItemStore) -> None:
    await _check_semantic_ranking(items, rel_tol=1e-9)


async def _check_semantic_ranking(items: ItemStore, rel_tol: float) -> None:
    index = {"embed": _embed, "dims": 7, "fields": ["text"]}
    ours = GraphmeshStore(items, f"t-{uuid.uuid4()}", index=index)  # type: ignore[arg-type]
    reference = InMemoryStore(index=index)  # type: ignore[arg-type]
    docs = {
        "d1": {"text": "the cat sat on the mat"},
        "d2": {"text": "stocks rose sharply today"},
        "d3": {"text": "a cat and a second cat"},
        "d4": {"title": "no text field here"},
    }
    for key, value in docs.items():
        await ours.aput(("docs",), key, value)
        await reference.aput(("docs",), key, value)
    for query in ("cats", "stock market", "ooo"):
        got = await ours.asearch(("docs",), query=query, limit=3)
        want = await reference.asearch(("docs",), query=query, limit=3)
        assert [i.key for i in got] == [i.key for i in want]
        for mine, theirs in zip(got, want, strict=True):
            if theirs.score is None:
                assert mine.score is None
            else:
                assert mine.score is not None
                assert math.isclose(mine.score, theirs.score, rel_tol=rel_tol)
    # Put with index=False: the item is stored, not embedded.
    await ours.aput(("docs",), "d5", {"text": "cat cat cat"}, index=False)
    ranked = await ours.asearch(("docs",), query="cat", limit=10)
    assert ranked[-1].key in {"d4", "d5"} and ranked[-1].score is None


async def test_an_item_expires_and_a_read_refreshes_its_time_to_live(
    items: ItemStore, engine: AsyncEngine
) -> None:
    store = GraphmeshStore(items, f"t-{uuid.uuid4()}", ttl={"refresh_on_read": True})
    await store.aput(("s",), "short", {"v": 1}, ttl=0.01)  # 0.6 s
    await store.aput(("s",), "kept", {"v": 2})
    await asyncio.sleep(0.4)
    assert await store.aget(("s",), "short") is not None  # refreshed: 0.6 s again
    await asyncio.sleep(0.4)
    assert await store.aget(("s",), "short", refresh_ttl=False) is not None
    await asyncio.sleep(0.4)
    assert await store.aget(("s",), "short") is None  # expired, even before a sweep
    assert [i.key for i in await store.asearch(("s",))] == ["kept"]
    assert await PostgresItems(engine).sweep() >= 1
    assert await store.aget(("s",), "kept") is not None


async def test_with_pgvector_the_ranking_is_the_same(pgvector_engine: AsyncEngine) -> None:
    # The same semantic search on a PostgreSQL that has pgvector (migration
    # 0012 creates the extension; `<=>` computes the distances).
    items = PostgresItems(pgvector_engine)
    assert await items.uses_pgvector()
    # pgvector keeps single-precision floats: scores agree to about 1e-7.
    await _check_semantic_ranking(items, rel_tol=1e-6)


async def test_without_pgvector_the_ranking_is_computed_in_sql(engine: AsyncEngine) -> None:
    # Debian's PostgreSQL has no pgvector: the other path (the tests above).
    assert not await PostgresItems(engine).uses_pgvector()
