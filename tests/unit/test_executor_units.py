"""The executor's offset bookkeeping and graph runner, without Kafka."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

from opentelemetry.context import Context

from graphmesh import envelope as ev
from graphmesh import streams
from graphmesh.checkpoints import events as cpe
from graphmesh.checkpoints.reader import MemoryCheckpoints, PrimedCheckpoints
from graphmesh.eventstore import AppendOutcome, ClaimOutcome
from graphmesh.eventstore.memory import MemoryEventStore
from graphmesh.kafka import KafkaSettings
from graphmesh.registry import DEFAULT_REGISTRY, load_registry
from graphmesh.run_created import Command, RunCreated
from graphmesh.runs import RunStatus, fold_all
from graphmesh_executor.backlog import BacklogGuard, SendBacklog
from graphmesh_executor.leases import EndingRuns, LeaseBook, LeaseGuard
from graphmesh_executor.progress import PartitionProgress, StartedAttempts
from graphmesh_executor.runner import RunContext, execute_run
from graphmesh_executor.worker import ExecutorWorker

REGISTRY = load_registry(DEFAULT_REGISTRY)


def test_offsets_commit_only_past_contiguous_done_work() -> None:
    progress = PartitionProgress()
    assert progress.committable() is None
    for offset in (10, 11, 12):
        progress.take(offset)
    progress.done(12)
    assert progress.committable() == 10  # 10 and 11 still running
    progress.done(10)
    assert progress.committable() == 11
    progress.done(11)
    assert progress.committable() == 13
    assert progress.in_flight == 0


def created(graph_id: str, value: object, options: dict[str, Any] | None = None) -> ev.Event:
    payload = RunCreated(graph_id, input=value, **(options or {}))
    return payload.to_event("00000000-0000-0000-0000-0000000000bb", "t-1")


async def run_graph(
    graph_id: str, value: object, options: dict[str, Any] | None = None
) -> list[ev.Event]:
    events = [created(graph_id, value, options)]
    entry = REGISTRY.get(graph_id) if graph_id in REGISTRY else None
    await execute_run(entry.graph if entry else None, first_attempt(events))
    return events


def first_attempt(events: list[ev.Event], **given: Any) -> RunContext:
    """A first attempt of the run `events[0]` created, emitting into `events`."""

    async def delivered() -> None:
        return None

    context: dict[str, Any] = {
        "created": events[0],
        "attempt": 1,
        "last_seq": 1,
        "executor_id": "ex-test",
        "emit": events.append,
        "delivered": delivered,
        # A thread with no checkpoint yet (the runner's only read on a first attempt).
        "checkpoints": MemoryCheckpoints(),
        "cancel_action": lambda: "",
    }
    return RunContext(**{**context, **given})


def progress_types(events: list[ev.Event]) -> list[str]:
    return [e.type for e in events if e.type not in cpe.INTERNAL_TYPES]


async def test_chain3_emits_each_node_and_the_final_state_gaplessly() -> None:
    events = await run_graph("chain3", {"n": 0, "trail": []})
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert progress_types(events) == [
        ev.RUN_CREATED,
        ev.RUN_STARTED,
        ev.NODE_UPDATED,
        ev.NODE_UPDATED,
        ev.NODE_UPDATED,
        ev.RUN_SUCCEEDED,
    ]
    nodes = [json.loads(e.payload_json)["node"] for e in events if e.type == ev.NODE_UPDATED]
    assert nodes == ["s0", "s1", "s2"]
    view = fold_all(events)
    assert view is not None and view.status is RunStatus.SUCCEEDED
    assert json.loads(view.output_json) == {"n": 3, "trail": ["s0", "s1", "s2"]}
    assert len({e.event_id for e in events}) == len(events)
    # Every step's checkpoint travelled in the run's own stream, before the end.
    saved = [e for e in events if e.type == cpe.CHECKPOINT_SAVED]
    assert len(saved) == 5  # input, s0, s1, s2 and the start step
    assert max(e.seq for e in saved) < events[-1].seq
    steps = [json.loads(e.payload_json)["metadata_json"]["step"] for e in saved]
    assert steps == [-1, 0, 1, 2, 3]


async def test_a_failing_node_ends_the_run_as_failed() -> None:
    events = await run_graph("chain3", {"trail": []})  # no "n": KeyError in s0
    assert events[-1].type == ev.RUN_FAILED
    assert json.loads(events[-1].payload_json)["error"]["type"] == "KeyError"


async def test_interrupt_ends_the_run_as_interrupted_with_its_payload() -> None:
    events = await run_graph("hitl", {"trail": []})
    assert events[-1].type == ev.RUN_INTERRUPTED
    payload = json.loads(events[-1].payload_json)
    assert payload["interrupts"][0]["value"] == {"question": "approve?", "trail": ["a"]}


async def test_unregistered_graph_fails_the_run_instead_of_losing_it() -> None:
    events = await run_graph("nope", {})
    assert progress_types(events[1:]) == [ev.RUN_STARTED, ev.RUN_FAILED]
    assert json.loads(events[-1].payload_json)["error"]["type"] == "GraphNotFound"


async def test_agent_calls_the_tool_and_answers() -> None:
    events = await run_graph("agent", {"messages": [{"role": "user", "content": "what is 2 + 3?"}]})
    view = fold_all(events)
    assert view is not None and view.status is RunStatus.SUCCEEDED
    messages = json.loads(view.output_json)["messages"]
    assert messages[-1]["content"] == "The answer is 5."
    assert messages[1]["tool_calls"][0]["args"] == {"a": 2, "b": 3}


async def test_a_run_records_only_the_stream_modes_it_asked_for() -> None:
    question = {"messages": [{"role": "user", "content": "what is 2 + 3?"}]}
    events = await run_graph("agent", question, {"stream_modes": ("values", "messages")})
    types = set(progress_types(events))
    assert {ev.STATE_VALUES, ev.MESSAGE_CHUNK} <= types
    assert not types & {ev.NODE_UPDATED, ev.CUSTOM_EVENT, ev.TASK_EVENT, ev.DEBUG_EVENT}
    last_values = [e for e in events if e.type == ev.STATE_VALUES][-1]
    view = fold_all(events)
    assert view is not None
    assert json.loads(last_values.payload_json)["data"] == json.loads(view.output_json)


async def test_a_run_past_its_timeout_is_stopped_and_recorded_as_timed_out() -> None:
    events = await run_graph("fanout", {"results": []}, {"timeout_seconds": 0.01})
    assert events[-1].type == ev.RUN_TIMED_OUT
    view = fold_all(events)
    assert view is not None and view.status is RunStatus.TIMED_OUT
    assert view.error_type == "RunTimeout"


async def test_a_resume_with_no_interrupt_pending_when_it_starts_fails_unused() -> None:
    # Judged when the run starts, against the thread as it is then (here: no
    # checkpoint at all), not only when the run was submitted.
    events = await run_graph("hitl", None, {"command": Command(resume="x", has_resume=True)})
    assert progress_types(events[1:]) == [ev.RUN_STARTED, ev.RUN_FAILED]
    error = json.loads(events[-1].payload_json)["error"]
    assert error["type"] == "NO_PENDING_INTERRUPT"
    assert "was not used" in error["message"]
    assert not [e for e in events if e.type in cpe.INTERNAL_TYPES]  # nothing written


async def test_a_fork_from_a_checkpoint_gone_when_it_starts_fails() -> None:
    events = await run_graph("chain3", {"n": 0}, {"checkpoint_id": "1f0-gone"})
    assert events[-1].type == ev.RUN_FAILED
    assert json.loads(events[-1].payload_json)["error"]["type"] == "CHECKPOINT_NOT_FOUND"
    assert not [e for e in events if e.type in cpe.INTERNAL_TYPES]


async def test_a_lease_is_proven_for_its_length_from_when_it_was_asked_for() -> None:
    now = [100.0]
    book = LeaseBook(2000, clock=lambda: now[0])
    assert not book.proven("r")  # never granted
    book.granted(["r"], asked_at=99.0)  # the store answered a request sent at 99
    now[0] = 100.9
    assert book.proven("r")
    now[0] = 101.0  # two seconds after the request, not after the answer
    assert not book.proven("r")
    book.granted(["r"], asked_at=98.0)  # a late answer to an older request does not shorten it
    book.granted(["r"], asked_at=100.5)
    assert book.proven("r")
    book.forget("r")
    assert not book.proven("r")


async def test_a_node_waits_for_its_lease_to_be_proven_before_it_starts() -> None:
    now = [0.0]
    book = LeaseBook(1000, clock=lambda: now[0])
    asked: list[bool] = []
    guard = LeaseGuard(book, "r", lambda: asked.append(True))
    node = {"metadata": {"langgraph_node": "n"}, "name": "n"}
    book.granted(["r"], 0.0)
    await guard.on_chain_start(None, {}, **node)  # proven: no wait, no renewal
    assert asked == []
    now[0] = 5.0
    start = asyncio.ensure_future(guard.on_chain_start(None, {}, **node))
    await asyncio.sleep(0)
    assert not start.done() and asked  # held back, a renewal asked for
    book.round_done()  # a round that failed (store unreachable): still held back
    await asyncio.sleep(0)
    assert not start.done()
    book.granted(["r"], 4.9)
    book.round_done()
    await asyncio.wait_for(start, 1)  # proven again: the node starts
    now[0] = 100.0
    # What runs inside a node is not held back (the node itself was).
    await asyncio.wait_for(
        guard.on_chain_start(None, {}, metadata={"langgraph_node": "n"}, name="inner"), 1
    )


async def test_a_node_waits_while_its_run_is_too_far_ahead_of_its_acknowledged_log() -> None:
    now = [0.0]
    backlog = SendBacklog(0.25, clock=lambda: now[0])
    loop = asyncio.get_running_loop()
    queued: asyncio.Future[asyncio.Future[Any]] = loop.create_future()
    ack: asyncio.Future[Any] = loop.create_future()
    backlog.sent(queued)
    now[0] = 0.2
    assert not backlog.overdue()  # young enough: the node starts at once
    now[0] = 0.3
    assert backlog.overdue()
    guard = BacklogGuard(backlog)
    node = {"metadata": {"langgraph_node": "n"}, "name": "n"}
    start = asyncio.ensure_future(guard.on_chain_start(None, {}, **node))
    await asyncio.sleep(0)
    assert not start.done()  # held back until the old message is acknowledged
    queued.set_result(ack)
    await asyncio.sleep(0)
    assert not start.done()  # queued by the producer is not enough
    ack.set_result(None)
    await asyncio.wait_for(start, 1)
    assert not backlog.overdue()


async def test_a_command_delivered_again_does_not_run_its_attempt_twice() -> None:
    worker = ExecutorWorker(
        "ex-test",
        REGISTRY,
        KafkaSettings("unused:9092"),
        cast(Any, None),
        cast(Any, None),
        # The lease stays this executor's: each claim is granted as the same
        # attempt (the run's end is not stored yet).
        cast(Any, MemoryEventStore()),
        MemoryCheckpoints(),
        max_runs=4,
        lease_ms=10_000,
    )
    ran: list[int] = []

    async def run(
        created: ev.Event, attempt: int, last_seq: int, parent: Any, checkpoints: Any
    ) -> None:
        ran.append(attempt)

    worker._run = run  # type: ignore[method-assign]
    command = created("chain3", {"n": 0})
    await worker._claim_and_run(command, Context())
    await worker._claim_and_run(command, Context())  # redelivered after a rebalance
    assert ran == [1]


def test_started_attempts_refuse_an_attempt_started_already_and_forget_the_oldest() -> None:
    started = StartedAttempts(remembered=2)
    assert started.start("a", 1) and not started.start("a", 1)
    assert started.start("a", 2)  # a newer attempt of the same run
    assert started.start("b", 1) and started.start("c", 1)
    assert started.start("a", 2)  # "a" was the oldest: forgotten


async def test_a_finished_run_keeps_its_lease_until_the_store_has_its_end() -> None:
    # The broker acknowledged the run's last events; the store has not
    # applied them yet (its consumer lags under load). Were the lease let go
    # now, the store would find it run out, hand the run to a new attempt
    # and refuse the finished attempt's events as stale: the whole run would
    # run again (seen in CI: every node of a run twice, in one executor).
    events = await run_graph("chain3", {"n": 0})
    run_id = events[0].run_id
    store = MemoryEventStore()
    await store.append(events[:1])
    assert (await store.claim(run_id, "ex-test", 1000)).outcome is ClaimOutcome.CLAIMED
    worker = ExecutorWorker(
        "ex-test",
        REGISTRY,
        KafkaSettings("unused:9092"),
        cast(Any, None),
        cast(Any, None),
        cast(Any, store),
        MemoryCheckpoints(),
        max_runs=4,
        lease_ms=1000,
    )
    worker._ending.add(run_id)  # as `_run` does once the broker acknowledged the end
    renewer = asyncio.create_task(worker._renew_leases(asyncio.Event()))
    try:
        await asyncio.sleep(1.5)  # past the lease as first granted
        taken = await store.claim(run_id, "ex-other", 1000)
        assert taken.outcome is not ClaimOutcome.CLAIMED, "the lease was let go"
        outcomes = await store.append(events[1:])  # the consumer catches up
        assert set(outcomes) == {AppendOutcome.APPENDED}
        for _ in range(100):  # the next renewal finds the run ended and lets it go
            if run_id not in worker._ending:
                break
            await asyncio.sleep(0.05)
        assert run_id not in worker._ending
    finally:
        renewer.cancel()


def test_a_finished_run_is_held_for_a_bounded_time() -> None:
    now = [0.0]
    ending = EndingRuns(4.0, clock=lambda: now[0])
    ending.add("a")
    now[0] = 1.0
    ending.add("b")
    assert ending.held() == ["a", "b"]
    now[0] = 4.0  # "a"'s end never reached the store (a broker lost it)
    assert ending.held() == ["b"] and "a" not in ending
    ending.discard("b")  # the store has it
    assert ending.held() == []


async def test_a_primed_reader_answers_only_the_runs_first_read_from_its_claim() -> None:
    behind = MemoryCheckpoints()
    behind.apply([])
    primed_value = cast(Any, "the claim's checkpoint")
    reader = PrimedCheckpoints(behind, "t-1", primed_value)
    assert await reader.get("t-1", "", "") == primed_value
    assert await reader.get("t-1", "", "") == primed_value  # nothing written since
    # Another thread, a namespace, a given checkpoint, or after the run's own
    # writes: read from the store.
    assert await reader.get("t-2", "", "") is None
    assert await reader.get("t-1", "child:1", "") is None
    assert await reader.get("t-1", "", "1f0-a") is None
    assert await reader.get("t-1", "", "", after=("run", 3)) is None


class SlowAcks:
    """A run's way to Kafka whose acknowledgements take `delay` seconds."""

    def __init__(self, events: list[ev.Event], delay: float) -> None:
        self.events = events
        self._delay = delay
        self._unacked = 0
        self._on_quiet: list[Any] = []

    def emit(self, event: ev.Event) -> None:
        self.events.append(event)
        self._unacked += 1
        asyncio.get_running_loop().call_later(self._delay, self._acknowledged)

    def _acknowledged(self) -> None:
        self._unacked -= 1
        if not self._unacked:
            callbacks, self._on_quiet = self._on_quiet, []
            for callback in callbacks:
                callback()

    def when_quiet(self, callback: Any) -> bool:
        if not self._unacked:
            return False
        self._on_quiet.append(callback)
        return True


async def stream_tokens(ack_delay: float | None, tokens: int = 30) -> list[ev.Event]:
    value = {"messages": [], "tokens": tokens, "interval_ms": 2}
    events = [created("streamer", value, {"stream_modes": ("messages", "updates")})]
    acks = SlowAcks(events, ack_delay or 0)
    slow = {"emit": acks.emit, "when_quiet": acks.when_quiet} if ack_delay else {}
    await execute_run(REGISTRY.get("streamer").graph, first_attempt(events, **slow))
    return events


def tokens_of(events: list[ev.Event]) -> list[tuple[int, list[str]]]:
    """(seq, the token indices) of each messages event."""
    out = []
    for event in events:
        for item_type in (ev.MESSAGE_CHUNK, ev.MESSAGE_CHUNKS):
            if event.type == item_type:
                items = streams.stream_items(event.type, json.loads(event.payload_json))
                out.append((event.seq, [c["content"].split("@")[0] for c, _ in items]))
    return out


async def test_message_chunks_travel_alone_while_nothing_waits_for_kafka() -> None:
    events = await stream_tokens(ack_delay=None)
    got = tokens_of(events)
    assert {e.type for e in events} & {ev.MESSAGE_CHUNKS} == set()
    assert [t for _, ts in got for t in ts if t] == [str(i) for i in range(30)]


async def test_message_chunks_wait_for_acknowledgements_and_go_together_in_order() -> None:
    events = await stream_tokens(ack_delay=0.015)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    got = tokens_of(events)
    batched = [ts for _, ts in got if len(ts) > 1]
    assert batched, "no tokens went together"
    # Every token, in order, once; items as LangGraph gives them.
    assert [t for _, ts in got for t in ts if t] == [str(i) for i in range(30)]
    assert len(got) < 30
    # The chunks waiting went before the node's update and the run's end.
    last_chunks = max(seq for seq, _ in got)
    update = next(e for e in events if e.type == ev.NODE_UPDATED)
    assert last_chunks < update.seq < events[-1].seq
    assert events[-1].type == ev.RUN_SUCCEEDED
    payload = json.loads(next(e for e in events if e.type == ev.MESSAGE_CHUNKS).payload_json)
    chunk, metadata = payload["data"][0]
    assert chunk["type"] == "AIMessageChunk" and metadata["langgraph_node"] == "model"
