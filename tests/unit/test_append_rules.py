"""The event store's append and claim rules, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from graphmesh import envelope as ev
from graphmesh.eventstore import AppendOutcome, ClaimOutcome, RunHead, judge_append, judge_claim
from graphmesh.eventstore.rules import (
    ThreadHead,
    is_stale_command,
    judge_admission,
)
from graphmesh.run_created import MultitaskStrategy, RunCreated

RUN = "00000000-0000-0000-0000-000000000001"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
LEASE = timedelta(seconds=10)


def event(seq: int, attempt: int = 1, type_: str = ev.NODE_UPDATED) -> ev.Event:
    payload = RunCreated("chain3").to_payload() if type_ == ev.RUN_CREATED else "{}"
    return ev.new_event(RUN, "t", seq, attempt, type_, payload)


def head(last_seq: int, attempt: int = 1, ended: bool = False) -> RunHead:
    return RunHead(RUN, "t", last_seq, attempt, ended)


def test_an_unreadable_run_created_is_refused() -> None:
    # An unknown strategy, no graph: no store may admit what nothing can run.
    for payload in ('{"graph_id":"g","multitask_strategy":"queue"}', "{}", "[]", '{"graph_id":""}'):
        created = ev.new_event(RUN, "t", 1, 0, ev.RUN_CREATED, payload)
        assert judge_append(None, created, None) == (AppendOutcome.REJECTED_MALFORMED, None)


def test_run_created_starts_a_run() -> None:
    outcome, new = judge_append(None, event(1, 0, ev.RUN_CREATED), None)
    assert outcome is AppendOutcome.APPENDED
    assert new == RunHead(RUN, "t", 1, 0, False)


def test_events_before_run_created_are_refused() -> None:
    assert judge_append(None, event(2), None)[0] is AppendOutcome.REJECTED_CONFLICT
    assert (
        judge_append(None, event(1, 1, ev.RUN_STARTED), None)[0] is AppendOutcome.REJECTED_CONFLICT
    )


def test_next_seq_of_current_attempt_appends_and_terminal_ends_the_run() -> None:
    outcome, new = judge_append(head(2), event(3), None)
    assert outcome is AppendOutcome.APPENDED and new == head(3)
    outcome, new = judge_append(head(3), event(4, type_=ev.RUN_SUCCEEDED), None)
    assert outcome is AppendOutcome.APPENDED and new is not None and new.ended


def test_resent_event_is_a_duplicate_and_changes_nothing() -> None:
    outcome, new = judge_append(head(5), event(3), stored_attempt=1)
    assert outcome is AppendOutcome.DUPLICATE and new == head(5)


def test_same_seq_from_another_attempt_is_a_conflict() -> None:
    assert judge_append(head(5, 2), event(3, 1), stored_attempt=2)[0] in (
        AppendOutcome.REJECTED_CONFLICT,
        AppendOutcome.REJECTED_STALE_ATTEMPT,
    )
    assert (
        judge_append(head(5, 2), event(3, 2), stored_attempt=1)[0]
        is AppendOutcome.REJECTED_CONFLICT
    )


def test_gap_is_rejected() -> None:
    assert judge_append(head(2), event(4), None)[0] is AppendOutcome.REJECTED_GAP


def test_superseded_attempt_is_rejected() -> None:
    assert (
        judge_append(head(4, attempt=2), event(5, 1), None)[0]
        is AppendOutcome.REJECTED_STALE_ATTEMPT
    )


def test_unclaimed_attempt_and_events_after_the_end_are_refused() -> None:
    assert judge_append(head(4, attempt=1), event(5, 2), None)[0] is AppendOutcome.REJECTED_CONFLICT
    assert judge_append(head(4, ended=True), event(5), None)[0] is AppendOutcome.REJECTED_CONFLICT


def test_first_claim_starts_attempt_one() -> None:
    result, new = judge_claim(head(1, attempt=0), "ex-a", NOW, LEASE)
    assert result.outcome is ClaimOutcome.CLAIMED
    assert (result.attempt, result.last_seq) == (1, 1)
    assert new is not None and new.lease_owner == "ex-a" and new.lease_until == NOW + LEASE


def test_live_lease_of_another_executor_blocks_and_says_how_long() -> None:
    leased = RunHead(RUN, "t", 3, 1, False, "ex-a", NOW + timedelta(seconds=2))
    result, new = judge_claim(leased, "ex-b", NOW, LEASE)
    assert result.outcome is ClaimOutcome.LEASED_ELSEWHERE
    assert 2000 <= result.retry_after_ms <= 2001
    assert new == leased


def test_expired_lease_is_taken_over_with_a_new_attempt() -> None:
    expired = RunHead(RUN, "t", 3, 1, False, "ex-a", NOW - timedelta(seconds=1))
    result, new = judge_claim(expired, "ex-b", NOW, LEASE)
    assert (result.outcome, result.attempt, result.last_seq) == (ClaimOutcome.CLAIMED, 2, 3)
    assert new is not None and new.lease_owner == "ex-b"


def test_reclaim_by_the_owner_keeps_its_attempt() -> None:
    live = RunHead(RUN, "t", 3, 1, False, "ex-a", NOW + timedelta(seconds=5))
    result, _ = judge_claim(live, "ex-a", NOW, LEASE)
    assert (result.outcome, result.attempt) == (ClaimOutcome.CLAIMED, 1)


def test_ended_and_unknown_runs_are_not_claimed() -> None:
    assert (
        judge_claim(head(6, ended=True), "ex", NOW, LEASE)[0].outcome is ClaimOutcome.ALREADY_ENDED
    )
    assert judge_claim(None, "ex", NOW, LEASE)[0].outcome is ClaimOutcome.UNKNOWN_RUN


def test_a_command_is_stale_after_the_wait_doubled_per_earlier_requeue() -> None:
    wait = timedelta(seconds=30)
    fresh = head(1, attempt=0)
    assert not is_stale_command(fresh, NOW - timedelta(seconds=29), NOW, wait)
    assert is_stale_command(fresh, NOW - timedelta(seconds=31), NOW, wait)
    requeued_twice = RunHead(RUN, "t", 1, 0, False, republished=2)
    assert not is_stale_command(requeued_twice, NOW - timedelta(seconds=119), NOW, wait)
    assert is_stale_command(requeued_twice, NOW - timedelta(seconds=121), NOW, wait)
    assert not is_stale_command(head(2, attempt=1), NOW - timedelta(hours=1), NOW, wait)
    assert not is_stale_command(head(1, attempt=0, ended=True), NOW - timedelta(hours=1), NOW, wait)


def test_a_started_run_is_stale_once_its_lease_ran_out_for_the_wait() -> None:
    wait, created_at = timedelta(seconds=30), NOW - timedelta(hours=1)
    lapsed = RunHead(RUN, "t", 5, 2, False, "ex", NOW - timedelta(seconds=31))
    assert is_stale_command(lapsed, created_at, NOW, wait)
    assert not is_stale_command(replace(lapsed, republished=1), created_at, NOW, wait)
    assert not is_stale_command(
        replace(lapsed, lease_until=NOW - timedelta(seconds=29)), created_at, NOW, wait
    )
    assert not is_stale_command(replace(lapsed, ended=True), created_at, NOW, wait)


def test_a_new_attempt_starts_the_requeue_backoff_afresh() -> None:
    lapsed = RunHead(RUN, "t", 5, 2, False, "ex", NOW - timedelta(seconds=1), republished=3)
    result, new = judge_claim(lapsed, "ex-b", NOW, LEASE)
    assert result.attempt == 3 and new is not None and new.republished == 0
    renewed = replace(lapsed, lease_until=NOW + LEASE)
    _, same = judge_claim(renewed, "ex", NOW, LEASE)
    assert same is not None and same.attempt == 2 and same.republished == 3


def test_a_thread_runs_one_run_at_a_time() -> None:
    other = RunHead("other-run", "t", 4, 1, False, "ex-a", NOW + timedelta(seconds=3))
    result, new = judge_claim(head(1, attempt=0), "ex-b", NOW, LEASE, thread_active=other)
    assert result.outcome is ClaimOutcome.THREAD_BUSY and 3000 <= result.retry_after_ms <= 3001
    assert new == head(1, attempt=0)
    expired = RunHead("other-run", "t", 4, 1, False, "ex-a", NOW - timedelta(seconds=1))
    result, _ = judge_claim(head(1, attempt=0), "ex-b", NOW, LEASE, thread_active=expired)
    assert result.outcome is ClaimOutcome.THREAD_BUSY and result.retry_after_ms == 201
    # the active run itself may be claimed again (a takeover after a crash)
    itself = RunHead(RUN, "t", 1, 1, False, "ex-a", NOW - timedelta(seconds=1))
    assert (
        judge_claim(itself, "ex-b", NOW, LEASE, thread_active=itself)[0].outcome
        is ClaimOutcome.CLAIMED
    )


def test_a_superseded_attempt_behind_the_new_one_is_stale_not_a_conflict() -> None:
    # attempt 2 has stored seqs 3..5; attempt 1 wakes up and sends seq 4
    assert judge_append(head(5, 2), event(4, 1), 2)[0] is AppendOutcome.REJECTED_STALE_ATTEMPT
    assert judge_append(head(5, 2), event(4, 2), 2)[0] is AppendOutcome.DUPLICATE


def test_a_malformed_checkpoint_event_is_refused_not_applied() -> None:
    bad = ev.new_event(RUN, "t", 3, 1, ev.CHECKPOINT_SAVED, '{"checkpoint_id": ""}')
    assert judge_append(head(2), bad, None)[0] is AppendOutcome.REJECTED_MALFORMED


def test_multitask_admission() -> None:
    idle = ThreadHead("t", open_runs=0)
    busy = ThreadHead("t", open_runs=1)
    assert judge_admission(None, MultitaskStrategy.REJECT) == (None, "")
    assert judge_admission(idle, MultitaskStrategy.REJECT) == (None, "")
    assert judge_admission(busy, MultitaskStrategy.ENQUEUE) == (None, "")
    assert judge_admission(busy, MultitaskStrategy.REJECT) == (
        AppendOutcome.REJECTED_THREAD_BUSY,
        "",
    )
    assert judge_admission(busy, MultitaskStrategy.INTERRUPT) == (None, "interrupt")
    assert judge_admission(busy, MultitaskStrategy.ROLLBACK) == (None, "rollback")
    deleted = ThreadHead("t", deleted=True)
    assert judge_admission(deleted, MultitaskStrategy.ENQUEUE)[0] is (
        AppendOutcome.REJECTED_THREAD_DELETED
    )


def test_a_run_cancelled_before_it_started_is_handed_out_at_once_to_be_ended() -> None:
    pending = RunHead(RUN, "t", 1, 0, False, cancel_action="rollback")
    other = RunHead("other", "t", 3, 1, False, "ex-2", NOW + LEASE)
    result, _ = judge_claim(pending, "ex-1", NOW, LEASE, thread_active=other)
    assert result.outcome is ClaimOutcome.CLAIMED and result.cancel_action == "rollback"
