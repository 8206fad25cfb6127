"""`graphmesh bench`'s target verdicts and its CPU reading."""

from __future__ import annotations

import os
import time

from graphmesh_cli.bench import TARGETS, ProcessCpu, judge_targets

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
    assert cpu.read()["me"] - before >= 0.19
