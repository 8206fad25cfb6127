"""Run control's pure rules: rate buckets, the attempt cap, stream-mode
filters, request checks and the retry settings."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from graphmesh import envelope as ev
from graphmesh import streams
from graphmesh.errors import InvalidArgument, ResourceExhausted
from graphmesh.eventstore import ClaimOutcome, RunHead, judge_claim
from graphmesh.settings import SettingsError
from graphmesh_cli.supervisor import CrashHistory, RestartPolicy
from graphmesh_executor.settings import RetrySettings, graph_limits_from_env
from graphmesh_gateway import validation
from graphmesh_gateway.limits import RateLimit, RateLimiter, rate_limits_from_env


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate_and_says_when_to_retry() -> None:
    clock = Clock()
    limiter = RateLimiter({"g": RateLimit(rate=2, burst=3)}, clock)
    refused: list[str] = []
    limiter.on_refused = refused.append
    for _ in range(3):
        limiter.admit("g")
    with pytest.raises(ResourceExhausted) as exc:
        limiter.admit("g")
    assert exc.value.reason == "RATE_LIMITED" and exc.value.retry_after == pytest.approx(0.5)
    clock.now += 0.5
    limiter.admit("g")  # one token came back
    with pytest.raises(ResourceExhausted):
        limiter.admit("g")
    limiter.admit("other")  # no limit for other graphs
    assert refused == ["g", "g"]


def test_the_star_limit_covers_every_other_graph_separately() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_limits_from_env({"GRAPHMESH_RATE_LIMITS": "*=1"}), clock)
    limiter.admit("a")
    limiter.admit("b")
    with pytest.raises(ResourceExhausted):
        limiter.admit("a")


@pytest.mark.parametrize("text", ["g=0", "g=-1", "g=x", "g=1:0", "g", "=3", "g=2e7"])
def test_bad_rate_limits_are_refused_at_start(text: str) -> None:
    with pytest.raises(SettingsError):
        rate_limits_from_env({"GRAPHMESH_RATE_LIMITS": text})


def test_graph_limits_are_parsed_and_checked() -> None:
    assert graph_limits_from_env({"GRAPHMESH_EXECUTOR_GRAPH_LIMITS": "a=2, b=5"}) == {
        "a": 2,
        "b": 5,
    }
    for bad in ("a=0", "a=x", "a=-3"):
        with pytest.raises(SettingsError):
            graph_limits_from_env({"GRAPHMESH_EXECUTOR_GRAPH_LIMITS": bad})


def test_a_run_started_max_attempts_times_is_not_started_again() -> None:
    now = datetime.now(UTC)
    expired = RunHead("r", "t", 5, 2, False, "dead-executor", now - timedelta(seconds=1))
    result, head = judge_claim(expired, "ex", now, timedelta(seconds=5), None, max_attempts=2)
    assert result.outcome is ClaimOutcome.ATTEMPTS_EXHAUSTED and head == expired
    result, _ = judge_claim(expired, "ex", now, timedelta(seconds=5), None, max_attempts=3)
    assert result.outcome is ClaimOutcome.CLAIMED and result.attempt == 3
    live = RunHead("r", "t", 5, 2, False, "ex", now + timedelta(seconds=1))
    result, _ = judge_claim(live, "ex", now, timedelta(seconds=5), None, max_attempts=2)
    assert result.outcome is ClaimOutcome.CLAIMED and result.attempt == 2  # its own lease


def test_stream_filters_keep_lifecycle_events_and_drop_checkpoint_bookkeeping() -> None:
    def event(type_: str, payload: str = "{}") -> ev.Event:
        return ev.new_event("r", "t", 1, 1, type_, payload)

    assert streams.wanted(event(ev.RUN_STARTED), frozenset({"messages"}))
    assert not streams.wanted(event(ev.NODE_UPDATED), frozenset({"messages"}))
    assert streams.wanted(event(ev.MESSAGE_CHUNK), frozenset({"messages"}))
    assert streams.wanted(event(ev.STATE_VALUES), None)
    assert not streams.wanted(event("CheckpointSaved"), None)
    assert streams.event_namespace(event(ev.NODE_UPDATED, '{"ns": ["child:1"]}')) == ["child:1"]
    assert streams.event_namespace(event(ev.NODE_UPDATED)) == []
    assert set(streams.EVENT_TYPE_OF_MODE) == set(streams.STREAM_MODES)


def test_stream_modes_and_timeouts_are_checked() -> None:
    assert validation.stream_modes([3, 2, 3]) == ["messages", "updates"]
    for bad in ([0], [9], [-1]):
        with pytest.raises(InvalidArgument) as exc:
            validation.stream_modes(bad)
        assert exc.value.reason == "STREAM_MODE_UNKNOWN"
    assert validation.timeout_seconds(0) == 0 and validation.timeout_seconds(1.5) == 1.5
    for value in (-0.1, math.nan, math.inf, validation.MAX_TIMEOUT_SECONDS * 2):
        with pytest.raises(InvalidArgument):
            validation.timeout_seconds(value)


def test_retry_settings_make_a_langgraph_policy() -> None:
    assert RetrySettings.from_env({}).policy() is None  # one attempt: no retries
    settings = RetrySettings.from_env(
        {
            "GRAPHMESH_RETRY_MAX_ATTEMPTS": "4",
            "GRAPHMESH_RETRY_INITIAL_INTERVAL": "0.2",
            "GRAPHMESH_RETRY_JITTER": "false",
            "GRAPHMESH_RETRY_NON_RETRYABLE": "KeyError, ValueError",
        }
    )
    policy = settings.policy()
    assert policy is not None
    assert (policy.max_attempts, policy.initial_interval, policy.jitter) == (4, 0.2, False)
    assert callable(policy.retry_on)
    assert policy.retry_on(ConnectionError()) and not policy.retry_on(KeyError("k"))
    assert not policy.retry_on(UnicodeDecodeError("utf-8", b"", 0, 1, "x"))  # a ValueError
    for bad in (
        {"GRAPHMESH_RETRY_MAX_ATTEMPTS": "0"},
        {"GRAPHMESH_RETRY_JITTER": "perhaps"},
        {"GRAPHMESH_RETRY_NON_RETRYABLE": "not a name"},
        {"GRAPHMESH_RETRY_BACKOFF_FACTOR": "nan"},
    ):
        with pytest.raises(SettingsError):
            RetrySettings.from_env(bad)


def test_a_crashed_process_restarts_after_a_doubling_wait_until_a_crash_loop() -> None:
    history = CrashHistory(RestartPolicy(first_delay=0.5, max_delay=4, crash_loop=5, window=60))
    waits = [history.crashed("executor", t).restart_in for t in (0, 1, 2, 3)]
    assert waits == [0.5, 1, 2, 4]
    verdict = history.crashed("executor", 4)
    assert verdict.restart_in is None and "crashed 5 times within 60 s" in verdict.reason
    # Crashes older than the window are forgotten; each process has its own.
    assert history.crashed("executor", 200).restart_in == 0.5
    assert history.crashed("gateway", 4).restart_in == 0.5
    capped = CrashHistory(RestartPolicy(first_delay=1, max_delay=3, crash_loop=10))
    assert [capped.crashed("p", t).restart_in for t in range(4)] == [1, 2, 3, 3]
