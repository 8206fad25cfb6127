"""How far a run may get ahead of its durable log.

A run's events (its checkpoints and pending writes among them) are sent to
Kafka without waiting (durability "async"): the graph goes on while they
travel. What was sent but not yet acknowledged when the executor dies is
lost with it, and the nodes whose writes those were run again after the
takeover. Under load the queue of unacknowledged messages can grow without
bound (the producer drains each partition one request at a time), and with
it the window of completed work a crash throws away: the issue that asked
for this saw a node that had completed 0.9 s before a crash run again.

So a run does not start a node while a message it sent more than
`max_unacked` ago is still unacknowledged: it waits for the acknowledgement
first. Normally acknowledgements take milliseconds and nothing waits; when
the broker or the machine is slow, runs slow down instead of running ahead
of what is durable.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter

from graphmesh_executor.gates import NodeStartGate

BACKLOG_WAITS = Counter(
    "graphmesh_executor_backlog_waits",
    "Node starts held back until the run's older events were acknowledged by Kafka.",
)

#: A send: a future that resolves, once the message is queued by the
#: producer, to the future of its acknowledgement.
Send = asyncio.Future[asyncio.Future[Any]]


class SendBacklog:
    """A run's messages in the order sent, with when each was sent."""

    def __init__(self, max_unacked: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_unacked = max_unacked
        self._clock = clock
        self._pending: deque[tuple[float, Send]] = deque()

    def sent(self, send: Send) -> None:
        """Records a message just handed to the producer."""
        self._pending.append((self._clock(), send))

    def _drop_acknowledged(self) -> None:
        while self._pending:
            _, send = self._pending[0]
            if not (send.done() and not send.cancelled() and send.result().done()):
                return
            self._pending.popleft()

    def overdue(self) -> bool:
        """True if a message sent longer than `max_unacked` ago is not
        acknowledged yet."""
        self._drop_acknowledged()
        return bool(self._pending) and self._clock() - self._pending[0][0] > self._max_unacked

    async def catch_up(self) -> None:
        """Waits until no message is overdue (a failed send raises)."""
        while self.overdue():
            _, send = self._pending[0]
            await (await send)


class BacklogGuard(NodeStartGate):
    """Holds a node back while its run's log is more than `max_unacked`
    behind (see the module's docstring)."""

    def __init__(self, backlog: SendBacklog) -> None:
        self._backlog = backlog

    async def before_node(self) -> None:
        if self._backlog.overdue():
            BACKLOG_WAITS.inc()
            await self._backlog.catch_up()
