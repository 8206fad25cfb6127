"""`graphmesh.kafka.FetchGate` against the local broker: an idle consumer
sends no fetch, data announced is fetched at once, data not announced is
fetched by the next probe, and a busy store keeps the consumer fetching."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from graphmesh.kafka import FetchGate, KafkaSettings, ensure_topics, make_consumer, make_producer
from graphmesh.testing.infra import procs
from graphmesh.testing.infra.broker import LocalBroker


@pytest.fixture(scope="module")
def broker() -> Iterator[LocalBroker]:
    with tempfile.TemporaryDirectory(prefix="graphmesh-gate-") as directory:
        running = LocalBroker(Path(directory), procs.free_port())
        running.start()
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture
async def kafka(broker: LocalBroker) -> AsyncIterator[KafkaSettings]:
    settings = KafkaSettings(
        broker.bootstrap,
        topic_prefix=f"gate{time.monotonic_ns()}",
        partitions=4,
        fetch_max_wait_ms=5,
    )
    await ensure_topics(settings)
    yield settings


@pytest.fixture
async def consumer(kafka: KafkaSettings) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = make_consumer(kafka, kafka.runs_topic, "gate-test")
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


@pytest.fixture
async def producer(kafka: KafkaSettings) -> AsyncIterator[AIOKafkaProducer]:
    producer = make_producer(kafka)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def _received(consumer: AIOKafkaConsumer, within: float) -> list[bytes]:
    """What the consumer returns within `within` seconds."""
    got: list[bytes] = []
    deadline = time.monotonic() + within
    while not got and time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=50)
        got = [m.value for messages in batch.values() for m in messages]
    return got


async def _until_paused(gate: FetchGate) -> None:
    for _ in range(200):
        if gate.paused:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the gate never paused the idle consumer")


async def test_an_idle_consumer_fetches_nothing_until_data_is_announced(
    kafka: KafkaSettings, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer
) -> None:
    assert await _received(consumer, 3) == []  # assigned, nothing there
    gate = FetchGate(consumer, idle_after=0.3, probe_every=60)
    stop = asyncio.Event()
    running = asyncio.create_task(gate.run(stop))
    try:
        await _until_paused(gate)
        assert consumer.paused() == consumer.assignment()
        await (await producer.send(kafka.runs_topic, b"one", key=b"k"))
        assert await _received(consumer, 1.0) == []  # paused: not fetched
        gate.active()  # announced
        assert await _received(consumer, 5) == [b"one"]
        assert not gate.paused and not consumer.paused()
    finally:
        stop.set()
        await running
    assert not consumer.paused()  # left fetching


async def test_data_nobody_announced_is_fetched_by_the_next_probe(
    kafka: KafkaSettings, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer
) -> None:
    assert await _received(consumer, 3) == []
    gate = FetchGate(consumer, idle_after=0.2, probe_every=0.5, probe_for=0.2)
    stop = asyncio.Event()
    running = asyncio.create_task(gate.run(stop))
    try:
        await _until_paused(gate)
        await (await producer.send(kafka.runs_topic, b"lost notice", key=b"k"))
        assert await _received(consumer, 10) == [b"lost notice"]
    finally:
        stop.set()
        await running


async def test_a_busy_store_keeps_the_consumer_fetching(consumer: AIOKafkaConsumer) -> None:
    assert await _received(consumer, 3) == []
    busy = True
    asked = 0

    async def still_busy() -> bool:
        nonlocal asked
        asked += 1
        return busy

    gate = FetchGate(consumer, idle_after=0.1, busy=still_busy, probe_every=60)
    stop = asyncio.Event()
    running = asyncio.create_task(gate.run(stop))
    try:
        await asyncio.sleep(1.0)
        assert asked >= 2 and not gate.paused
        busy = False
        await _until_paused(gate)
    finally:
        stop.set()
        await running


def test_a_gate_with_no_idle_time_never_pauses() -> None:
    assert not FetchGate(None, idle_after=0).enabled  # type: ignore[arg-type]
