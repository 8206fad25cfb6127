"""What an executor can prove about its leases, and the guard that keeps a
run from starting a node while its lease is not proven.

A lease is proven until `lease_ms` after the executor *asked* for it (the
claim or renewal request that the store granted): the store set the lease's
end at least that late, on its own clock, so no other executor can have
claimed the run before then. Past that point the executor does not know:
it may have stalled (a pause, a long GC, a loaded machine) and another
executor may own the run as a newer attempt. Its events would be refused as
stale, but a node's side effects (an e-mail, a payment, a call to another
service) cannot be refused. So no node starts without proof: the guard,
called by LangGraph when a node starts, asks for a renewal at once and
waits for the store's answer. Held: the node starts. Lost: the run is
stopped before the node runs. While the store cannot be reached the run
waits; a node already running when the lease lapsed runs on to its end or
its next await (see docs/architecture.md for the window this leaves).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from prometheus_client import Counter

from graphmesh_executor.gates import NodeStartGate

LEASE_CHECKS = Counter(
    "graphmesh_executor_lease_checks",
    "Node starts that found their run's lease unproven and asked the store first.",
)


class LeaseBook:
    """When each of this executor's leases is proven until, on its
    monotonic clock."""

    def __init__(self, lease_ms: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._lease = lease_ms / 1000
        self._clock = clock
        self._until: dict[str, float] = {}
        self._round = asyncio.Event()

    def now(self) -> float:
        """The clock leases are measured on."""
        return self._clock()

    def granted(self, run_ids: Iterable[str], asked_at: float) -> None:
        """The store granted (claimed or renewed) these leases on a request
        sent at `asked_at`."""
        until = asked_at + self._lease
        for run_id in run_ids:
            self._until[run_id] = max(self._until.get(run_id, until), until)

    def forget(self, run_id: str) -> None:
        """The run is no longer this executor's."""
        self._until.pop(run_id, None)

    def proven(self, run_id: str) -> bool:
        """True while no other executor can have claimed the run."""
        return self._clock() < self._until.get(run_id, float("-inf"))

    def round_done(self) -> None:
        """A renewal round ended (granted, lost or failed): wakes waiters."""
        self._round.set()
        self._round = asyncio.Event()

    async def next_round(self) -> None:
        """Waits until the next renewal round ends."""
        await self._round.wait()


class LeaseGuard(NodeStartGate):
    """Holds a node back until the run's lease is proven. A lost lease
    cancels the run's task (the executor's renewal loop does that), which
    ends the wait here with CancelledError, so the node never starts."""

    def __init__(self, book: LeaseBook, run_id: str, renew_now: Callable[[], None]) -> None:
        self._book = book
        self._run_id = run_id
        self._renew_now = renew_now

    async def before_node(self) -> None:
        if self._book.proven(self._run_id):
            return
        LEASE_CHECKS.inc()
        while not self._book.proven(self._run_id):
            self._renew_now()
            await self._book.next_round()


class EndingRuns:
    """Runs whose graph has finished and whose last events the broker has
    acknowledged, but which the store may not have applied yet: the events
    wait in Kafka for the checkpoint service, which under load can be
    seconds behind. Their leases are renewed until the store has the run's
    end (a renewal then reports the lease as no longer held), for at most
    `hold_seconds`: were the lease let go at once, a lagging store could
    find it run out, hand the run to a new attempt, and refuse the finished
    attempt's events as stale once they arrive, so the whole run would run
    again. The bound covers a broker that lost acknowledged events (a
    memory-only broker restarted): the run is re-driven after it."""

    def __init__(self, hold_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._hold = hold_seconds
        self._clock = clock
        self._until: dict[str, float] = {}

    def add(self, run_id: str) -> None:
        """The run's end is acknowledged by the broker."""
        self._until[run_id] = self._clock() + self._hold

    def discard(self, run_id: str) -> None:
        """The store has the run's end (or a newer attempt owns the run)."""
        self._until.pop(run_id, None)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._until

    def held(self) -> list[str]:
        """The runs whose lease is still to be renewed; those held for
        `hold_seconds` already are let go."""
        now = self._clock()
        for run_id in [r for r, until in self._until.items() if until <= now]:
            del self._until[run_id]
        return list(self._until)
