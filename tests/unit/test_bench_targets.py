"""`graphmesh bench`'s target verdicts, its CPU reading and the stream
workload's checks and figures."""

from __future__ import annotations

import os
import time

import pytest

from graphmesh_cli.bench import TARGETS, BenchmarkError, ProcessCpu, judge_targets
from graphmesh_cli.bench_stream import STREAM_TARGETS, Received, check, summarize

BARE = {
    "chain3_runs_per_s": 400.0,
    "fanout_runs_per_s": 200.0,
    "chain3_p50_ms": 2.0,
    "chain3_p99_ms": 3.0,
    "first_event_ms": 1.5,
    "cancel_ms": 0.3,
}


def test_each_target_is_judged_against_this_runs_bare_figures() -> None:
    meeting = {
        "chain3_runs_per_s": 200.0,  # exactly half of bare
        "fanout_runs_per_s": 121.0,
        "chain3_p50_ms": 16.0,  # 4 x 2 + 8
        "chain3_p99_ms": 48.0,  # 3 x p50
        "first_event_ms": 7.5,
        "cancel_ms": 10.0,
    }
    verdicts = judge_targets(meeting, BARE)
    assert set(verdicts) == {t.figure for t in TARGETS}
    assert all(v["met"] for v in verdicts.values()), verdicts
    assert verdicts["chain3_p50_ms"]["limit"] == 16.0
    assert verdicts["fanout_runs_per_s"]["limit"] == 120.0

    missing = {
        "chain3_runs_per_s": 199.99,
        "fanout_runs_per_s": 119.0,
        "chain3_p50_ms": 16.01,
        "chain3_p99_ms": 48.04,
        "first_event_ms": 7.51,
        "cancel_ms": 10.01,
    }
    verdicts = judge_targets(missing, BARE)
    assert not any(v["met"] for v in verdicts.values()), verdicts


def test_process_cpu_counts_what_a_process_spends() -> None:
    cpu = ProcessCpu({"me": os.getpid()})
    before = cpu.read()["me"]
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    # The kernel counts a process's CPU in clock ticks (10 ms): each reading
    # is short of the truth by up to a tick, so the difference may be a tick
    # short of 0.2 s (and a float a hair below 0.19, as a run here gave).
    assert cpu.read()["me"] - before >= 0.2 - 0.015


def test_stream_check_refuses_a_missing_a_repeated_or_a_reordered_token() -> None:
    def run(indices: list[int]) -> Received:
        got = Received(asked=0.0)
        got.take("".join(f"{i}@{100 + i:.6f} " for i in indices), 200.0)
        return got

    check([run([0, 1, 2, 3])], 4, "here")
    for wrong in ([0, 1, 3], [0, 1, 1, 2, 3], [0, 2, 1, 3], [0, 1, 2, 3, 4]):
        with pytest.raises(BenchmarkError, match="here: stream 0"):
            check([run([0, 1, 2, 3]), run(wrong)][1:], 4, "here")


def test_stream_figures_come_from_the_tokens_times() -> None:
    # Two runs of 3 tokens 10 ms apart; the second run's model was twice as slow.
    fast = Received(asked=0.0, tokens=[(0, 1.00, 1.002), (1, 1.01, 1.014), (2, 1.02, 1.026)])
    slow = Received(asked=0.5, tokens=[(0, 1.00, 1.001), (1, 1.02, 1.021), (2, 1.04, 1.041)])
    figures = summarize([fast, slow], tokens=3, interval_ms=10.0, wall=2.0, cpu_seconds=0.3)
    assert figures["token_delay_p50_ms"] == pytest.approx(1.5)
    assert figures["token_delay_max_ms"] == pytest.approx(6.0)
    assert figures["first_token_p50_ms"] == pytest.approx((1002 + 501) / 2)
    assert figures["model_slowdown_max"] == pytest.approx(2.0)
    assert figures["model_slowdown_p50"] == pytest.approx(1.5)
    assert figures["tokens_per_s"] == pytest.approx(3.0)
    assert figures["cpu_s_per_1000_tokens"] == pytest.approx(50.0)
    verdicts = {t.figure: t.judge(figures, {"first_token_p50_ms": 600.0}) for t in STREAM_TARGETS}
    assert verdicts["token_delay_p50_ms"]["met"] and verdicts["first_token_p50_ms"]["met"]
    assert not verdicts["model_slowdown_p50"]["met"]
    assert not verdicts["cpu_s_per_1000_tokens"]["met"]
