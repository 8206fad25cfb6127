"""OffsetCommitter: commits in the background, spaced, the newest offsets;
and the lag gauge, which rests while its consumer does."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from aiokafka import TopicPartition

from graphmesh import kafka
from graphmesh.kafka import OffsetCommitter

TP = TopicPartition("events", 0)


class SlowConsumer:
    """Records each commit; a commit takes 5 ms."""

    def __init__(self) -> None:
        self.commits: list[tuple[float, dict[TopicPartition, int]]] = []

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        await asyncio.sleep(0.005)
        self.commits.append((time.monotonic(), dict(offsets)))


async def test_commits_are_spaced_and_end_at_the_newest_offset() -> None:
    consumer = SlowConsumer()
    committer = OffsetCommitter(consumer, every=0.05)  # type: ignore[arg-type]
    started = time.monotonic()
    for offset in range(1, 41):
        committer.commit({TP: offset})
        await asyncio.sleep(0.005)  # a batch every 5 ms, for 200 ms
    elapsed = time.monotonic() - started
    await asyncio.sleep(0.1)
    times = [t for t, _ in consumer.commits]
    assert consumer.commits[0][1] == {TP: 1}  # the first at once
    assert consumer.commits[-1][1] == {TP: 40}  # the newest, without a flush
    assert all(b - a >= 0.05 for a, b in itertools.pairwise(times))
    # Not one a batch: one per 50 ms of the batches' time, and the last.
    assert len(times) <= elapsed / 0.05 + 2


async def test_flush_commits_at_once() -> None:
    consumer = SlowConsumer()
    committer = OffsetCommitter(consumer, every=10.0)  # type: ignore[arg-type]
    committer.commit({TP: 1})
    await asyncio.sleep(0.01)
    committer.commit({TP: 2})
    started = time.monotonic()
    await committer.flush()
    assert time.monotonic() - started < 1.0
    assert [offsets for _, offsets in consumer.commits] == [{TP: 1}, {TP: 2}]


class LaggingConsumer:
    """One partition, 10 messages behind; counts the committed-offset asks."""

    def __init__(self) -> None:
        self.asked = 0

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def highwater(self, tp: TopicPartition) -> int:
        return 15

    async def committed(self, tp: TopicPartition) -> int:
        self.asked += 1
        return 5


async def test_the_lag_gauge_asks_nothing_while_the_consumer_is_paused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kafka, "LAG_REFRESH_SECONDS", 0.01)
    consumer, stop, paused = LaggingConsumer(), asyncio.Event(), [False]
    watching = asyncio.create_task(
        kafka.watch_consumer_lag(consumer, "g", stop, lambda: paused[0])  # type: ignore[arg-type]
    )
    await asyncio.sleep(0.1)
    assert consumer.asked >= 3
    assert kafka.CONSUMER_LAG.labels("g", "events", "0")._value.get() == 10
    paused[0] = True
    await asyncio.sleep(0.05)
    asked = consumer.asked  # (one last refresh once paused)
    await asyncio.sleep(0.1)
    assert consumer.asked == asked
    paused[0] = False
    await asyncio.sleep(0.1)
    assert consumer.asked > asked
    stop.set()
    await watching
