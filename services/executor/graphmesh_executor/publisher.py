"""Sending one run attempt's events to Kafka.

- Events emitted in one turn of the event loop travel as one message (an
  `EventBatch`): fewer messages, no added latency.
- Each message is queued only after the previous one, so the run's events
  reach Kafka in seq order.
- Sends are not awaited one by one: `delivered` waits for every
  acknowledgement (at the run's end, and with durability "sync" after each
  checkpoint), and the run's `backlog` holds a node back while an older
  message is unacknowledged for too long (see `backlog`).
- `when_quiet` tells when every message is acknowledged: the run's message
  chunks wait for that and then travel as one event (see the runner).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
        #: Messages handed on and not yet acknowledged (or failed).
        self._unacknowledged = 0
        self._on_quiet: list[Callable[[], None]] = []
        #: How far the run is ahead of its acknowledged messages.
        self.backlog = SendBacklog(max_unacked)

    def when_quiet(self, callback: Callable[[], None]) -> bool:
        """False if every event emitted so far is acknowledged by Kafka (or
        its send failed); else True, and `callback` is called (once, from
        the event loop) when that becomes so."""
        if not self._buffer and not self._unacknowledged:
            return False
        self._on_quiet.append(callback)
        return True

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
        self._unacknowledged += 1
        send = asyncio.ensure_future(self._send_after(previous, value))
        self._sends.append(send)
        self.backlog.sent(send)

    async def _send_after(self, previous: Send | None, value: bytes) -> asyncio.Future[Any]:
        try:
            if previous is not None:
                await previous
            acknowledgement = await traced_send(self._producer, self._topic, value, self._key)
        except BaseException:
            self._settled()
            raise
        acknowledgement.add_done_callback(self._settled)
        return acknowledgement

    def _settled(self, _: object = None) -> None:
        """One message acknowledged (or failed)."""
        self._unacknowledged -= 1
        if self._unacknowledged or self._buffer or not self._on_quiet:
            return
        callbacks, self._on_quiet = self._on_quiet, []
        for callback in callbacks:
            callback()
