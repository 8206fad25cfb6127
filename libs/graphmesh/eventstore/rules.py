"""The pure rules of the event store, the same for every adapter.

The store is append-only. For each run it keeps a head (last stored seq,
current attempt, whether the run has ended, who holds its lease); an append
is judged against the head by `judge_append`, which is the whole of the
idempotency, gap and fencing rules; a claim by `judge_claim`; a new run's
admission to its thread by `judge_admission` and `apply_to_thread`; a
re-send of a command by `is_stale_command`. They are unit-tested without
any I/O, and the adapters (memory, PostgreSQL) only load the heads, apply
these rules and store what they decide.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from graphmesh import envelope as ev
from graphmesh.checkpoints import events as cpe
from graphmesh.checkpoints.reader import StoredCheckpoint
from graphmesh.envelope import Event
from graphmesh.errors import FailedPrecondition
from graphmesh.internal.v1 import event_store_service_pb2 as es_pb2
from graphmesh.run_created import MultitaskStrategy, RunCreated
from graphmesh.tenancy import public_thread


class AppendOutcome(enum.IntEnum):
    """Mirrors graphmesh.internal.v1.AppendOutcome (its numbers are the wire's)."""

    APPENDED = es_pb2.APPEND_OUTCOME_APPENDED
    DUPLICATE = es_pb2.APPEND_OUTCOME_DUPLICATE
    REJECTED_GAP = es_pb2.APPEND_OUTCOME_REJECTED_GAP
    REJECTED_STALE_ATTEMPT = es_pb2.APPEND_OUTCOME_REJECTED_STALE_ATTEMPT
    REJECTED_CONFLICT = es_pb2.APPEND_OUTCOME_REJECTED_CONFLICT
    REJECTED_THREAD_DELETED = es_pb2.APPEND_OUTCOME_REJECTED_THREAD_DELETED
    REJECTED_THREAD_BUSY = es_pb2.APPEND_OUTCOME_REJECTED_THREAD_BUSY
    REJECTED_MALFORMED = es_pb2.APPEND_OUTCOME_REJECTED_MALFORMED

    @property
    def is_rejection(self) -> bool:
        """True when the event was refused (and counted)."""
        return self not in (AppendOutcome.APPENDED, AppendOutcome.DUPLICATE)


class ClaimOutcome(enum.IntEnum):
    """Mirrors graphmesh.internal.v1.ClaimOutcome."""

    CLAIMED = es_pb2.CLAIM_OUTCOME_CLAIMED
    ALREADY_ENDED = es_pb2.CLAIM_OUTCOME_ALREADY_ENDED
    LEASED_ELSEWHERE = es_pb2.CLAIM_OUTCOME_LEASED_ELSEWHERE
    UNKNOWN_RUN = es_pb2.CLAIM_OUTCOME_UNKNOWN_RUN
    THREAD_BUSY = es_pb2.CLAIM_OUTCOME_THREAD_BUSY
    ATTEMPTS_EXHAUSTED = es_pb2.CLAIM_OUTCOME_ATTEMPTS_EXHAUSTED


class CancelState(enum.IntEnum):
    """Mirrors graphmesh.internal.v1.CancelState."""

    UNKNOWN_RUN = es_pb2.CANCEL_STATE_UNKNOWN_RUN
    ALREADY_ENDED = es_pb2.CANCEL_STATE_ALREADY_ENDED
    CANCELLED = es_pb2.CANCEL_STATE_CANCELLED
    CANCELLING = es_pb2.CANCEL_STATE_CANCELLING


@dataclass(frozen=True, slots=True)
class RunHead:
    """The store's bookkeeping for one run."""

    run_id: str
    thread_id: str
    last_seq: int
    attempt: int
    ended: bool
    lease_owner: str = ""
    lease_until: datetime | None = None
    republished: int = 0
    #: "interrupt" or "rollback" once the run was asked to stop.
    cancel_action: str = ""


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """The answer to an executor asking for a run."""

    outcome: ClaimOutcome
    attempt: int = 0
    last_seq: int = 0
    retry_after_ms: int = 0
    #: Set when the run was cancelled before it could start: the executor
    #: ends it as cancelled instead of running it.
    cancel_action: str = ""
    #: The run's thread (when CLAIMED).
    thread_id: str = ""
    #: When CLAIMED and asked for: the thread's latest root checkpoint, read
    #: after the claim committed (None inside: the thread has none).
    latest_checkpoint: LatestCheckpoint | None = None


@dataclass(frozen=True, slots=True)
class LatestCheckpoint:
    """A thread's latest root checkpoint as read at one moment (None: the
    thread had none)."""

    stored: StoredCheckpoint | None


def judge_append(
    head: RunHead | None, event: Event, stored_attempt: int | None
) -> tuple[AppendOutcome, RunHead | None]:
    """Decides one append. `stored_attempt` is the attempt of the event
    already stored at (run, seq), if any. Returns the outcome and the head
    after it."""
    if head is None:
        if event.type == ev.RUN_CREATED and event.seq == 1 and event.attempt == 0:
            if not _readable_run_created(event):
                return AppendOutcome.REJECTED_MALFORMED, None
            return AppendOutcome.APPENDED, RunHead(
                run_id=event.run_id, thread_id=event.thread_id, last_seq=1, attempt=0, ended=False
            )
        return AppendOutcome.REJECTED_CONFLICT, None
    if event.seq <= head.last_seq:
        if stored_attempt == event.attempt:
            return AppendOutcome.DUPLICATE, head
        if event.attempt < head.attempt:
            # A superseded attempt, behind the new one's events.
            return AppendOutcome.REJECTED_STALE_ATTEMPT, head
        return AppendOutcome.REJECTED_CONFLICT, head
    if event.attempt < head.attempt:
        return AppendOutcome.REJECTED_STALE_ATTEMPT, head
    if head.ended or event.attempt > head.attempt:
        return AppendOutcome.REJECTED_CONFLICT, head
    if event.seq > head.last_seq + 1:
        return AppendOutcome.REJECTED_GAP, head
    if event.type in cpe.RUN_STREAM_TYPES and cpe.payload_problem(event.type, event.payload_json):
        return AppendOutcome.REJECTED_MALFORMED, head
    return AppendOutcome.APPENDED, replace(head, last_seq=event.seq, ended=event.is_terminal)


def _readable_run_created(event: Event) -> bool:
    try:
        RunCreated.from_event(event)
    except (ValueError, TypeError):
        return False
    return True


def is_stale_command(
    head: RunHead, created_at: datetime, now: datetime, older_than: timedelta
) -> bool:
    """True if the run's command must be sent again: it was never claimed
    and has waited longer than `older_than` since it was created, or it was
    claimed and its lease ran out longer than `older_than` ago (its executor
    died or handed it over, and the command may be gone with the broker's
    data), in both cases doubled for each time it was already re-sent."""
    if head.ended:
        return False
    since = created_at if head.attempt == 0 else head.lease_until
    if since is None:
        return False
    return bool(now - since > older_than * (2**head.republished))


#: How soon to ask again for a run whose thread is busy with a run whose
#: lease has run out (its owner died; whoever takes it over will end it).
THREAD_BUSY_RETRY = timedelta(milliseconds=200)


def judge_claim(
    head: RunHead | None,
    executor_id: str,
    now: datetime,
    lease: timedelta,
    thread_active: RunHead | None = None,
    max_attempts: int = 0,
) -> tuple[ClaimResult, RunHead | None]:
    """Decides whether `executor_id` may run the run now; a claim by a new
    owner starts a new attempt, which fences off the previous one.
    `thread_active` is another run of the same thread that has started and
    not ended, if any: a thread runs one run at a time. A run already
    started `max_attempts` times (0: no limit) is not started again: its
    executors keep dying."""
    if head is None:
        return ClaimResult(ClaimOutcome.UNKNOWN_RUN), None
    if head.ended:
        return ClaimResult(ClaimOutcome.ALREADY_ENDED, head.attempt, head.last_seq), head
    cancelling = bool(head.cancel_action)
    if not cancelling and thread_active is not None and thread_active.run_id != head.run_id:
        until = thread_active.lease_until
        wait = until - now if until is not None and until > now else THREAD_BUSY_RETRY
        wait_ms = int(wait.total_seconds() * 1000) + 1
        return ClaimResult(ClaimOutcome.THREAD_BUSY, retry_after_ms=wait_ms), head
    lease_live = head.lease_until is not None and head.lease_until > now
    if lease_live and head.lease_owner != executor_id:
        assert head.lease_until is not None
        wait_ms = int((head.lease_until - now).total_seconds() * 1000) + 1
        return ClaimResult(ClaimOutcome.LEASED_ELSEWHERE, retry_after_ms=wait_ms), head
    attempt = head.attempt if lease_live else head.attempt + 1
    if max_attempts and attempt > max_attempts:
        return ClaimResult(ClaimOutcome.ATTEMPTS_EXHAUSTED, head.attempt, head.last_seq), head
    # A new attempt starts the re-send backoff afresh (see is_stale_command).
    republished = head.republished if attempt == head.attempt else 0
    new_head = replace(
        head,
        attempt=attempt,
        lease_owner=executor_id,
        lease_until=now + lease,
        republished=republished,
    )
    claimed = ClaimResult(
        ClaimOutcome.CLAIMED,
        attempt,
        head.last_seq,
        cancel_action=head.cancel_action,
        thread_id=head.thread_id,
    )
    return claimed, new_head


#: The executor id under which the store itself ends runs (cancel of a run
#: no executor holds, a run whose executors kept dying), and its lease.
STORE_WRITER = "graphmesh-store"
STORE_LEASE = timedelta(seconds=30)


@dataclass(slots=True)
class ThreadHead:
    """The write side's bookkeeping for one thread (mutable while a batch
    is judged)."""

    thread_id: str
    open_runs: int = 0
    deleted: bool = False
    exists: bool = True


def judge_admission(
    thread: ThreadHead | None, strategy: MultitaskStrategy
) -> tuple[AppendOutcome | None, str]:
    """Decides whether a new run may join its thread. Returns a refusal (or
    None to admit it) and the cancel action to put on the thread's other
    unfinished runs ("" for none)."""
    if thread is None or not thread.exists:
        return None, ""
    if thread.deleted:
        return AppendOutcome.REJECTED_THREAD_DELETED, ""
    if thread.open_runs == 0:
        return None, ""
    if strategy is MultitaskStrategy.REJECT:
        return AppendOutcome.REJECTED_THREAD_BUSY, ""
    if strategy in (MultitaskStrategy.INTERRUPT, MultitaskStrategy.ROLLBACK):
        return None, strategy.value
    return None, ""


def apply_to_thread(
    outcome: AppendOutcome, event: Event, threads: dict[str, ThreadHead]
) -> tuple[AppendOutcome, str]:
    """What an append judged `outcome` does to its thread, the same in every
    store: a RunCreated is admitted by its multitask strategy (see
    `judge_admission`; a refusal replaces the outcome) and opens a run on
    the thread, a terminal event closes one. `threads` holds the heads of
    the threads the batch touches and is updated. Returns the outcome and
    the cancel action for the thread's other unfinished runs ("": none)."""
    if outcome is not AppendOutcome.APPENDED:
        return outcome, ""
    if event.type == ev.RUN_CREATED:
        strategy = RunCreated.from_event(event).multitask_strategy
        refusal, cancel = judge_admission(threads.get(event.thread_id), strategy)
        if refusal is not None:
            return refusal, ""
        opened = threads.setdefault(event.thread_id, ThreadHead(event.thread_id))
        opened.exists, opened.open_runs = True, opened.open_runs + 1
        return outcome, cancel
    if event.is_terminal and (closed := threads.get(event.thread_id)) is not None:
        closed.open_runs -= 1
    return outcome, ""


@dataclass(frozen=True, slots=True)
class ThreadEventIn:
    """An event for a thread's stream before the store numbers it."""

    event_id: str
    type: str
    payload_json: str


def check_latest_parent(thread_id: str, latest: str, events: Sequence[ThreadEventIn]) -> None:
    """Refuses (FailedPrecondition, THREAD_CHANGED) a root checkpoint among
    `events` whose parent is not the thread's latest root checkpoint
    (`latest`, "" for none): the change was computed from a state a run has
    moved on from since. Each store judges it under the thread's lock."""
    for item in events:
        if item.type != cpe.CHECKPOINT_SAVED:
            continue
        saved = cpe.SavedCheckpoint.from_payload(json.loads(item.payload_json))
        if saved.checkpoint_ns:
            continue
        if saved.parent_checkpoint_id != latest:
            public = public_thread(thread_id)
            raise FailedPrecondition(
                f"thread {public} moved on while the change was made (its latest"
                f" checkpoint is now {latest or 'none'}): read its state and try again",
                reason="THREAD_CHANGED",
                field="thread_id",
                metadata={"thread_id": public, "latest_checkpoint_id": latest},
            )
        latest = saved.checkpoint_id
