"""Running one graph run and turning what happens into events.

`execute_run` knows nothing of Kafka: it hands each event to the context's
`emit`, so it runs the same against an in-memory sink in unit tests. The
graph runs with an `EventLogSaver` whose checkpoint writes are events of
the run itself (numbered and fenced like every other), so that whatever
attempt takes the run over continues from the last stored checkpoint.

Chat-model tokens (the "messages" stream mode) come many a second from
every run at once. A token goes out as its own `MessageChunk` event when
the run has nothing unacknowledged on its way to Kafka; otherwise it
waits, with the tokens after it, until the run's messages are acknowledged,
and they then go as one `MessageChunks` event (see graphmesh.streams). On
an idle mesh every token travels alone and at once; under load a run's
tokens share events, so the cost of a token falls as the load grows,
instead of the delay growing without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel
from langgraph.store.base import BaseStore
from langgraph.types import Command, RetryPolicy

from graphmesh import envelope as ev
from graphmesh import streams
from graphmesh.checkpoints import events as cpe
from graphmesh.checkpoints.reader import CheckpointReader
from graphmesh.checkpoints.saver import EventLogSaver
from graphmesh.envelope import Event, new_event
from graphmesh.jsonutil import dumps, to_jsonable
from graphmesh.run_created import Durability, RunCreated
from graphmesh.tenancy import public_thread

Emit = Callable[[Event], None]


#: The largest event a run may emit by default (a checkpoint holds the
#: whole state): well under the producer's 8 MiB request limit.
DEFAULT_MAX_EVENT_BYTES = 4 << 20


class StateTooLarge(Exception):
    """A run's state (or one update or write of it) outgrew the limit: the
    run fails rather than store or send an event no consumer could take."""


class RunEmitter:
    """Numbers a run attempt's events from the store's last seq on, and
    refuses events larger than `max_event_bytes` (StateTooLarge)."""

    def __init__(
        self,
        created: Event,
        attempt: int,
        last_seq: int,
        emit: Emit,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        self._created = created
        self._attempt = attempt
        self._seq = last_seq
        self._emit = emit
        self._max_event_bytes = max_event_bytes

    def __call__(self, type_: str, payload: Any) -> Event:
        return self.emit_text(type_, dumps(payload))

    def size(self, type_: str, text: str) -> int:
        """The size of a payload's text in bytes; StateTooLarge over the limit."""
        # UTF-8 takes at most 4 bytes a character: most events need no count.
        size = len(text) if len(text) * 4 <= self._max_event_bytes else len(text.encode())
        if size > self._max_event_bytes:
            raise StateTooLarge(
                f"a {type_} event of {size} bytes is over the limit of"
                f" {self._max_event_bytes} bytes (GRAPHMESH_MAX_STATE_BYTES)"
            )
        return size

    @property
    def max_event_bytes(self) -> int:
        return self._max_event_bytes

    def emit_text(self, type_: str, text: str) -> Event:
        """Emits an event whose payload is the JSON text `text`."""
        self.size(type_, text)
        self._seq += 1
        event = new_event(
            self._created.run_id, self._created.thread_id, self._seq, self._attempt, type_, text
        )
        self._emit(event)
        return event


class RunSink:
    """The saver's sink inside a run: checkpoint events join the run's own
    stream. With durability "sync", a checkpoint is acknowledged by Kafka
    (acks=all) before the graph goes on."""

    def __init__(
        self,
        out: RunEmitter,
        created: Event,
        delivered: Callable[[], Awaitable[None]],
        sync: bool,
    ) -> None:
        self._out = out
        self._created = created
        self._delivered = delivered
        self._sync = sync
        self._last_seq = 0

    @property
    def run_id(self) -> str:
        return self._created.run_id

    async def save(self, thread_id: str, type_: str, payload: dict[str, Any]) -> None:
        if thread_id != self._created.thread_id:
            raise ValueError(
                f"a run writes checkpoints of its own thread {self._created.thread_id!r} only"
            )
        self._last_seq = self._out(type_, payload).seq
        if self._sync and type_ == cpe.CHECKPOINT_SAVED:
            await self._delivered()

    def read_after(self) -> tuple[str, int]:
        return (self._created.run_id, self._last_seq) if self._last_seq else ("", 0)


@dataclass(frozen=True, slots=True)
class RunContext:
    """What one attempt of a run is given by the executor."""

    created: Event
    attempt: int
    last_seq: int
    executor_id: str
    emit: Emit
    #: Waits until every event emitted so far is acknowledged by Kafka.
    delivered: Callable[[], Awaitable[None]]
    checkpoints: CheckpointReader
    #: The cancel action asked for this run ("interrupt"/"rollback"), if any.
    cancel_action: Callable[[], str]
    #: The retry policy for nodes of graphs that set none (None: no retries).
    retry_policy: RetryPolicy | None = None
    #: The largest event (checkpoint, write, update) the run may emit.
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    #: LangChain callback handlers for the run (the node observer).
    callbacks: tuple[Any, ...] = ()
    #: The long-term memory store the graph gets (None: the graph's own).
    store: BaseStore | None = None
    #: False if every event emitted so far is acknowledged; else True, and
    #: the callback is called once they are (see RunPublisher.when_quiet).
    #: The default never waits: each message chunk is an event of its own.
    when_quiet: Callable[[Callable[[], None]], bool] = lambda _: False


def interrupt_payloads(interrupts: Any) -> list[dict[str, Any]]:
    """LangGraph interrupts as JSON-ready dicts."""
    return [
        {"id": str(getattr(i, "id", "")), "value": to_jsonable(getattr(i, "value", i))}
        for i in interrupts
    ]


async def execute_run(graph: Pregel[Any] | None, ctx: RunContext) -> Event:
    """Runs the graph for the run that `ctx.created` (its RunCreated event)
    made, emitting RunStarted, the events of the stream modes the run
    records, checkpoints and one terminal event, which it returns. `graph` is None when it is not
    registered here."""
    created = ctx.created
    out = RunEmitter(created, ctx.attempt, ctx.last_seq, ctx.emit, ctx.max_event_bytes)
    options = RunCreated.from_event(created)
    if action := ctx.cancel_action():
        # Cancelled (multitask interrupt/rollback) before it could start.
        return out(ev.RUN_CANCELLED, {"action": action, "started": False})
    out(ev.RUN_STARTED, {"executor_id": ctx.executor_id, "attempt": ctx.attempt})
    if graph is None:
        # The gateway checked the graph exists; this executor's registry
        # differs (a deployment mismatch). Fail the run rather than lose it.
        message = f"graph {options.graph_id!r} is not registered on executor {ctx.executor_id}"
        return out(ev.RUN_FAILED, {"error": {"type": "GraphNotFound", "message": message}})
    sink = RunSink(out, created, ctx.delivered, sync=options.durability is Durability.SYNC)
    saver = EventLogSaver(ctx.checkpoints, sink)
    update: dict[str, Any] = {"checkpointer": saver}
    if ctx.store is not None:
        update["store"] = ctx.store
    if ctx.retry_policy is not None and not graph.retry_policy:
        update["retry_policy"] = (ctx.retry_policy,)
    runnable = graph.copy(update=update)
    config = run_config(created, options)
    configurable = config["configurable"]
    if ctx.callbacks:
        config["callbacks"] = list(ctx.callbacks)
    recorder = _StreamRecorder(out, options, ctx.when_quiet)
    limit = asyncio.timeout(options.timeout_seconds or None)
    try:
        continuing = await _continues_own_checkpoint(ctx)
        graph_input = None if continuing else _graph_input(options, configurable)
        # (An attempt continuing its own checkpoint was judged when the run started.)
        if not continuing and (
            refusal := await _precondition_refusal(runnable, config, graph_input)
        ):
            return out(ev.RUN_FAILED, {"error": refusal})
        async with limit:
            arguments: dict[str, Any] = {
                "stream_mode": recorder.modes,
                "subgraphs": recorder.subgraphs,
                "durability": options.durability.value,
                "context": options.context,
                "interrupt_before": _breakpoints(options.interrupt_before),
                "interrupt_after": _breakpoints(options.interrupt_after),
            }
            if recorder.records_events:
                # As LangGraph Server: the run's stream items are the root
                # graph's own `on_chain_stream` events, the rest are events.
                async for event in runnable.astream_events(
                    graph_input, config, version="v2", **arguments
                ):
                    recorder.record_run_event(event)
            else:
                async for item in runnable.astream(graph_input, config, **arguments):
                    recorder.record(item)
            recorder.flush()
    except asyncio.CancelledError:
        action = ctx.cancel_action()
        if not action:
            raise  # not a cancellation of the run: the executor is losing it
        recorder.flush_what_fits()
        return out(ev.RUN_CANCELLED, {"action": action, "started": True})
    except TimeoutError as exc:
        recorder.flush_what_fits()
        if not limit.expired():
            return out(ev.RUN_FAILED, {"error": _error(exc)})
        message = f"the run took longer than its timeout of {options.timeout_seconds:g} s"
        return out(
            ev.RUN_TIMED_OUT,
            {
                "error": {"type": "RunTimeout", "message": message},
                "timeout_seconds": options.timeout_seconds,
            },
        )
    except Exception as exc:
        recorder.flush_what_fits()
        return out(ev.RUN_FAILED, {"error": _error(exc)})
    if recorder.paused:
        # At an interrupt, or at a breakpoint (no interrupt value: the
        # thread's state names the next nodes; a run with no input goes on).
        payload = {"interrupts": recorder.interrupts, "output": recorder.values}
        return out(ev.RUN_INTERRUPTED, payload)
    return out(ev.RUN_SUCCEEDED, {"output": recorder.values})


class Precondition(enum.StrEnum):
    """Why a run refused to start: what its request took for granted when
    it was submitted no longer holds (a run queued before it changed the
    thread). The run ends FAILED with the reason as its error type."""

    NO_PENDING_INTERRUPT = "NO_PENDING_INTERRUPT"
    CHECKPOINT_NOT_FOUND = "CHECKPOINT_NOT_FOUND"


async def _precondition_refusal(
    runnable: Pregel[Any], config: RunnableConfig, graph_input: Any
) -> dict[str, str] | None:
    """Judges the run's preconditions against the thread as it is now. The
    gateway judged them at submission already, but a run queued before this
    one may have answered the same interrupt or removed the checkpoint since.
    Here they cannot race: a thread runs one run at a time, so nothing
    changes the thread between this check and the run."""
    saver = runnable.checkpointer
    assert isinstance(saver, EventLogSaver)
    thread = public_thread(config["configurable"]["thread_id"])
    checkpoint_id = config["configurable"].get("checkpoint_id")
    if checkpoint_id and await saver.aget_tuple(config) is None:
        return {
            "type": Precondition.CHECKPOINT_NOT_FOUND,
            "message": f"thread {thread} has no checkpoint {checkpoint_id} any more",
        }
    if isinstance(graph_input, Command) and graph_input.resume is not None:
        state = await runnable.aget_state(config)
        if not state.interrupts:
            return {
                "type": Precondition.NO_PENDING_INTERRUPT,
                "message": (
                    f"thread {thread} has no pending interrupt when the run starts"
                    " (another run answered it first): the resume value was not used"
                ),
            }
    return None


def _breakpoints(nodes: tuple[str, ...]) -> Any:
    """A run's breakpoints as `astream` takes them (None: the graph's own)."""
    if not nodes:
        return None
    return "*" if nodes == ("*",) else list(nodes)


def run_config(created: Event, options: RunCreated) -> RunnableConfig:
    """The LangGraph config a run's graph gets: the caller's (checked by the
    gateway: `configurable`, `tags`, `metadata`, `recursion_limit`,
    `max_concurrency`) with what graphmesh sets for the run (the thread, the
    run id, and `run_id` / `graph_id` in the metadata, as LangGraph Server
    does), on every attempt alike."""
    given = options.config
    config: RunnableConfig = {
        "configurable": {**given.get("configurable", {}), "thread_id": created.thread_id},
        "run_id": uuid.UUID(created.run_id),
        "metadata": {
            **given.get("metadata", {}),
            "run_id": created.run_id,
            "graph_id": options.graph_id,
        },
    }
    if "tags" in given:
        config["tags"] = list(given["tags"])
    if "recursion_limit" in given:
        config["recursion_limit"] = int(given["recursion_limit"])
    if "max_concurrency" in given:
        config["max_concurrency"] = int(given["max_concurrency"])
    return config


def _error(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc)}


class _StreamRecorder:
    """Turns what `astream` yields into the run's events, for the stream
    modes the run records. It always streams "values" and "updates" of the
    root graph too: they give the run's output and its interrupts. Message
    chunks wait while the run's events are unacknowledged, and then go
    together (see the module's docstring); anything else the recorder
    emits, and the run's end, first sends the chunks waiting."""

    def __init__(
        self,
        out: RunEmitter,
        options: RunCreated,
        when_quiet: Callable[[Callable[[], None]], bool] = lambda _: False,
    ) -> None:
        self._out = out
        self._when_quiet = when_quiet
        #: Message chunks waiting (their JSON texts), their namespace, bytes.
        self._held: list[str] = []
        self._held_ns: tuple[str, ...] = ()
        self._held_bytes = 0
        #: A failure to emit waiting chunks from the loop's callback.
        self._failure: Exception | None = None
        self.recorded = frozenset(options.recorded_modes)
        #: The modes `astream` streams (`events` is not one of them).
        self.modes = sorted((self.recorded - {"events"}) | {"values", "updates"})
        self.records_events = "events" in self.recorded
        self.subgraphs = options.stream_subgraphs
        self.values: Any = None
        self.interrupts: list[dict[str, Any]] = []
        #: True once the root graph paused (interrupt or breakpoint).
        self.paused = False

    def record_run_event(self, event: Any) -> None:
        """One of LangChain's run events (`astream_events`): the root graph's
        stream items are recorded by their modes, the other events in the
        `events` mode (those LangChain hides from traces left out)."""
        if event.get("event") == "on_chain_stream" and not event.get("parent_ids"):
            self.record(event["data"]["chunk"])
            return
        if "langsmith:hidden" in (event.get("tags") or ()):
            return
        self.flush()
        text = dumps({"data": event})
        if len(text.encode()) > self._out.max_event_bytes:
            # Its inputs or outputs are too large to store: what it was stays.
            kept = {k: event.get(k) for k in ("event", "name", "run_id", "tags", "parent_ids")}
            text = dumps({"data": {**kept, "metadata": {}, "data": {"truncated": True}}})
        self._out.emit_text(ev.STREAM_EVENT, text)

    def record(self, item: Any) -> None:
        ns, mode, chunk = item if self.subgraphs else ((), *item)
        if not ns:
            if mode == "values":
                # The run's output is its state; its interrupts are reported
                # apart. The stream item stays as LangGraph yields it.
                self.values = _without_interrupts(chunk)
            elif mode == "updates" and "__interrupt__" in chunk:
                self.paused = True
                self.interrupts.extend(interrupt_payloads(chunk["__interrupt__"]))
        if mode not in self.recorded:
            return
        if mode == "messages":
            self._message(tuple(ns), dumps(chunk))
            return
        self.flush()
        where = {"ns": list(ns)} if ns else {}
        if mode == "updates":
            for node, update in cast(dict[str, Any], chunk).items():
                if node != "__interrupt__":
                    self._out(ev.NODE_UPDATED, {"node": node, "update": update, **where})
        else:
            self._out(streams.EVENT_TYPE_OF_MODE[mode], {"data": chunk, **where})

    def _message(self, ns: tuple[str, ...], item: str) -> None:
        """A messages-mode item (its JSON text): sent now, or held."""
        if self._held and ns != self._held_ns:
            self.flush()
        size = self._out.size(ev.MESSAGE_CHUNKS, item)
        if self._held and self._held_bytes + size > self._out.max_event_bytes // 2:
            self.flush()  # (keeps a waiting event well under the limit)
        if not self._held and not self._when_quiet(self._release):
            self._out.emit_text(ev.MESSAGE_CHUNK, _chunk_payload(item, ns))
            return
        self._held.append(item)
        self._held_ns = ns
        self._held_bytes += size

    def _release(self) -> None:
        """The run's events are acknowledged: the waiting chunks go."""
        try:
            self.flush()
        except Exception as exc:  # raised where the run goes on (record, flush)
            self._failure = exc

    def flush(self) -> None:
        """Emits the waiting message chunks: one MessageChunk event for one,
        one MessageChunks event for more."""
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure
        held, ns = self._held, self._held_ns
        if not held:
            return
        self._held, self._held_bytes = [], 0
        if len(held) == 1:
            self._out.emit_text(ev.MESSAGE_CHUNK, _chunk_payload(held[0], ns))
        else:
            self._out.emit_text(ev.MESSAGE_CHUNKS, _chunk_payload(f"[{','.join(held)}]", ns))

    def flush_what_fits(self) -> None:
        """`flush` at a run's end by failure or cancellation: chunks that
        cannot be stored are given up (the run ends all the same)."""
        with contextlib.suppress(StateTooLarge):
            self.flush()


def _chunk_payload(data: str, ns: tuple[str, ...]) -> str:
    """{"data": ..., "ns": [...]} from the data's JSON text."""
    return f'{{"data":{data},"ns":{dumps(list(ns))}}}' if ns else f'{{"data":{data}}}'


def _without_interrupts(values: Any) -> Any:
    if isinstance(values, dict) and "__interrupt__" in values:
        return {k: v for k, v in values.items() if k != "__interrupt__"}
    return values


async def _continues_own_checkpoint(ctx: RunContext) -> bool:
    """True when an earlier attempt of this run stored a checkpoint: the
    graph goes on from it (`astream(None)`), so nodes that completed are
    not run again."""
    if ctx.attempt <= 1:
        return False
    latest = await ctx.checkpoints.get(ctx.created.thread_id, "", "")
    return latest is not None and latest.run_id == ctx.created.run_id


def _graph_input(options: RunCreated, configurable: dict[str, Any]) -> Any:
    """What to give `astream` for a fresh start: the run's command or input.
    A fork starts from the run's chosen checkpoint."""
    if options.checkpoint_id:
        configurable["checkpoint_id"] = options.checkpoint_id
    command = options.command
    if command is not None:
        return Command(
            resume=command.resume if command.has_resume else None,
            goto=command.goto,
            update=command.update,
        )
    return options.input
