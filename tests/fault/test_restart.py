"""A full restart of the mesh (every service, the broker and PostgreSQL):
threads, their state and pending interrupts, assistants and their versions,
and the store's items are all still there, and the conversation goes on."""

from __future__ import annotations

import os
import signal
import time

import pytest

from graphmesh.client import Client
from graphmesh.runs import RunStatus
from tests.conftest import TEST_GRAPHS, running_mesh

pytestmark = pytest.mark.e2e


def test_threads_survive_a_restart_of_everything(request: pytest.FixtureRequest) -> None:
    with running_mesh(request, graphs=TEST_GRAPHS, durable=True) as mesh:
        with Client(mesh.gateway_target) as client:
            chat = client.create_thread("chat-1", {"owner": "ops"}).thread_id
            client.wait_run(
                client.create_run("chain3", {"n": 0, "trail": []}, thread_id=chat).run_id
            )
            waiting = client.create_run("hitl", {"trail": []}, thread_id="approval-1")
            assert client.wait_run(waiting.run_id).status is RunStatus.INTERRUPTED
            before = {t: client.get_thread_state(t) for t in (chat, "approval-1")}
            history_before, _ = client.get_thread_history(chat, page_size=100)
            helper = client.create_assistant("greeter", context={"user_id": "u-1"})
            client.update_assistant(helper.assistant_id, name="v2")
            versions_before, _ = client.list_assistant_versions(helper.assistant_id)
            client.put_item(("prefs", "u-1"), "drink", {"text": "tea"}, ttl_minutes=60)
            item_before = client.get_item(("prefs", "u-1"), "drink", refresh_ttl=False)

        mesh.stop()
        mesh.start(timeout=120)

        with Client(mesh.gateway_target) as client:
            for thread_id, state in before.items():
                assert client.get_thread_state(thread_id) == state
            history_after, _ = client.get_thread_history(chat, page_size=100)
            assert history_after == history_before
            assert client.get_thread(chat).metadata == {"owner": "ops"}
            assert client.get_thread("approval-1").status == "INTERRUPTED"
            versions_after, _ = client.list_assistant_versions(helper.assistant_id)
            assert versions_after == versions_before
            assert client.get_assistant(helper.assistant_id).name == "v2"
            assert client.get_item(("prefs", "u-1"), "drink", refresh_ttl=False) == item_before
            # The interrupted conversation is answered after the restart...
            resumed = client.create_run("hitl", None, thread_id="approval-1", resume="yes")
            assert client.wait_run(resumed.run_id, timeout=120).output == {
                "trail": ["a", "approved:yes", "b"]
            }
            # ...and the other one takes its next turn from where it was.
            turn = client.create_run("chain3", {"n": 0}, thread_id=chat)
            assert client.wait_run(turn.run_id, timeout=120).output == {
                "n": 3,
                "trail": ["s0", "s1", "s2"] * 2,
            }


def test_a_run_whose_executor_and_command_were_lost_is_driven_again(
    request: pytest.FixtureRequest,
) -> None:
    # The executor dies mid-run, then the whole stack restarts: the broker
    # (memory only) comes back empty, so the run's command and the queued
    # run's are gone. The event store still knows both: nothing stays stuck.
    env = {"GRAPHMESH_LEASE_MS": "2000", "GRAPHMESH_REQUEUE_AFTER_MS": "1000"}
    with running_mesh(request, graphs=TEST_GRAPHS, durable=True, extra_env=env) as mesh:
        with Client(mesh.gateway_target) as client:
            started = client.create_run("slow", {"seconds": 1.0, "trail": []}, thread_id="lost-1")
            queued = client.create_run("chain3", {"n": 0, "trail": []}, thread_id="lost-1")
            first = next(
                e for e in client.stream_run(started.run_id, timeout=60) if e.type == "NodeUpdated"
            )
        checkpointed = (
            "SELECT count(*) FROM events WHERE type = 'CheckpointSaved'"
            f" AND run_id = '{started.run_id}' AND seq > {first.seq}"
        )
        deadline = time.monotonic() + 30
        while mesh.postgres.query(checkpointed).strip() == "0":  # "first"'s checkpoint
            assert time.monotonic() < deadline, "the checkpoint after 'first' was never stored"
            time.sleep(0.05)
        os.kill(mesh.service("executor").proc.pid, signal.SIGKILL)
        mesh.stop()
        mesh.start(timeout=120)

        with Client(mesh.gateway_target) as client:
            done = client.wait_run(started.run_id, timeout=120)
            assert done.status is RunStatus.SUCCEEDED, done
            assert done.output["trail"] == ["first", "second", "third"]
            assert done.attempt >= 2
            after = client.wait_run(queued.run_id, timeout=120)
            assert after.status is RunStatus.SUCCEEDED, after
            assert client.get_thread("lost-1").status == "IDLE"
        rows = mesh.postgres.query(
            "SELECT type, attempt, payload::json->>'node' FROM events"
            f" WHERE run_id = '{started.run_id}' ORDER BY seq"
        ).split()
        nodes = [r.split("|")[2] for r in rows if r.startswith("NodeUpdated|")]
        assert nodes == ["first", "second", "third"], rows  # "first" was not run again
