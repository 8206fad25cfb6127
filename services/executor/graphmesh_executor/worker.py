"""The executor's loop: take run commands from Kafka, claim, run, emit.

- Runs of one thread run one after another, in the order they were submitted.
- A run is claimed from the checkpoint service before it starts; the claim
  gives the attempt number that fences off any earlier executor of the run.
- A Kafka offset is committed only when every run before it in its
  partition has emitted its terminal event and Kafka has acknowledged it.
- Leases on running runs are renewed, and on finished runs until the store
  has their end; a run whose lease was lost (taken over after this process
  stalled) is stopped, and no node starts while its run's lease is not
  proven (see `leases`).
- Cancellation requests arrive at once on a WatchCancellations stream (lease
  renewals carry them too, should the stream be down): the run's task is
  cancelled, which stops a node even while it awaits I/O.
- Concurrent runs are bounded per executor and per graph; runs beyond the
  limits wait in Kafka (the consumer stops fetching while too much is taken).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict
from typing import Any, cast

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from langgraph.store.base import BaseStore
from langgraph.types import RetryPolicy
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind

from graphmesh import envelope as ev
from graphmesh import tracing
from graphmesh.checkpoints.reader import CheckpointReader, PrimedCheckpoints
from graphmesh.envelope import Event
from graphmesh.errors import GraphmeshError
from graphmesh.eventstore import ClaimOutcome
from graphmesh.eventstore.remote import RemoteEventStore
from graphmesh.kafka import EXECUTOR_GROUP, FetchGate, KafkaSettings, OffsetCommitter
from graphmesh.registry import GraphRegistry
from graphmesh.run_created import RunCreated
from graphmesh.store import ItemStore
from graphmesh.store.langgraph import GraphmeshStore
from graphmesh.tenancy import tenant_of_thread
from graphmesh_executor.backlog import BacklogGuard
from graphmesh_executor.leases import EndingRuns, LeaseBook, LeaseGuard
from graphmesh_executor.observe import (
    RUN_DURATION,
    RUNS,
    RUNS_HANDED_OVER,
    RUNS_IN_FLIGHT,
    NodeObserver,
    end_run_span,
)
from graphmesh_executor.progress import PartitionProgress, StartedAttempts
from graphmesh_executor.publisher import RunPublisher
from graphmesh_executor.runner import DEFAULT_MAX_EVENT_BYTES, RunContext, execute_run

log = structlog.get_logger(__name__)

_CLAIM_RETRY_MAX_SECONDS = 5.0
#: How many lease lengths a finished run's lease is held for at most while
#: its end is on its way to the store (see `leases.EndingRuns`).
_END_HOLD_LEASES = 4


class ExecutorWorker:
    """Consumes the runs topic and executes runs."""

    def __init__(
        self,
        executor_id: str,
        registry: GraphRegistry,
        kafka: KafkaSettings,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        store: RemoteEventStore,
        checkpoints: CheckpointReader,
        max_runs: int,
        lease_ms: int,
        graph_limits: dict[str, int] | None = None,
        retry_policy: RetryPolicy | None = None,
        shutdown_grace: float = 10.0,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        max_unacked_ms: int = 250,
        items: ItemStore | None = None,
    ) -> None:
        self._executor_id = executor_id
        self._registry = registry
        self._kafka = kafka
        self._consumer = consumer
        self._producer = producer
        self._store = store
        self._checkpoints = checkpoints
        self._max_runs = max_runs
        self._lease_ms = lease_ms
        self._slots = asyncio.Semaphore(max_runs)
        self._graph_slots = {g: asyncio.Semaphore(n) for g, n in (graph_limits or {}).items()}
        self._retry_policy = retry_policy
        self._shutdown_grace = shutdown_grace
        self._max_event_bytes = max_event_bytes
        self._max_unacked = max_unacked_ms / 1000
        #: The long-term memory store's items (None: runs get no store).
        self._items = items
        #: Set once the grace period is over: stopped runs are handed over.
        self._handing_over = False
        self._progress: dict[TopicPartition, PartitionProgress] = defaultdict(PartitionProgress)
        self._thread_tail: dict[str, asyncio.Task[None]] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._cancels: dict[str, str] = {}
        #: Runs whose graph is executing (a cancellation may stop them).
        self._stoppable: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._committed: dict[TopicPartition, int] = {}
        self._committer = OffsetCommitter(consumer)
        #: Idle, the consumer fetches nothing until runs are created.
        self._fetching = FetchGate(consumer, kafka.idle_after_ms / 1000, group=EXECUTOR_GROUP)
        self._leases = LeaseBook(lease_ms)
        self._ending = EndingRuns(_END_HOLD_LEASES * lease_ms / 1000)
        self._started = StartedAttempts()
        self._renew_soon = asyncio.Event()
        self.completed = 0

    @property
    def in_flight(self) -> int:
        """Messages taken and not done, over all partitions."""
        return sum(p.in_flight for p in self._progress.values())

    @property
    def fetching_paused(self) -> bool:
        """True while idle: the consumer fetches nothing (see FetchGate)."""
        return self._fetching.paused

    async def run(self, stop: asyncio.Event) -> None:
        """Works until `stop` is set, then lets in-flight runs finish."""
        renewer = asyncio.create_task(self._renew_leases(stop))
        watcher = asyncio.create_task(self._watch_cancellations())
        gate = asyncio.create_task(self._fetching.run(stop))
        while not stop.is_set():
            if self.in_flight >= self._max_runs * 2:
                await asyncio.sleep(0.005)
                self._commit()
                continue
            try:
                batch = await self._consumer.getmany(timeout_ms=500, max_records=self._max_runs)
            except KafkaError as exc:
                log.warning("consume_failed", error=str(exc))
                await asyncio.sleep(0.5)
                continue
            if batch:
                self._fetching.active()
            for tp, messages in batch.items():
                for message in messages:
                    self._progress[tp].take(message.offset)
                    self._start(tp, message)
            self._commit()
        if self._tasks:
            _, unfinished = await asyncio.wait(self._tasks, timeout=self._shutdown_grace)
            if unfinished:
                await self._hand_over(unfinished)
        self._commit()
        await self._committer.flush()
        for helper in (renewer, watcher, gate):
            helper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await helper

    async def _hand_over(self, unfinished: set[asyncio.Task[None]]) -> None:
        """Stops the runs still going after the grace period without ending
        them: their offsets stay uncommitted and their leases are released,
        so the executor that takes the partition over runs them again from
        their last checkpoint."""
        running = list(self._running)
        log.warning("handing_over_runs", runs=running, waiting=len(unfinished) - len(running))
        self._handing_over = True
        for task in unfinished:
            task.cancel()
        await asyncio.wait(unfinished)
        await self._producer.flush()  # what they emitted reaches the store first
        RUNS_HANDED_OVER.inc(len(running))
        if running:
            try:
                await self._store.renew_leases(self._executor_id, running, 0)
            except GraphmeshError as exc:
                log.warning("lease_release_failed", error=str(exc))

    def _start(self, tp: TopicPartition, message: ConsumerRecord) -> None:
        try:
            created = ev.decode(message.value)
        except ValueError as exc:
            log.error("undecodable_command", offset=message.offset, error=str(exc))
            self._progress[tp].done(message.offset)
            return
        if created.type != ev.RUN_CREATED:
            log.error("unexpected_command", type=created.type, run_id=created.run_id)
            self._progress[tp].done(message.offset)
            return
        previous = self._thread_tail.get(created.thread_id)
        parent = tracing.context_from_headers(message.headers)
        task = asyncio.create_task(self._handle(tp, message.offset, created, previous, parent))
        self._thread_tail[created.thread_id] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(
        self,
        tp: TopicPartition,
        offset: int,
        created: Event,
        previous: asyncio.Task[None] | None,
        parent: Context,
    ) -> None:
        # This task's own log context: every line logged for the run has its ids.
        structlog.contextvars.bind_contextvars(run_id=created.run_id, thread_id=created.thread_id)
        try:
            if previous is not None:
                await asyncio.wait([previous])
            # The graph's slot first: a run waiting for it holds no executor slot.
            async with self._graph_slot(_graph_id(created)), self._slots:
                if created.run_id in self._running:
                    return  # a duplicate delivery of a run this process is running
                await self._claim_and_run(created, parent)
            self._progress[tp].done(offset)
        except asyncio.CancelledError:
            if self._handing_over:
                log.info("run_handed_over")
                return  # not done: re-delivered to the partition's next owner
            # Only a lost lease cancels a run (shutdown waits for runs): a
            # newer attempt owns the run now, so this message is finished.
            log.warning("run_stopped_lease_lost")
            self._progress[tp].done(offset)
        except Exception:
            # Not marked done: the offset stays uncommitted, and the run is
            # re-delivered to whichever executor owns the partition next.
            log.exception("run_handling_failed")
        finally:
            if self._thread_tail.get(created.thread_id) is asyncio.current_task():
                del self._thread_tail[created.thread_id]

    async def _claim_and_run(self, created: Event, parent: Context) -> None:
        delay = 0.1
        busy_delay = 0.01
        while True:
            asked_at = self._leases.now()
            try:
                claim = await self._store.claim(created.run_id, self._executor_id, self._lease_ms)
            except GraphmeshError as exc:
                log.warning("claim_failed_retrying", error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, _CLAIM_RETRY_MAX_SECONDS)
                continue
            outcome = claim.outcome
            if outcome is ClaimOutcome.CLAIMED:
                if not self._started.start(created.run_id, claim.attempt):
                    # This process ran this attempt already (the store still
                    # says it holds the lease: its end is on its way there).
                    log.info("duplicate_command_skipped", attempt=claim.attempt)
                    return
                self._leases.granted([created.run_id], asked_at)
                if claim.cancel_action:
                    self._cancels[created.run_id] = claim.cancel_action
                checkpoints = self._checkpoints
                if claim.latest_checkpoint is not None:
                    checkpoints = PrimedCheckpoints(
                        checkpoints, created.thread_id, claim.latest_checkpoint.stored
                    )
                await self._run(created, claim.attempt, claim.last_seq, parent, checkpoints)
                return
            if outcome in (ClaimOutcome.ALREADY_ENDED, ClaimOutcome.ATTEMPTS_EXHAUSTED):
                return
            if outcome is ClaimOutcome.UNKNOWN_RUN:
                # The command is the RunCreated event itself: store it, then claim.
                await self._store.append([created])
                continue
            wait = min(claim.retry_after_ms / 1000, _CLAIM_RETRY_MAX_SECONDS)
            if outcome is ClaimOutcome.THREAD_BUSY:
                # The thread's previous run usually ends within moments (its
                # last events are on their way to the store): look again soon.
                wait, busy_delay = min(wait, busy_delay), min(busy_delay * 2, 1.0)
            await asyncio.sleep(wait)

    async def _run(
        self,
        created: Event,
        attempt: int,
        last_seq: int,
        parent: Context,
        checkpoints: CheckpointReader,
    ) -> None:
        graph_id = _graph_id(created)
        publisher = RunPublisher(
            self._producer, self._kafka.events_topic, created.thread_id.encode(), self._max_unacked
        )

        run_id = created.run_id
        self._running[run_id] = asyncio.current_task()  # type: ignore[assignment]
        self._ending.discard(run_id)  # a newer attempt of a run ended here before
        started = time.perf_counter()
        RUNS_IN_FLIGHT.inc()
        with tracing.tracer.start_as_current_span(
            f"run {graph_id}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={
                **tracing.messaging_attributes(self._kafka.runs_topic),
                "graphmesh.run_id": run_id,
                "graphmesh.thread_id": created.thread_id,
                "graphmesh.graph_id": graph_id,
                "graphmesh.attempt": attempt,
                "graphmesh.executor_id": self._executor_id,
            },
        ) as span:
            observer = NodeObserver(graph_id, span, attempt)
            outcome = "Handover"
            try:
                entry = self._registry.get(graph_id) if graph_id in self._registry else None
                context = RunContext(
                    created=created,
                    attempt=attempt,
                    last_seq=last_seq,
                    executor_id=self._executor_id,
                    emit=publisher.emit,
                    delivered=publisher.delivered,
                    checkpoints=checkpoints,
                    cancel_action=lambda: self._cancels.get(run_id, ""),
                    retry_policy=self._retry_policy,
                    max_event_bytes=self._max_event_bytes,
                    callbacks=(
                        LeaseGuard(self._leases, run_id, self._renew_soon.set),
                        BacklogGuard(publisher.backlog),
                        observer,
                    ),
                    store=self._store_for(created),
                    when_quiet=publisher.when_quiet,
                )
                self._stoppable.add(run_id)
                try:
                    terminal = await execute_run(entry.graph if entry else None, context)
                finally:
                    self._stoppable.discard(run_id)
                outcome = terminal.type
                end_run_span(span, outcome, json.loads(terminal.payload_json).get("error"))
                log.debug("run_finished", type=terminal.type, attempt=attempt)
                await publisher.delivered()
                self._ending.add(run_id)
                self.completed += 1
                RUNS.labels(graph_id, outcome).inc()
                RUN_DURATION.labels(graph_id, outcome).observe(time.perf_counter() - started)
            finally:
                observer.close("cancelled" if outcome == "RunCancelled" else "stopped")
                span.set_attribute("graphmesh.outcome", outcome)
                RUNS_IN_FLIGHT.dec()
                self._running.pop(run_id, None)
                self._leases.forget(run_id)
                self._cancels.pop(run_id, None)

    def _store_for(self, created: Event) -> BaseStore | None:
        """The store a run's graph gets: its tenant's items."""
        if self._items is None:
            return None
        settings = self._registry.store
        return GraphmeshStore(
            self._items,
            tenant_of_thread(created.thread_id),
            index=cast(Any, settings.index),
            ttl=cast(Any, settings.ttl),
        )

    def _commit(self) -> None:
        offsets = {}
        for tp, progress in self._progress.items():
            offset = progress.committable()
            if offset is not None and self._committed.get(tp) != offset:
                offsets[tp] = offset
        if offsets:
            self._committed.update(offsets)
            self._committer.commit(offsets)

    async def _renew_leases(self, stop: asyncio.Event) -> None:
        # Renewals also bring cancellation requests: at most a second apart.
        # A node that finds its lease unproven asks for a round at once.
        interval = min(self._lease_ms / 3000, 1.0)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._renew_soon.wait(), interval)
            self._renew_soon.clear()
            run_ids = list(dict.fromkeys([*self._running, *self._ending.held()]))
            if not run_ids:
                self._leases.round_done()
                continue
            asked_at = self._leases.now()
            try:
                renewal = await self._store.renew_leases(self._executor_id, run_ids, self._lease_ms)
            except Exception as exc:
                # The loop must outlive any failure: while it is down no node
                # of any run could prove its lease, and every run would stall.
                if isinstance(exc, GraphmeshError):
                    log.warning("lease_renewal_failed", error=str(exc))
                else:
                    log.exception("lease_renewal_error")
                self._leases.round_done()
                await asyncio.sleep(0.1)  # a node waiting for proof asks again at once
                continue
            took = self._leases.now() - asked_at
            if took > self._lease_ms / 3000:
                # Leases lapse when renewals take this long: say so, it is
                # the first thing to look at when runs are taken over.
                log.warning("lease_renewal_slow", seconds=round(took, 3), runs=len(run_ids))
            lost = set(renewal.lost)
            # (The book is for nodes about to start: only running runs.)
            running = [r for r in run_ids if r in self._running and r not in lost]
            self._leases.granted(running, asked_at)
            for run_id, action in renewal.cancels.items():
                self._cancel(run_id, action)
            for run_id in lost:
                self._leases.forget(run_id)
                self._ending.discard(run_id)
                task = self._running.get(run_id)
                # A run whose graph has finished only waits for Kafka's acks
                # of its last events; "lost" may just mean the store has
                # stored its end already. Only a run still executing stops.
                if task is not None and run_id in self._stoppable:
                    log.warning("lease_lost_stopping_run", run_id=run_id)
                    task.cancel()
            self._leases.round_done()

    def _graph_slot(self, graph_id: str) -> contextlib.AbstractAsyncContextManager[Any]:
        slot = self._graph_slots.get(graph_id)
        return slot if slot is not None else contextlib.nullcontext()

    def _cancel(self, run_id: str, action: str) -> None:
        """Stops a run this process is executing, if it is and was not
        stopped already; the run ends with RunCancelled{action}."""
        task = self._running.get(run_id)
        if task is None or run_id not in self._stoppable or run_id in self._cancels:
            return
        log.info("run_cancel_requested", run_id=run_id, action=action)
        self._cancels[run_id] = action
        task.cancel()

    async def _watch_cancellations(self) -> None:
        while True:
            # Notices may have been missed while the watch was down.
            self._fetching.active()
            try:
                async for notices in self._store.watch_cancellations(self._executor_id):
                    if notices.commands_coming:
                        self._fetching.active()
                    for run_id, action in notices.cancels.items():
                        self._cancel(run_id, action)
            except GraphmeshError as exc:
                log.debug("cancellation_watch_interrupted", error=str(exc))
            await asyncio.sleep(0.5)


def _graph_id(created: Event) -> str:
    return RunCreated.from_event(created).graph_id
