"""Kafka helpers: topic names, topic creation, producer and consumer set-up.

Delivery is at-least-once: consumers commit offsets by hand after the work is
durable, and every consumer is idempotent. Nothing here uses Kafka
transactions or the idempotent producer (the local broker does not support
them, and correctness never depends on them).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from graphmesh.errors import Unavailable

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
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
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
        bootstrap_servers=settings.bootstrap,
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
        bootstrap_servers=settings.bootstrap,
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
