"""The contract suite of assistant stores, which each store's tests run.

Subclass `AssistantStoreContract` and give it an `assistants` fixture that
yields a fresh store:

    class TestMyAssistants(AssistantStoreContract):
        @pytest.fixture
        async def assistants(self) -> AsyncIterator[AssistantStore]:
            yield MyAssistants()
"""

from __future__ import annotations

import uuid

import pytest

from graphmesh.assistants import (
    AssistantPatch,
    AssistantQuery,
    AssistantSpec,
    AssistantStore,
    default_assistant_id,
)
from graphmesh.errors import AlreadyExists, FailedPrecondition, NotFound

SPEC = AssistantSpec(
    graph_id="agent",
    name="Support bot",
    description="answers support questions",
    config={"configurable": {"model": "small"}, "tags": ["support"]},
    context={"user_id": "u-1"},
    metadata={"team": "support", "tier": 1},
)


def new_id() -> str:
    return str(uuid.uuid4())


class AssistantStoreContract:
    """What every `AssistantStore` does."""

    async def test_an_assistant_is_created_as_version_one_and_read_back(
        self, assistants: AssistantStore
    ) -> None:
        assistant_id = new_id()
        made, created = await assistants.create("t1", assistant_id, SPEC, if_exists_return=False)
        assert created and made.version == 1 and made.spec == SPEC and not made.shared
        got = await assistants.get("t1", assistant_id)
        assert (got.spec, got.version, got.created_at) == (SPEC, 1, made.created_at)

    async def test_an_id_in_use_is_refused_or_returned_as_it_is(
        self, assistants: AssistantStore
    ) -> None:
        assistant_id = new_id()
        await assistants.create("t1", assistant_id, SPEC, if_exists_return=False)
        other = AssistantSpec(graph_id="chain3", name="other")
        with pytest.raises(AlreadyExists) as refused:
            await assistants.create("t1", assistant_id, other, if_exists_return=False)
        assert refused.value.reason == "ASSISTANT_EXISTS"
        existing, created = await assistants.create(
            "t1", assistant_id, other, if_exists_return=True
        )
        assert not created and existing.spec == SPEC

    async def test_a_tenant_sees_only_its_own_assistants(self, assistants: AssistantStore) -> None:
        assistant_id = new_id()
        await assistants.create("t1", assistant_id, SPEC, if_exists_return=False)
        with pytest.raises(NotFound) as missing:
            await assistants.get("t2", assistant_id)
        assert missing.value.reason == "ASSISTANT_NOT_FOUND"
        with pytest.raises(NotFound):
            await assistants.update("t2", assistant_id, AssistantPatch(name="x"))
        with pytest.raises(NotFound):
            await assistants.delete("t2", assistant_id)
        assert await assistants.search("t2", AssistantQuery(graph_id="agent")) == []
        assert await assistants.count("t2", AssistantQuery()) == 0

    async def test_an_update_writes_the_next_version_from_the_latest(
        self, assistants: AssistantStore
    ) -> None:
        assistant_id = new_id()
        await assistants.create("t1", assistant_id, SPEC, if_exists_return=False)
        second = await assistants.update(
            "t1",
            assistant_id,
            AssistantPatch(config={"configurable": {"model": "large"}}, metadata={"tier": 2}),
        )
        assert second.version == 2
        assert second.spec.config == {"configurable": {"model": "large"}}  # replaced
        assert second.spec.metadata == {"team": "support", "tier": 2}  # merged
        assert (second.spec.name, second.spec.context) == (SPEC.name, SPEC.context)  # kept
        third = await assistants.update(
            "t1", assistant_id, AssistantPatch(context=None, has_context=True, name="renamed")
        )
        assert third.version == 3 and third.spec.context is None
        assert third.spec.name == "renamed"
        assert (await assistants.get("t1", assistant_id)).version == 3
        versions = await assistants.versions("t1", assistant_id, {}, 10)
        assert [v.version for v in versions] == [3, 2, 1]
        assert versions[2].spec == SPEC
        page = await assistants.versions("t1", assistant_id, {}, 1, before_version=3)
        assert [v.version for v in page] == [2]
        tiered = await assistants.versions("t1", assistant_id, {"tier": 2}, 10)
        assert [v.version for v in tiered] == [3, 2]

    async def test_an_earlier_version_can_be_made_the_latest(
        self, assistants: AssistantStore
    ) -> None:
        assistant_id = new_id()
        await assistants.create("t1", assistant_id, SPEC, if_exists_return=False)
        await assistants.update("t1", assistant_id, AssistantPatch(name="v2"))
        back = await assistants.set_latest("t1", assistant_id, 1)
        assert back.version == 1 and back.spec == SPEC
        assert (await assistants.get("t1", assistant_id)).spec.name == SPEC.name
        with pytest.raises(NotFound) as missing:
            await assistants.set_latest("t1", assistant_id, 7)
        assert missing.value.reason == "ASSISTANT_VERSION_NOT_FOUND"
        # The next update is numbered after every version written.
        after = await assistants.update("t1", assistant_id, AssistantPatch(name="v3"))
        assert after.version == 3

    async def test_a_deleted_assistant_is_gone_with_its_versions(
        self, assistants: AssistantStore
    ) -> None:
        assistant_id = new_id()
        await assistants.create("t1", assistant_id, SPEC, if_exists_return=False)
        await assistants.update("t1", assistant_id, AssistantPatch(name="v2"))
        await assistants.delete("t1", assistant_id)
        with pytest.raises(NotFound):
            await assistants.get("t1", assistant_id)
        with pytest.raises(NotFound):
            await assistants.versions("t1", assistant_id, {}, 10)
        with pytest.raises(NotFound):
            await assistants.delete("t1", assistant_id)
        # The id is free again.
        again, created = await assistants.create("t1", assistant_id, SPEC, if_exists_return=False)
        assert created and again.version == 1

    async def test_default_assistants_are_shared_and_cannot_be_changed(
        self, assistants: AssistantStore
    ) -> None:
        default = default_assistant_id("agent")
        spec = AssistantSpec(graph_id="agent", name="agent", metadata={"created_by": "system"})
        await assistants.ensure_defaults({default: spec})
        await assistants.ensure_defaults({default: spec})  # idempotent
        for tenant in ("t1", "t2"):
            got = await assistants.get(tenant, default)
            assert got.shared and got.version == 1 and got.spec == spec
        for change in (
            assistants.update("t1", default, AssistantPatch(name="mine")),
            assistants.delete("t1", default),
            assistants.set_latest("t1", default, 1),
        ):
            with pytest.raises(FailedPrecondition) as refused:
                await change
            assert refused.value.reason == "ASSISTANT_IS_DEFAULT"
        with pytest.raises(AlreadyExists):
            await assistants.create("t1", default, SPEC, if_exists_return=False)
        renamed = AssistantSpec(graph_id="agent", name="Agent", description="the agent")
        await assistants.ensure_defaults({default: renamed})
        got = await assistants.get("t1", default)
        assert (got.spec.name, got.spec.description) == ("Agent", "the agent")
        assert [v.version for v in await assistants.versions("t2", default, {}, 10)] == [1]

    async def test_search_filters_pages_newest_first_and_counts(
        self, assistants: AssistantStore
    ) -> None:
        default = default_assistant_id("agent")
        await assistants.ensure_defaults(
            {default: AssistantSpec(graph_id="agent", name="agent", metadata={"s": 1})}
        )
        made = []
        for i in range(5):
            spec = AssistantSpec(
                graph_id="agent" if i % 2 == 0 else "chain3",
                name=f"Bot {i} 100%" if i == 3 else f"Bot {i}",
                metadata={"team": "a" if i < 3 else "b", "i": i},
            )
            made.append((await assistants.create("t1", new_id(), spec, if_exists_return=False))[0])
        everything = await assistants.search("t1", AssistantQuery(limit=100))
        ids = [a.assistant_id for a in everything]
        assert set(ids) == {a.assistant_id for a in made} | {default}
        keys = [(a.created_at, a.assistant_id) for a in everything]
        assert keys == sorted(keys, reverse=True)
        agent = await assistants.search("t1", AssistantQuery(graph_id="agent", limit=100))
        assert {a.assistant_id for a in agent} == {
            made[0].assistant_id,
            made[2].assistant_id,
            made[4].assistant_id,
            default,
        }
        team_b = await assistants.search("t1", AssistantQuery(metadata={"team": "b"}, limit=100))
        assert {a.assistant_id for a in team_b} == {made[3].assistant_id, made[4].assistant_id}
        named = await assistants.search("t1", AssistantQuery(name="bot 1", limit=100))
        assert [a.assistant_id for a in named] == [made[1].assistant_id]
        percent = await assistants.search("t1", AssistantQuery(name="0%", limit=100))
        assert [a.assistant_id for a in percent] == [made[3].assistant_id]
        assert await assistants.count("t1", AssistantQuery()) == 6
        assert await assistants.count("t1", AssistantQuery(graph_id="chain3")) == 2
        assert await assistants.count("t2", AssistantQuery()) == 1  # the default one
        pages, before = [], None
        while True:
            page = await assistants.search("t1", AssistantQuery(limit=2, before=before))
            if not page:
                break
            pages.append([a.assistant_id for a in page])
            before = (page[-1].created_at, page[-1].assistant_id)
        assert [i for p in pages for i in p] == ids and len(pages) == 3
