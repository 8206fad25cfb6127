"""Operator commands against the real mesh: a run's stored events, the
read models rebuilt from the event store, consumer lag."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from graphmesh.client import Client
from graphmesh.runs import RunStatus
from graphmesh.testing.stack import LocalStack
from tests.conftest import store_counts


def ops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graphmesh_cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _store(stack: LocalStack) -> str:
    return f"127.0.0.1:{stack.config.checkpoint_port}"


def test_runs_events_prints_every_stored_event(stack: LocalStack, client: Client) -> None:
    run = client.create_run("chain3", input={"n": 0, "trail": []})
    assert client.wait_run(run.run_id).status is RunStatus.SUCCEEDED
    result = ops("runs", "events", run.run_id, "--store", _store(stack), "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    stored = stack.postgres.query(
        f"SELECT seq, type FROM events WHERE run_id = '{run.run_id}' ORDER BY seq"
    ).split()
    assert [f"{e['seq']}|{e['type']}" for e in events] == stored
    types = [e["type"] for e in events]
    assert types[:2] == ["RunCreated", "RunStarted"] and types[-1] == "RunSucceeded"
    assert "CheckpointSaved" in types  # the public stream leaves these out; this does not
    assert events[-1]["payload"]["output"]["trail"] == ["s0", "s1", "s2"]

    text = ops("runs", "events", run.run_id, "--store", _store(stack))
    assert text.returncode == 0 and len(text.stdout.splitlines()) == len(events)

    missing = ops(
        "runs", "events", "00000000-0000-0000-0000-000000000000", "--store", _store(stack)
    )
    assert missing.returncode == 1 and "no run" in missing.stderr


def _run_views(stack: LocalStack) -> str:
    return stack.postgres.query("SELECT * FROM run_views ORDER BY run_id")


def test_projections_rebuild_gives_the_live_rows(stack: LocalStack, client: Client) -> None:
    runs = [client.create_run("chain3", input={"n": i, "trail": []}) for i in range(5)]
    runs.append(client.create_run("chain3", input={}))  # a failed one
    for run in runs:
        client.wait_run(run.run_id)
    store_counts(stack)  # waits until the projector has caught up
    live = _run_views(stack)
    total = int(stack.postgres.query("SELECT count(*) FROM run_views"))
    assert total >= 6
    # Damage the read model: a wrong status on one row, another row gone.
    stack.postgres.query(f"UPDATE run_views SET status = 1 WHERE run_id = '{runs[0].run_id}'")
    stack.postgres.query(f"DELETE FROM run_views WHERE run_id = '{runs[1].run_id}'")
    assert _run_views(stack) != live

    result = ops("projections", "rebuild", "--database-url", stack.database_url)
    assert result.returncode == 0, result.stderr
    assert f"{total} runs from" in result.stdout
    assert _run_views(stack) == live
    position = stack.postgres.query(
        "SELECT position = (SELECT max(position) FROM events) FROM projection_positions"
        " WHERE projection = 'runs'"
    ).strip()
    assert position == "t"
    # The live projector goes on from the rebuilt position: the read model
    # (which GetRun answers from) comes to show the new run's end. WaitRun
    # answers from the store, so the read model may be a moment behind it.
    after = client.create_run("chain3", input={"n": 9, "trail": []})
    assert client.wait_run(after.run_id).status is RunStatus.SUCCEEDED
    deadline = time.monotonic() + 30
    while client.get_run(after.run_id).status is not RunStatus.SUCCEEDED:
        assert time.monotonic() < deadline, "the projector did not go on after the rebuild"
        time.sleep(0.05)


def test_lag_shows_each_groups_partitions_and_the_queue(stack: LocalStack, client: Client) -> None:
    run = client.create_run("chain3", input={"n": 0, "trail": []})
    client.wait_run(run.run_id)
    deadline = time.monotonic() + 30
    while True:
        result = ops("lag", "--kafka", stack.broker.bootstrap, "--target", stack.gateway_target)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        lag = report["consumer_lag"]
        if all(g["total"] == 0 for g in lag.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert set(lag) == {"graphmesh-executor", "graphmesh-checkpoint"}
    assert lag["graphmesh-executor"]["topic"] == "graphmesh.runs"
    assert len(lag["graphmesh-checkpoint"]["partitions"]) == stack.config.partitions
    assert all(g["total"] == 0 for g in lag.values()), lag  # everything was consumed
    assert "chain3" in report["queue_depth"]
