"""Consumes executors' events from Kafka and appends them to the store.

Offsets are committed only after the batch's transaction has committed, so
a crash re-delivers the batch and the store's idempotency absorbs it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from opentelemetry.trace import SpanKind

from graphmesh import envelope, tracing
from graphmesh.envelope import Event
from graphmesh.errors import Unavailable
from graphmesh.eventstore import EventStore
from graphmesh.kafka import FetchGate, OffsetCommitter
from graphmesh_checkpoint.metrics import UNDECODABLE, count_outcomes

log = structlog.get_logger(__name__)


class EventIngestor:
    """The loop from the events topic into the event store."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        store: EventStore,
        batch_max: int,
        fetching: FetchGate | None = None,
    ) -> None:
        self._consumer = consumer
        self._store = store
        self._batch_max = batch_max
        self._fetching = fetching
        self._committer = OffsetCommitter(consumer)
        self.outcomes: Counter[str] = Counter()
        self.undecodable = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Ingests until `stop` is set."""
        while not stop.is_set():
            try:
                batch = await self._consumer.getmany(timeout_ms=1000, max_records=self._batch_max)
            except KafkaError as exc:
                log.warning("consume_failed", error=str(exc))
                await asyncio.sleep(0.5)
                continue
            if not batch:
                continue
            if self._fetching is not None:
                self._fetching.active()
            try:
                await self._append_until_stored(batch, stop)
            except Exception:
                # Not committed: the consumer is rewound to the batch's start
                # and it is tried again, loudly, rather than skipped.
                log.exception("ingest_batch_failed")
                for tp, messages in batch.items():
                    self._consumer.seek(tp, messages[0].offset)
                await asyncio.sleep(1.0)
        await self._committer.flush()

    async def _append_until_stored(self, batch: dict, stop: asyncio.Event) -> None:  # type: ignore[type-arg]
        with contextlib.ExitStack() as spans:
            events: list[Event] = []
            for messages in batch.values():
                for message in messages:
                    # A span per message, under the executor's publish span:
                    # the run's trace goes on here, and the projector's work
                    # goes on from the context stored with each event.
                    span = spans.enter_context(
                        tracing.tracer.start_as_current_span(
                            f"{message.topic} append",
                            context=tracing.context_from_headers(message.headers),
                            kind=SpanKind.CONSUMER,
                            attributes={
                                **tracing.messaging_attributes(message.topic),
                                "messaging.kafka.destination.partition": message.partition,
                                "messaging.kafka.message.offset": message.offset,
                            },
                        )
                    )
                    try:
                        decoded = envelope.decode_batch(message.value)
                    except ValueError as exc:
                        # A message that is not an event can never become one:
                        # count it and move past it rather than block the partition.
                        self.undecodable += 1
                        UNDECODABLE.inc()
                        tracing.record_error(span, exc)
                        log.error("undecodable_event", offset=message.offset, error=str(exc))
                        continue
                    trace_context = tracing.traceparent(span)
                    span.set_attribute("graphmesh.run_id", decoded[0].run_id)
                    span.set_attribute("graphmesh.events", len(decoded))
                    events.extend(e.traced(trace_context) for e in decoded)
            await self._append(batch, events, stop)

    async def _append(self, batch: dict, events: list[Event], stop: asyncio.Event) -> None:  # type: ignore[type-arg]
        delay = 0.2
        while True:
            try:
                outcomes = await self._store.append(events)
                break
            except Unavailable as exc:
                if stop.is_set():
                    return  # not committed: the batch is re-delivered after restart
                log.warning("append_failed_retrying", error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        count_outcomes(outcomes)
        for event, outcome in zip(events, outcomes, strict=True):
            self.outcomes[outcome.name] += 1
            if outcome.is_rejection:
                log.warning(
                    "event_rejected",
                    run_id=event.run_id,
                    seq=event.seq,
                    attempt=event.attempt,
                    reason=outcome.name,
                )
        self._committer.commit({tp: messages[-1].offset + 1 for tp, messages in batch.items()})
