"""Sending one run attempt's events to Kafka.

- Events emitted in one turn of the event loop travel as one message (an
  `EventBatch`): fewer messages, no added latency.
- Each message is queued only after the previous one, so the run's events
  reach Kafka in seq order.
- Sends are not awaited one by one: `delivered` waits for every
  acknowledgement (at the run's end, and with durability "sync" after each
  checkpoint), and the run's `backlog` holds a node back while an older
  message is unacknowledged for too long (see `backlog`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer

from graphmesh import envelope as ev
from graphmesh.envelope import Event
from graphmesh.kafka import traced_send
from graphmesh_executor.backlog import Send, SendBacklog


class RunPublisher:
    """The events topic as one run attempt sees it."""

    def __init__(
        self, producer: AIOKafkaProducer, topic: str, key: bytes, max_unacked: float
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._key = key
        self._buffer: list[Event] = []
        self._sends: list[Send] = []
        self._loop = asyncio.get_running_loop()
        #: How far the run is ahead of its acknowledged messages.
        self.backlog = SendBacklog(max_unacked)

    def emit(self, event: Event) -> None:
        """Queues an event; it leaves with the others of this loop turn."""
        if not self._buffer:
            self._loop.call_soon(self._flush)
        self._buffer.append(event)

    async def delivered(self) -> None:
        """Sends what is buffered and waits until Kafka acknowledged every
        message of the run (a failed send raises)."""
        self._flush()
        acknowledgements = await asyncio.gather(*self._sends)
        await asyncio.gather(*acknowledgements)

    def _flush(self) -> None:
        if not self._buffer:
            return
        previous = self._sends[-1] if self._sends else None
        value = ev.encode_batch(self._buffer)
        self._buffer.clear()
        send = asyncio.ensure_future(self._send_after(previous, value))
        self._sends.append(send)
        self.backlog.sent(send)

    async def _send_after(self, previous: Send | None, value: bytes) -> asyncio.Future[Any]:
        if previous is not None:
            await previous
        return await traced_send(self._producer, self._topic, value, self._key)
