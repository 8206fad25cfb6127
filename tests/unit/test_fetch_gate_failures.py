"""The fetch gate fails open: whatever goes wrong while it pauses, the
consumer is left fetching (a stuck pause would hold commands for ever)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aiokafka import TopicPartition

from graphmesh.kafka import FetchGate


class _Consumer:
    """Pauses half its partitions, then fails, as when its assignment
    changes under the call."""

    def __init__(self) -> None:
        self.partitions = {TopicPartition("t", 0), TopicPartition("t", 1)}
        self.held: set[TopicPartition] = set()
        self.pauses = 0

    def assignment(self) -> set[TopicPartition]:
        return set(self.partitions)

    def pause(self, *partitions: TopicPartition) -> None:
        self.pauses += 1
        self.held.add(sorted(partitions)[0])
        raise AssertionError("no current assignment")

    def paused(self) -> set[TopicPartition]:
        return set(self.held)

    def resume(self, *partitions: TopicPartition) -> None:
        self.held -= set(partitions)


async def test_a_pause_that_fails_halfway_leaves_the_consumer_fetching() -> None:
    consumer = _Consumer()
    gate = FetchGate(cast(Any, consumer), idle_after=0.05, probe_every=60)
    stop = asyncio.Event()
    running = asyncio.create_task(gate.run(stop))
    for _ in range(100):
        if consumer.pauses:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert consumer.pauses >= 1
    assert consumer.held == set() and not gate.paused  # resumed after the failure
    assert not running.done()  # and the gate goes on
    stop.set()
    await running
    assert consumer.held == set()
