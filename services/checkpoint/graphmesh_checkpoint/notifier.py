"""Wakes watchers of a run when the event store commits events for it.

One LISTEN connection per process hears every committed append (NOTIFY is
transactional, so a notification means the events are visible). Watchers
re-read the store when woken; a notification lost while reconnecting is
covered by waking everyone after a reconnect and by the watchers' poll.
A watcher may ask to be woken only when its run ends.

What this process appends it hears at once, with the events, from the
store's `committed` hook: a `RunWatch` is handed the events its run just
stored, so following a run served by this process needs no read back. Its
own notifications, tagged with its `origin`, it then ignores.

The same connection hears cancellation requests ("executor run action") and
hands them to the executors watching for them, whichever checkpoint service
process the request was made on. Announcements of new runs tell those
executors that commands are coming (an idle executor's consumer fetches
nothing until told, see `graphmesh.kafka.FetchGate`), and tell this
process's own `expecting` hook that events will follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import structlog

from graphmesh.db import CANCELS_CHANNEL, EVENTS_CHANNEL, DatabaseSettings, connect_listener
from graphmesh.envelope import Event

log = structlog.get_logger(__name__)


#: An executor's notice: a run to stop (run id, action), or None: commands
#: are coming.
Notice = tuple[str, str] | None
#: At most one "commands are coming" notice per executor this often (an
#: executor told once keeps fetching for a while).
_COMMANDS_NOTICE_EVERY = 0.2


#: Events a RunWatch keeps for its watcher at most; past that it reads.
_WATCH_BUFFER = 1000


class RunWatch:
    """A watcher of one run's progress: `flag` is set when the run has new
    stored events; the events this process stored wait in `take`."""

    def __init__(self) -> None:
        self.flag = asyncio.Event()
        self._pending: list[Event] = []
        self._overflowed = False

    def hand(self, event: Event) -> None:
        if len(self._pending) >= _WATCH_BUFFER:
            self._pending.clear()
            self._overflowed = True
        elif not self._overflowed:
            self._pending.append(event)

    def take(self, after: int) -> list[Event] | None:
        """The events after seq `after` handed since the last take, if
        they follow it without a gap (None: read the store)."""
        pending, self._pending = self._pending, []
        overflowed, self._overflowed = self._overflowed, False
        fresh = [e for e in pending if e.seq > after]
        if overflowed or not fresh:
            return None
        for expected, event in enumerate(fresh, after + 1):
            if event.seq != expected:
                return None
        return fresh


class RunNotifier:
    """Run id -> waiting watchers; woken by the store's notifications."""

    def __init__(self, database: DatabaseSettings) -> None:
        self._database = database
        #: Tags this process's own notifications (see PostgresEventStore).
        self.origin = uuid.uuid4().hex[:12]
        self._progress: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._watches: dict[str, set[RunWatch]] = defaultdict(set)
        self._end: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._cancels: dict[str, set[asyncio.Queue[Notice]]] = defaultdict(set)
        self._commands_noticed = 0.0
        #: Called when a run was created anywhere: its events will follow.
        self.expecting: Callable[[], None] = lambda: None
        #: Terminal events this process stored for runs someone waits to end.
        self._ends: dict[str, Event] = {}
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None

    def subscribe(self, run_id: str, end_only: bool = False) -> asyncio.Event:
        """An event set whenever `run_id` gets new stored events (or, with
        `end_only`, when it ends)."""
        flag = asyncio.Event()
        (self._end if end_only else self._progress)[run_id].add(flag)
        return flag

    def watch(self, run_id: str) -> RunWatch:
        """A watch of `run_id`'s progress, handed the events this process
        stores for it (`unwatch` when done)."""
        watch = RunWatch()
        self._watches[run_id].add(watch)
        self._progress[run_id].add(watch.flag)
        return watch

    def unwatch(self, run_id: str, watch: RunWatch) -> None:
        """Stops `watch`."""
        watches = self._watches.get(run_id)
        if watches is not None:
            watches.discard(watch)
            if not watches:
                del self._watches[run_id]
        self.unsubscribe(run_id, watch.flag)

    def unsubscribe(self, run_id: str, flag: asyncio.Event) -> None:
        """Stops waking `flag`."""
        for registry in (self._progress, self._end):
            waiters = registry.get(run_id)
            if waiters is not None:
                waiters.discard(flag)
                if not waiters:
                    del registry[run_id]
        if run_id not in self._end:
            self._ends.pop(run_id, None)

    def ended(self, run_id: str) -> Event | None:
        """The terminal event of `run_id` if this process stored it while
        someone waited for the run's end (None: not known here)."""
        return self._ends.get(run_id)

    def committed(self, announced: list[str], appended: list[Event]) -> None:
        """Hears an append of this process as it commits: hands the events
        to their runs' watches, keeps the terminal events of runs waited
        for, then wakes the watchers."""
        for event in appended:
            for watch in self._watches.get(event.run_id, ()):
                watch.hand(event)
            if event.is_terminal and event.run_id in self._end:
                self._ends[event.run_id] = event
        self.wake(announced)

    def watch_cancels(self, executor_id: str) -> asyncio.Queue[Notice]:
        """A queue of (run_id, action) asked of runs `executor_id` holds,
        and of None when commands are coming."""
        queue: asyncio.Queue[Notice] = asyncio.Queue()
        self._cancels[executor_id].add(queue)
        return queue

    def unwatch_cancels(self, executor_id: str, queue: asyncio.Queue[Notice]) -> None:
        """Stops feeding `queue`."""
        queues = self._cancels.get(executor_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._cancels[executor_id]

    def _on_cancel(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        executor_id, _, rest = payload.partition(" ")
        run_id, _, action = rest.partition(" ")
        for queue in self._cancels.get(executor_id, ()):
            queue.put_nowait((run_id, action))

    def commands_coming(self) -> None:
        """Tells every executor watching here that run commands are on
        their way (at most every `_COMMANDS_NOTICE_EVERY` seconds)."""
        now = time.monotonic()
        if now - self._commands_noticed < _COMMANDS_NOTICE_EVERY:
            return
        self._commands_noticed = now
        for queues in self._cancels.values():
            for queue in queues:
                queue.put_nowait(None)

    def wake(self, announced: list[str]) -> None:
        """Wakes the watchers of announced runs ("id" progressed, "id!"
        ended, "id+" created: commands and then events are coming)."""
        created = False
        for item in announced:
            ended = item.endswith("!")
            born = item.endswith("+")
            created = created or born
            run_id = item[:-1] if ended or born else item
            for flag in self._progress.get(run_id, ()):
                flag.set()
            if ended:
                for flag in self._end.get(run_id, ()):
                    flag.set()
        if created:
            self.commands_coming()
            self.expecting()

    def wake_all(self) -> None:
        """Wakes every watcher and says that runs may have been created
        (after a reconnect, when notifications may be lost)."""
        self.expecting()
        self._commands_noticed = 0.0
        self.commands_coming()
        for registry in (self._progress, self._end):
            for waiters in registry.values():
                for flag in waiters:
                    flag.set()

    async def start(self) -> None:
        """Connects and starts listening (reconnecting on its own)."""
        await self._connect()
        self._task = asyncio.create_task(self._keep_connected())

    async def stop(self) -> None:
        """Stops listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        announced = payload.split(",")
        if announced[0].startswith("@"):
            if announced[0] == f"@{self.origin}":
                return  # this process's own: `committed` woke its watchers
            announced = announced[1:]
        self.wake(announced)

    async def _connect(self) -> None:
        self._conn = await connect_listener(self._database)
        await self._conn.add_listener(EVENTS_CHANNEL, self._on_notify)
        await self._conn.add_listener(CANCELS_CHANNEL, self._on_cancel)

    async def _keep_connected(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self._conn is not None and not self._conn.is_closed():
                continue
            try:
                await self._connect()
                log.info("listener_reconnected")
                self.wake_all()
            except Exception as exc:  # asyncpg raises many types while PostgreSQL is away
                log.warning("listener_reconnect_failed", error=str(exc))
