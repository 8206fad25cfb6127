"""Kafka helpers: topic names, topic creation, producer and consumer set-up.

Delivery is at-least-once: consumers commit offsets by hand after the work is
durable, and every consumer is idempotent. Nothing here uses Kafka
transactions or the idempotent producer (the local broker does not support
them, and correctness never depends on them).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from opentelemetry.trace import SpanKind
from prometheus_client import Gauge

from graphmesh import tracing
from graphmesh.errors import Unavailable

log = structlog.get_logger(__name__)

EXECUTOR_GROUP = "graphmesh-executor"
CHECKPOINT_GROUP = "graphmesh-checkpoint"


@dataclass(frozen=True, slots=True)
class KafkaSettings:
    """Where the brokers are and how the topics are laid out."""

    bootstrap: str
    topic_prefix: str = "graphmesh"
    partitions: int = 8
    replication: int = 1
    #: How long a fetch waits for data on the broker. Apache Kafka answers a
    #: waiting fetch as soon as data arrives; the local broker holds it for
    #: the whole wait, so the local stack sets this low.
    fetch_max_wait_ms: int = 100
    #: How long a consumer goes on fetching after data last came or was
    #: announced before it stops fetching (see FetchGate; 0: never stops).
    idle_after_ms: int = 5000
    #: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
    security_protocol: str = "PLAINTEXT"
    #: With SSL: the CA to trust (None: the system's) and a client
    #: certificate and key for mutual TLS.
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    #: With SASL: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, and the credentials.
    sasl_mechanism: str = "PLAIN"
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)

    def client_options(self) -> dict[str, Any]:
        """aiokafka's connection options: bootstrap servers, TLS and SASL."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if "SSL" in self.security_protocol:
            options["ssl_context"] = create_ssl_context(
                cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
            )
        if self.security_protocol.startswith("SASL"):
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return options

    @property
    def runs_topic(self) -> str:
        """Run commands (RunCreated), keyed by thread: executors consume it."""
        return f"{self.topic_prefix}.runs"

    @property
    def events_topic(self) -> str:
        """Run events from executors, keyed by thread: the checkpoint service
        consumes it."""
        return f"{self.topic_prefix}.events"


async def ensure_topics(settings: KafkaSettings, attempts: int = 30) -> None:
    """Creates the topics if they do not exist, retrying while the broker starts."""
    last: Exception | None = None
    for _ in range(attempts):
        admin = AIOKafkaAdminClient(**settings.client_options())
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            wanted = [
                NewTopic(name, settings.partitions, settings.replication)
                for name in (settings.runs_topic, settings.events_topic)
                if name not in existing
            ]
            if wanted:
                # Another service may create them first.
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(wanted)
            return
        except KafkaError as exc:
            last = exc
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    raise Unavailable(
        f"cannot create topics on {settings.bootstrap}: {last}", reason="BROKER_UNAVAILABLE"
    )


def make_producer(settings: KafkaSettings) -> AIOKafkaProducer:
    """A producer that waits for all in-sync replicas and batches briefly."""
    return AIOKafkaProducer(
        **settings.client_options(),
        acks="all",
        linger_ms=0,
        max_batch_size=1 << 20,
        max_request_size=8 << 20,
        request_timeout_ms=30000,
        enable_idempotence=False,
    )


def make_consumer(settings: KafkaSettings, topic: str, group: str) -> AIOKafkaConsumer:
    """A group consumer with manual commits, starting from the earliest
    uncommitted offset."""
    return AIOKafkaConsumer(
        topic,
        **settings.client_options(),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        max_partition_fetch_bytes=8 << 20,
        fetch_max_bytes=16 << 20,
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
        max_poll_interval_ms=300000,
    )


async def traced_send(
    producer: AIOKafkaProducer, topic: str, value: bytes, key: bytes
) -> asyncio.Future[Any]:
    """Sends a message in a producer span whose context travels in the
    message's headers; returns the delivery future, as `send` does."""
    with tracing.tracer.start_as_current_span(
        f"{topic} publish", kind=SpanKind.PRODUCER, attributes=tracing.messaging_attributes(topic)
    ):
        delivery: asyncio.Future[Any] = await producer.send(
            topic, value, key=key, headers=tracing.kafka_headers()
        )
        return delivery


CONSUMER_LAG = Gauge(
    "graphmesh_consumer_lag",
    "Messages in a partition after the group's committed offset (not yet done), "
    "for the partitions this process is assigned.",
    ["group", "topic", "partition"],
)
LAG_REFRESH_SECONDS = 5.0


async def watch_consumer_lag(
    consumer: AIOKafkaConsumer,
    group: str,
    stop: asyncio.Event,
    paused: Callable[[], bool] = lambda: False,
) -> None:
    """Keeps `graphmesh_consumer_lag` current for this consumer's partitions
    until `stop` is set (the high watermark from the last fetch minus the
    committed offset). While the consumer is `paused` (idle: it fetches and
    commits nothing, so neither figure moves) it asks the broker for
    nothing after one last refresh."""
    shown: set[TopicPartition] = set()
    refreshed_paused = False
    while not stop.is_set():
        if paused():
            if refreshed_paused:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), LAG_REFRESH_SECONDS)
                continue
            refreshed_paused = True
        else:
            refreshed_paused = False
        assigned = set(consumer.assignment())
        for tp in shown - assigned:
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(group, tp.topic, str(tp.partition))
        shown &= assigned
        for tp in assigned:
            try:
                high = consumer.highwater(tp)
                committed = await consumer.committed(tp)
            except (KafkaError, AssertionError) as exc:  # no longer assigned
                # Unknown for now (the group may be rebalancing).
                log.debug("lag_unknown", error=str(exc))
                continue
            if high is None:
                continue
            CONSUMER_LAG.labels(group, tp.topic, str(tp.partition)).set(
                max(high - (committed or 0), 0)
            )
            shown.add(tp)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), LAG_REFRESH_SECONDS)


class ConsumerJoin:
    """A consumer's start (joining its group: seconds, the broker's
    rebalance delay) in the background, so that a service serves its other
    work meanwhile and reports healthy without waiting for it; the loops
    that consume run `after` it."""

    def __init__(self, consumer: AIOKafkaConsumer, group: str) -> None:
        self._group = group
        self._started = time.monotonic()
        self._task = asyncio.create_task(consumer.start())

    async def after(self, stop: asyncio.Event, work: Callable[[], Awaitable[None]]) -> None:
        """Runs `work` once the consumer has joined, unless `stop` is set
        first (then nothing runs). A failed start raises here."""
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([self._task, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not self._task.done():
            return
        self._task.result()
        await work()

    async def joined(self, stop: asyncio.Event) -> None:
        """Logs when the consumer has joined (a supervised task: a failed
        start stops the service)."""

        async def log_it() -> None:
            log.info(
                "consumer_joined",
                group=self._group,
                seconds=round(time.monotonic() - self._started, 2),
            )

        await self.after(stop, log_it)

    async def cancel(self) -> None:
        """Stops a start still in progress (at shutdown)."""
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


class OffsetCommitter:
    """Commits consumer offsets in the background, one commit at a time.

    A consumer loop that awaited every commit would sit idle for a broker
    round trip per batch. Offsets given here are already safe to commit (the
    work before them is durable); a later commit covers an earlier one, so
    while a commit is in flight newer offsets are merged and sent next, and
    commits are at least `every` seconds apart: under load a commit covers
    many batches instead of costing a broker request each (a crash then
    re-delivers at most that much more work, which the work's idempotency
    absorbs, as it does for any batch not yet committed).
    """

    def __init__(self, consumer: AIOKafkaConsumer, every: float = 0.1) -> None:
        self._consumer = consumer
        self._every = every
        self._wanted: dict[TopicPartition, int] = {}
        self._task: asyncio.Task[None] | None = None
        #: Set to commit what is wanted now (flush), without the spacing.
        self._hurry = asyncio.Event()

    def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Schedules `offsets` (next offset to read, per partition) for commit."""
        for tp, offset in offsets.items():
            self._wanted[tp] = max(offset, self._wanted.get(tp, offset))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self._wanted:
            offsets, self._wanted = self._wanted, {}
            try:
                await self._consumer.commit(offsets)
            except KafkaError as exc:
                # After a rebalance the partition may belong to another
                # consumer; its work is durable, so a re-delivery is a no-op.
                log.warning("commit_failed", error=str(exc))
            if self._wanted and not self._hurry.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.wait(), self._every)

    async def flush(self) -> None:
        """Commits what is scheduled now and waits until every scheduled
        commit has been attempted."""
        self._hurry.set()
        try:
            while self._task is not None and not self._task.done():
                await self._task
        finally:
            self._hurry.clear()


CONSUMER_FETCHING = Gauge(
    "graphmesh_consumer_fetching",
    "1 while the consumer fetches, 0 while it is idle (paused until data is announced).",
    ["group"],
)


class FetchGate:
    """Stops a consumer from fetching while no data is expected, so that an
    idle service costs nothing: a broker that does not hold a fetch until
    data arrives (the local one) would otherwise be asked hundreds of times
    a second, and even Apache Kafka answers a fetch every `fetch_max_wait_ms`.

    `active()` says that data came or is known to be coming (a run was
    created, a claim was granted): the consumer fetches, and goes on for
    `idle_after` seconds after the last such call. Then, unless `busy()`
    says data may still come, its partitions are paused and no fetch is
    sent. While paused it fetches for `probe_for` seconds every
    `probe_every` seconds, so that a notice that was lost delays data by
    that much at most (notices are lost only while their channel
    reconnects, and a reconnect counts as a notice); nothing is lost either
    way (offsets are committed only after the work).
    """

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        idle_after: float,
        busy: Callable[[], Awaitable[bool]] | None = None,
        probe_every: float = 10.0,
        probe_for: float = 0.05,
        group: str = "",
    ) -> None:
        self._fetching = CONSUMER_FETCHING.labels(group or "consumer")
        self._fetching.set(1)
        self._consumer = consumer
        self._idle_after = idle_after
        self._busy = busy
        self._probe_every = probe_every
        self._probe_for = probe_for
        self._last_active = time.monotonic()
        self._woken = asyncio.Event()
        #: True while the consumer's partitions are paused by the gate.
        self.paused = False

    @property
    def enabled(self) -> bool:
        """False when `idle_after` is 0: the consumer always fetches."""
        return self._idle_after > 0

    def active(self) -> None:
        """Data came or is coming: fetch now and for `idle_after` seconds."""
        self._last_active = time.monotonic()
        if self.paused:
            self._resume()
            self._woken.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Pauses and resumes the consumer until `stop` is set. It fails
        open: whatever goes wrong, the consumer is left fetching."""
        if not self.enabled:
            return
        try:
            while not stop.is_set():
                try:
                    await self._turn(stop)
                except Exception:
                    log.exception("fetch_gate_failed")
                    self._resume()
                    self._last_active = time.monotonic()
                    await _wait(stop, 1.0)
        finally:
            self._resume()

    async def _turn(self, stop: asyncio.Event) -> None:
        if not self.paused:
            idle_for = time.monotonic() - self._last_active
            if idle_for < self._idle_after:
                await _wait(stop, self._idle_after - idle_for)
            elif await self._still_busy():
                self._last_active = time.monotonic()
            else:
                self._pause()
            return
        self._woken.clear()
        await _wait(self._woken, self._probe_every, stop)
        if self.paused:
            # A probe: fetch for a moment, then pause again unless data came.
            self._resume()
            self._last_active = time.monotonic() - self._idle_after + self._probe_for

    async def _still_busy(self) -> bool:
        if self._busy is None:
            return False
        try:
            return await self._busy()
        except Exception as exc:  # unknown: keep fetching
            log.debug("fetch_gate_busy_unknown", error=str(exc))
            return True

    def _pause(self) -> None:
        self.paused = True  # first: a failure halfway is resumed by the next notice
        self._fetching.set(0)
        self._consumer.pause(*self._consumer.assignment())

    def _resume(self) -> None:
        """Resumes every paused partition (never raises: a partition that
        cannot be resumed is logged and left to the next rebalance)."""
        self.paused = False
        self._fetching.set(1)
        for tp in self._consumer.paused():
            try:
                self._consumer.resume(tp)
            except Exception:  # an assignment changing under it
                log.exception("fetch_gate_resume_failed", partition=str(tp))


async def _wait(event: asyncio.Event, seconds: float, also: asyncio.Event | None = None) -> None:
    """Returns when `event` (or `also`) is set or `seconds` have passed."""
    waits = [asyncio.ensure_future(event.wait())]
    if also is not None:
        waits.append(asyncio.ensure_future(also.wait()))
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waits:
            waiter.cancel()
