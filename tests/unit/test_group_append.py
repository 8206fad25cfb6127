"""Group commit of appends (graphmesh.eventstore.group)."""

from __future__ import annotations

import asyncio

import pytest

from graphmesh import envelope as ev
from graphmesh.eventstore import AppendOutcome
from graphmesh.eventstore.group import GroupAppender


def _event(run: str, seq: int = 1) -> ev.Event:
    return ev.new_event(run, f"t-{run}", seq, 0, ev.RUN_CREATED, "{}")


async def test_appends_asked_for_during_a_transaction_share_the_next_one() -> None:
    written: list[list[str]] = []
    release = asyncio.Event()

    async def write(events: list[ev.Event]) -> list[AppendOutcome]:
        written.append([e.run_id for e in events])
        if len(written) == 1:
            await release.wait()  # the first transaction is slow
        return [AppendOutcome.APPENDED if e.seq == 1 else AppendOutcome.DUPLICATE for e in events]

    group = GroupAppender(write)
    first = asyncio.create_task(group.append([_event("a")]))
    await asyncio.sleep(0)
    others = [asyncio.create_task(group.append([_event(r), _event(r, 2)])) for r in "bcd"]
    await asyncio.sleep(0.01)
    release.set()
    assert await first == [AppendOutcome.APPENDED]
    for task in others:
        assert await task == [AppendOutcome.APPENDED, AppendOutcome.DUPLICATE]
    # One transaction alone, then the three that waited, together and in order.
    assert written == [["a"], ["b", "b", "c", "c", "d", "d"]]


async def test_a_failing_caller_fails_nobody_else() -> None:
    calls = 0

    async def write(events: list[ev.Event]) -> list[AppendOutcome]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if any(e.run_id == "poison" for e in events):
            raise RuntimeError("the database refused it")
        return [AppendOutcome.APPENDED] * len(events)

    group = GroupAppender(write)
    blocker = asyncio.create_task(group.append([_event("first")]))
    await asyncio.sleep(0)
    good = asyncio.create_task(group.append([_event("good")]))
    bad = asyncio.create_task(group.append([_event("poison")]))
    assert await blocker == [AppendOutcome.APPENDED]
    assert await good == [AppendOutcome.APPENDED]
    with pytest.raises(RuntimeError):
        await bad
    assert calls == 4  # first, the shared one that failed, then each alone


async def test_nothing_to_append_writes_nothing() -> None:
    async def write(events: list[ev.Event]) -> list[AppendOutcome]:
        raise AssertionError("no transaction for no events")

    assert await GroupAppender(write).append([]) == []
