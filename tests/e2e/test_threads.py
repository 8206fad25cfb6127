"""Durable threads through the real services: multi-turn state, interrupts
and resume (API and CLI), history, state updates, forks, multitask
strategies, and the thread API's bad input."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from graphmesh.client import Client
from graphmesh.errors import GraphmeshError
from graphmesh.runs import RunStatus
from graphmesh.testing.stack import LocalStack
from graphmesh.v1 import run_service_pb2 as run_pb
from graphmesh.v1 import run_service_pb2_grpc, thread_service_pb2_grpc
from graphmesh.v1 import thread_service_pb2 as pb
from tests.conftest import store_counts
from tests.e2e.test_bad_input import expect

pytestmark = pytest.mark.e2e

CHAIN3_IN = {"n": 0, "trail": []}


@pytest.fixture(scope="module")
def thread_stub(stack: LocalStack) -> Iterator[thread_service_pb2_grpc.ThreadServiceStub]:
    with grpc.insecure_channel(stack.gateway_target) as channel:
        yield thread_service_pb2_grpc.ThreadServiceStub(channel)


def wait_for(check: Callable[[], Any], timeout: float = 30) -> Any:
    """Polls `check` until it returns something true (read models lag a bit)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_a_thread_carries_state_from_one_run_to_the_next(client: Client, thread_id: str) -> None:
    first = client.wait_run(client.create_run("chain3", CHAIN3_IN, thread_id=thread_id).run_id)
    second = client.wait_run(
        client.create_run("chain3", {"n": 10}, thread_id=thread_id).run_id, timeout=60
    )
    assert first.output == {"n": 3, "trail": ["s0", "s1", "s2"]}
    # trail has an add reducer: the second turn appends to the first's.
    assert second.output == {"n": 13, "trail": ["s0", "s1", "s2"] * 2}
    state = client.get_thread_state(thread_id)
    assert state.values == second.output and state.next == []
    assert state.metadata["run_id"] == second.run_id
    thread = client.get_thread(thread_id)
    assert (thread.status, thread.graph_id, thread.last_run_id) == (
        "IDLE",
        "chain3",
        second.run_id,
    )


def test_interrupt_is_visible_everywhere_and_resume_continues_it(
    client: Client, thread_id: str
) -> None:
    run = client.create_run("hitl", {"trail": []}, thread_id=thread_id)
    stopped = client.wait_run(run.run_id, timeout=60)
    assert stopped.status is RunStatus.INTERRUPTED
    question = {"question": "approve?", "trail": ["a"]}
    assert [i["value"] for i in stopped.interrupts] == [question]
    assert wait_for(lambda: client.get_run(run.run_id).interrupts) == stopped.interrupts
    streamed = list(client.stream_run(run.run_id))[-1]
    assert streamed.type == "RunInterrupted"
    assert streamed.payload["interrupts"] == stopped.interrupts
    state = client.get_thread_state(thread_id)
    assert state.interrupts == stopped.interrupts and state.next == ["approve"]
    assert client.get_thread(thread_id).status == "INTERRUPTED"

    resumed = client.create_run("hitl", None, thread_id=thread_id, resume="yes")
    done = client.wait_run(resumed.run_id, timeout=60)
    assert done.status is RunStatus.SUCCEEDED
    assert done.output == {"trail": ["a", "approved:yes", "b"]}
    assert client.get_thread_state(thread_id).interrupts == []
    assert client.get_thread(thread_id).status == "IDLE"


def test_cli_shows_the_interrupt_and_a_second_process_resumes_it(
    stack: LocalStack, thread_id: str
) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "graphmesh_cli.main", *args, "--target", stack.gateway_target],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    first = cli("run", "hitl", "--thread", thread_id, "--input", '{"trail": []}')
    assert first.returncode == 0, first.stderr
    assert "INTERRUPTED" in first.stderr
    assert '{"question": "approve?", "trail": ["a"]}' in first.stderr
    assert f"--thread {thread_id} --resume" in first.stderr
    second = cli("run", "hitl", "--thread", thread_id, "--resume", '"yes"', "--stream")
    assert second.returncode == 0, second.stderr
    assert "SUCCEEDED" in second.stderr
    output = second.stdout[second.stdout.index("{\n") :]
    assert json.loads(output) == {"trail": ["a", "approved:yes", "b"]}
    shown = cli("threads", "state", thread_id)
    assert json.loads(shown.stdout)["values"] == {"trail": ["a", "approved:yes", "b"]}


def test_history_is_newest_first_and_pages_without_gaps(client: Client, thread_id: str) -> None:
    client.wait_run(client.create_run("chain3", CHAIN3_IN, thread_id=thread_id).run_id)
    pages: list[Any] = []
    token = ""
    for _ in range(10):
        page, token = client.get_thread_history(thread_id, page_size=2, page_token=token)
        pages += page
        if not token:
            break
    steps = [s.metadata["step"] for s in pages]
    assert steps == [3, 2, 1, 0, -1]
    assert [s.values.get("n") for s in pages] == [3, 2, 1, 0, None]
    for newer, older in itertools.pairwise(pages):
        assert newer.parent_checkpoint_id == older.checkpoint_id


def test_fork_from_an_earlier_checkpoint_and_update_state(client: Client, thread_id: str) -> None:
    client.wait_run(client.create_run("chain3", CHAIN3_IN, thread_id=thread_id).run_id)
    history, _ = client.get_thread_history(thread_id, page_size=100)
    after_s0 = next(s for s in history if s.next == ["s1"])
    assert after_s0.values == {"n": 1, "trail": ["s0"]}
    # Time travel: run again from after s0; s1 and s2 run on that branch.
    fork = client.create_run(
        "chain3", None, thread_id=thread_id, checkpoint_id=after_s0.checkpoint_id
    )
    assert client.wait_run(fork.run_id, timeout=60).output == {
        "n": 3,
        "trail": ["s0", "s1", "s2"],
    }
    # A state update on the earlier checkpoint, as if s0 had returned it.
    updated = client.update_thread_state(
        thread_id, {"n": 10}, as_node="s0", checkpoint_id=after_s0.checkpoint_id
    )
    state = client.get_thread_state(thread_id)
    assert state.checkpoint_id == updated and state.next == ["s1"]
    assert state.values == {"n": 10, "trail": ["s0"]}
    assert state.parent_checkpoint_id == after_s0.checkpoint_id
    go_on = client.create_run("chain3", None, thread_id=thread_id, checkpoint_id=updated)
    assert client.wait_run(go_on.run_id, timeout=60).output == {
        "n": 12,
        "trail": ["s0", "s1", "s2"],
    }


def test_threads_are_created_listed_filtered_and_deleted(client: Client) -> None:
    tag = f"team-{time.monotonic_ns()}"
    made = [client.create_thread(metadata={"team": tag, "i": str(i)}) for i in range(3)]
    assert all(t.status == "IDLE" and t.metadata["team"] == tag for t in made)
    with pytest.raises(GraphmeshError) as exc:
        client.create_thread(made[0].thread_id)
    assert exc.value.reason == "THREAD_EXISTS"
    again = client.create_thread(made[0].thread_id, if_exists_return=True)
    assert again.thread_id == made[0].thread_id

    seen: list[str] = []
    token = ""
    for _ in range(10):
        page, token = client.list_threads(metadata={"team": tag}, page_size=2, page_token=token)
        seen += [t.thread_id for t in page]
        if not token:
            break
    assert sorted(seen) == sorted(t.thread_id for t in made)
    client.wait_run(
        client.create_run("chain3", {"trail": []}, thread_id=made[1].thread_id).run_id
    )  # fails: no "n"
    errored, _ = client.list_threads(metadata={"team": tag}, status="error")
    assert [t.thread_id for t in errored] == [made[1].thread_id]
    idle, _ = client.list_threads(metadata={"team": tag}, status="idle")
    assert {t.thread_id for t in idle} == {made[0].thread_id, made[2].thread_id}

    client.delete_thread(made[2].thread_id)
    with pytest.raises(GraphmeshError) as exc:
        client.get_thread(made[2].thread_id)
    assert exc.value.reason == "THREAD_DELETED"
    remaining, _ = client.list_threads(metadata={"team": tag})
    assert made[2].thread_id not in {t.thread_id for t in remaining}


def slow_running(client: Client, thread_id: str, seconds: float) -> str:
    """Starts a slow run on the thread and waits until its first node is done."""
    run = client.create_run("slow", {"seconds": seconds, "trail": []}, thread_id=thread_id)
    wait_for(lambda: "first" in client.get_thread_state(thread_id).values.get("trail", []))
    return run.run_id


def test_reject_strategy_refuses_a_run_while_the_thread_is_busy(
    client: Client, thread_id: str, stack: LocalStack
) -> None:
    busy = slow_running(client, thread_id, 1.0)
    assert client.get_thread(thread_id).status == "BUSY"
    busy_listed, _ = client.list_threads(status="busy", page_size=1000)
    assert thread_id in {t.thread_id for t in busy_listed}
    before = store_counts(stack)
    with pytest.raises(GraphmeshError) as exc:
        client.create_run(
            "slow", {"seconds": 0, "trail": []}, thread_id=thread_id, multitask_strategy="reject"
        )
    assert (exc.value.code, exc.value.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "THREAD_BUSY",
    )
    counts = store_counts(stack)
    assert counts["run_heads"] == before["run_heads"]  # no run was made
    assert client.wait_run(busy, timeout=60).status is RunStatus.SUCCEEDED


@pytest.mark.parametrize(("strategy", "kept"), [("interrupt", ["first"]), ("rollback", [])])
def test_interrupt_and_rollback_strategies_cancel_the_running_run(
    client: Client, thread_id: str, strategy: str, kept: list[str]
) -> None:
    busy = slow_running(client, thread_id, 3.0)
    new = client.create_run(
        "slow", {"seconds": 0, "trail": []}, thread_id=thread_id, multitask_strategy=strategy
    )
    cancelled = client.wait_run(busy, timeout=60)
    assert cancelled.status is RunStatus.CANCELLED
    done = client.wait_run(new.run_id, timeout=60)
    assert done.status is RunStatus.SUCCEEDED
    # interrupt keeps what the cancelled run wrote; rollback removes it.
    assert done.output["trail"] == [*kept, "first", "second", "third"]
    events = list(client.stream_run(busy))
    assert events[-1].payload["action"] == strategy


def test_thread_bad_input_gets_precise_statuses_and_changes_nothing(
    client: Client,
    thread_stub: thread_service_pb2_grpc.ThreadServiceStub,
    run_stub: run_service_pb2_grpc.RunServiceStub,
    stack: LocalStack,
    thread_id: str,
) -> None:
    client.wait_run(client.create_run("chain3", CHAIN3_IN, thread_id=thread_id).run_id)
    other = f"{thread_id}-other"
    client.wait_run(client.create_run("chain3", CHAIN3_IN, thread_id=other).run_id)
    foreign_checkpoint = client.get_thread_state(other).checkpoint_id
    gone = f"{thread_id}-gone"
    client.create_thread(gone)
    client.delete_thread(gone)
    invalid, not_found = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
    precondition = grpc.StatusCode.FAILED_PRECONDITION
    bad = "no spaces allowed"
    cases: list[tuple[Callable[[], Any], grpc.StatusCode, str, str]] = [
        (
            lambda: run_stub.CreateRun(
                run_pb.CreateRunRequest(
                    graph_id="chain3",
                    thread_id=thread_id,
                    command=run_pb.Command(resume_json='"yes"'),
                )
            ),
            precondition,
            "NO_PENDING_INTERRUPT",
            "command.resume_json",
        ),
        (
            lambda: thread_stub.UpdateThreadState(
                pb.UpdateThreadStateRequest(
                    thread_id=thread_id, values_json='{"n": 1}', as_node="nope"
                )
            ),
            invalid,
            "NODE_UNKNOWN",
            "as_node",
        ),
        (
            lambda: run_stub.CreateRun(
                run_pb.CreateRunRequest(
                    graph_id="chain3", thread_id=thread_id, checkpoint_id=foreign_checkpoint
                )
            ),
            not_found,
            "CHECKPOINT_NOT_FOUND",
            "checkpoint_id",
        ),
        (
            lambda: thread_stub.GetThreadState(
                pb.GetThreadStateRequest(thread_id=thread_id, checkpoint_id=foreign_checkpoint)
            ),
            not_found,
            "CHECKPOINT_NOT_FOUND",
            "checkpoint_id",
        ),
        (
            lambda: run_stub.CreateRun(
                run_pb.CreateRunRequest(
                    graph_id="chain3", thread_id=gone, input_json=json.dumps(CHAIN3_IN)
                )
            ),
            not_found,
            "THREAD_DELETED",
            "thread_id",
        ),
        (
            lambda: thread_stub.CreateThread(pb.CreateThreadRequest(thread_id=gone)),
            not_found,
            "THREAD_DELETED",
            "thread_id",
        ),
        (
            lambda: run_stub.CreateRun(
                run_pb.CreateRunRequest(
                    graph_id="chain3",
                    thread_id=thread_id,
                    input_json="{}",
                    command=run_pb.Command(resume_json='"x"'),
                )
            ),
            invalid,
            "INPUT_AND_COMMAND",
            "input_json",
        ),
        (
            lambda: run_stub.CreateRun(
                run_pb.CreateRunRequest(
                    graph_id="chain3",
                    thread_id=thread_id,
                    command=run_pb.Command(goto=["nowhere"]),
                )
            ),
            invalid,
            "NODE_UNKNOWN",
            "command.goto",
        ),
        (
            lambda: run_stub.CreateRun(
                run_pb.CreateRunRequest(
                    graph_id="chain3",
                    thread_id=thread_id,
                    multitask_strategy=99,  # type: ignore[arg-type]
                )
            ),
            invalid,
            "MULTITASK_STRATEGY_UNKNOWN",
            "multitask_strategy",
        ),
        (
            lambda: thread_stub.GetThread(pb.GetThreadRequest(thread_id=f"{thread_id}-never")),
            not_found,
            "THREAD_NOT_FOUND",
            "thread_id",
        ),
        (
            lambda: thread_stub.UpdateThreadState(
                pb.UpdateThreadStateRequest(thread_id=thread_id, values_json="[1]")
            ),
            invalid,
            "VALUES_NOT_OBJECT",
            "values_json",
        ),
        (
            lambda: thread_stub.DeleteThread(pb.DeleteThreadRequest(thread_id=gone)),
            not_found,
            "THREAD_DELETED",
            "thread_id",
        ),
    ]
    for method in ("GetThread", "GetThreadState", "GetThreadHistory", "DeleteThread"):
        request_type = getattr(pb, f"{method}Request")

        def with_bad_id(m: str = method, r: Any = request_type) -> Any:
            return getattr(thread_stub, m)(r(thread_id=bad))

        cases.append(
            (
                with_bad_id,
                invalid,
                "THREAD_ID_MALFORMED",
                "thread_id",
            )
        )
    cases.append(
        (
            lambda: thread_stub.CreateThread(pb.CreateThreadRequest(thread_id=bad)),
            invalid,
            "THREAD_ID_MALFORMED",
            "thread_id",
        )
    )
    before = store_counts(stack)
    failures = []
    for call, code, reason, field in cases:
        try:
            expect(call, code, reason, field)
        except AssertionError as exc:
            failures.append(f"{reason}: {exc}")
    assert failures == []
    assert store_counts(stack) == before


@pytest.mark.parametrize(("durability", "saved"), [("sync", 5), ("async", 5), ("exit", 1)])
def test_durability_modes_decide_which_checkpoints_are_written(
    client: Client, thread_id: str, durability: str, saved: int
) -> None:
    run = client.create_run("chain3", CHAIN3_IN, thread_id=thread_id, durability=durability)
    assert client.wait_run(run.run_id, timeout=60).output == {"n": 3, "trail": ["s0", "s1", "s2"]}
    history, _ = client.get_thread_history(thread_id, page_size=100)
    assert len(history) == saved
    assert history[0].values == {"n": 3, "trail": ["s0", "s1", "s2"]}


def test_a_command_can_update_the_state_and_go_to_a_node(client: Client, thread_id: str) -> None:
    client.wait_run(client.create_run("chain3", CHAIN3_IN, thread_id=thread_id).run_id)
    steer = client.create_run("chain3", None, thread_id=thread_id, update={"n": 100}, goto=["s2"])
    done = client.wait_run(steer.run_id, timeout=60)
    # Only s2 ran, on the updated state.
    assert done.output == {"n": 101, "trail": ["s0", "s1", "s2", "s2"]}


def test_two_resumes_of_one_interrupt_use_one_value(
    stack: LocalStack, client: Client, thread_id: str
) -> None:
    # Both resumes are accepted while the interrupt is pending (the
    # executor is paused, so neither can start before the other is
    # submitted); the first to start answers it, the second finds nothing
    # to answer when it starts and ends FAILED, its value unused.
    asked = client.create_run("hitl", {"trail": []}, thread_id=thread_id)
    assert client.wait_run(asked.run_id).status is RunStatus.INTERRUPTED
    executor = stack.service("executor").proc.pid
    os.kill(executor, signal.SIGSTOP)
    try:
        x = client.create_run("hitl", None, thread_id=thread_id, resume="x")
        y = client.create_run("hitl", None, thread_id=thread_id, resume="y")
    finally:
        os.kill(executor, signal.SIGCONT)
    won, lost = client.wait_run(x.run_id, timeout=60), client.wait_run(y.run_id, timeout=60)
    assert won.status is RunStatus.SUCCEEDED, won
    assert won.output == {"trail": ["a", "approved:x", "b"]}
    assert lost.status is RunStatus.FAILED, lost
    assert lost.error is not None and lost.error["type"] == "NO_PENDING_INTERRUPT"
    assert lost.output is None
    assert client.get_thread_state(thread_id).values == {"trail": ["a", "approved:x", "b"]}
    types = stack.postgres.query(
        f"SELECT type FROM events WHERE run_id = '{lost.run_id}' ORDER BY seq"
    ).split()
    assert types == ["RunCreated", "RunStarted", "RunFailed"]  # it wrote nothing


def test_labels_are_added_to_a_thread_later(
    client: Client,
    stack: LocalStack,
    thread_stub: thread_service_pb2_grpc.ThreadServiceStub,
    thread_id: str,
) -> None:
    client.create_thread(thread_id, {"team": "support", "stage": "new"})
    changed = client.update_thread(thread_id, {"stage": "done", "owner": "ann"})
    assert changed.metadata == {"team": "support", "stage": "done", "owner": "ann"}
    assert client.get_thread(thread_id).metadata == changed.metadata
    found, _ = client.list_threads(metadata={"stage": "done", "owner": "ann"})
    assert [t.thread_id for t in found] == [thread_id]
    cli = subprocess.run(
        [
            *(sys.executable, "-m", "graphmesh_cli.main", "threads", "label", thread_id),
            *("--metadata", "owner=bob", "--target", stack.gateway_target),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["metadata"]["owner"] == "bob"
    # Bad input changes nothing.
    before = store_counts(stack)
    expect(
        lambda: thread_stub.UpdateThread(
            pb.UpdateThreadRequest(thread_id=thread_id, metadata={f"k{i}": "v" for i in range(62)})
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "METADATA_TOO_LARGE",
        "metadata",
    )
    expect(
        lambda: thread_stub.UpdateThread(
            pb.UpdateThreadRequest(thread_id=f"{thread_id}-none", metadata={"a": "b"})
        ),
        grpc.StatusCode.NOT_FOUND,
        "THREAD_NOT_FOUND",
        "thread_id",
    )
    assert store_counts(stack) == before
    assert client.get_thread(thread_id).metadata["owner"] == "bob"


def test_a_copied_thread_goes_on_from_the_same_state_apart_from_the_original(
    client: Client,
    stack: LocalStack,
    thread_stub: thread_service_pb2_grpc.ThreadServiceStub,
    thread_id: str,
) -> None:
    client.create_thread(thread_id, {"team": "support"})
    paused = client.create_run("hitl", {"trail": []}, thread_id=thread_id)
    assert client.wait_run(paused.run_id, timeout=60).status is RunStatus.INTERRUPTED
    copy = client.copy_thread(thread_id, f"{thread_id}-copy")
    assert (copy.thread_id, copy.metadata, copy.graph_id) == (
        f"{thread_id}-copy",
        {"team": "support"},
        "hitl",
    )
    original, copied = client.get_thread_state(thread_id), client.get_thread_state(copy.thread_id)
    assert (copied.values, copied.next, copied.interrupts) == (
        original.values,
        original.next,
        original.interrupts,
    )
    resumed = client.create_run("hitl", None, thread_id=copy.thread_id, resume="yes")
    done = client.wait_run(resumed.run_id, timeout=60)
    assert done.output == {"trail": ["a", "approved:yes", "b"]}
    assert client.get_thread_state(thread_id).next == ["approve"]  # the original waits on
    assert client.get_thread(thread_id).status == "INTERRUPTED"
    # A copy onto an id in use, or of a thread that is not there, changes nothing.
    before = store_counts(stack)
    expect(
        lambda: thread_stub.CopyThread(
            pb.CopyThreadRequest(thread_id=thread_id, new_thread_id=copy.thread_id)
        ),
        grpc.StatusCode.ALREADY_EXISTS,
        "THREAD_EXISTS",
        "new_thread_id",
    )
    expect(
        lambda: thread_stub.CopyThread(pb.CopyThreadRequest(thread_id=f"{thread_id}-none")),
        grpc.StatusCode.NOT_FOUND,
        "THREAD_NOT_FOUND",
        "thread_id",
    )
    expect(
        lambda: thread_stub.CopyThread(
            pb.CopyThreadRequest(thread_id=thread_id, new_thread_id="bad id!")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "THREAD_ID_MALFORMED",
        "new_thread_id",
    )
    assert store_counts(stack) == before
