"""The `graphmesh` command and the Node.js client against the real mesh."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from graphmesh import AsyncClient, Client, InvalidArgument, NotFound, RunStatus
from graphmesh.testing.stack import LocalStack
from tests.e2e.helpers import public_seqs

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def graphmesh(stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graphmesh_cli.main", *args, "--target", stack.gateway_target],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_run_streams_each_node_and_prints_the_final_state(stack: LocalStack) -> None:
    result = graphmesh(stack, "run", "chain3", "--input", '{"n": 0, "trail": []}', "--stream")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    events = [line for line in lines if line.startswith("[")]
    assert [line.split()[2] for line in events] == [
        "RunCreated",
        "RunStarted",
        "NodeUpdated",
        "NodeUpdated",
        "NodeUpdated",
        "RunSucceeded",
    ]
    assert 's0: {"n": 1, "trail": ["s0"]}' in events[2]
    final = json.loads("\n".join(lines[len(events) :]))
    assert final == {"n": 3, "trail": ["s0", "s1", "s2"]}
    assert "SUCCEEDED" in result.stderr


def test_cli_runs_get_and_list(stack: LocalStack) -> None:
    thread = "cli-thread-1"
    run = graphmesh(stack, "run", "chain3", "--input", '{"n": 10, "trail": []}', "--thread", thread)
    assert run.returncode == 0, run.stderr
    listed = graphmesh(stack, "runs", "list", "--thread", thread)
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)["runs"]
    assert len(runs) == 1 and runs[0]["output"] == {"n": 13, "trail": ["s0", "s1", "s2"]}
    got = graphmesh(stack, "runs", "get", runs[0]["run_id"])
    assert got.returncode == 0 and json.loads(got.stdout)["status"] == "SUCCEEDED"


def test_cli_reports_bad_input_with_reason_and_exit_code(stack: LocalStack) -> None:
    result = graphmesh(stack, "run", "chain3", "--input", "{oops")
    assert result.returncode == 1
    assert "INVALID_ARGUMENT" in result.stderr and "INPUT_MALFORMED_JSON" in result.stderr
    missing = graphmesh(stack, "runs", "get", "00000000-0000-0000-0000-000000000000")
    assert missing.returncode == 1 and "RUN_NOT_FOUND" in missing.stderr


def node_client(
    stack: LocalStack, graph: str, value: object, *options: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Runs examples/clients/node/client.js; its streamed events and final line."""
    node = shutil.which("node")
    assert node is not None, "Node.js is required (scripts/setup installs the npm packages)"
    client_dir = ROOT / "examples" / "clients" / "node"
    assert (client_dir / "node_modules" / "@grpc" / "grpc-js").exists(), "run scripts/setup"
    result = subprocess.run(
        [
            node,
            "client.js",
            "--target",
            stack.gateway_target,
            "--graph",
            graph,
            "--input",
            json.dumps(value),
            *options,
        ],
        cwd=client_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return lines[:-1], lines[-1]


def test_node_client_creates_a_run_and_streams_it_to_the_end(stack: LocalStack) -> None:
    question = {"messages": [{"role": "user", "content": "what is 7 + 8?"}]}
    events, final = node_client(stack, "agent", question)
    assert [e["seq"] for e in events] == public_seqs(stack, final["run_id"])
    assert events[0]["type"] == "RunCreated" and events[-1]["type"] == "RunSucceeded"
    assert final["status"] == "RUN_STATUS_SUCCEEDED"
    assert final["output"]["messages"][-1]["content"] == "The answer is 15."


async def test_the_async_client_runs_streams_and_refuses_as_the_sync_one_does(
    stack: LocalStack,
) -> None:
    async with AsyncClient(stack.gateway_target) as client:
        run = await client.create_run("chain3", {"n": 0, "trail": []}, request_id=str(uuid.uuid4()))
        events = [e async for e in client.stream_run(run.run_id, stream_modes=["updates"])]
        done = await client.wait_run(run.run_id, timeout=60)
        assert done.status is RunStatus.SUCCEEDED
        assert done.output == {"n": 3, "trail": ["s0", "s1", "s2"]}
        assert [e.type for e in events] == [
            "RunCreated",
            "RunStarted",
            "NodeUpdated",
            "NodeUpdated",
            "NodeUpdated",
            "RunSucceeded",
        ]
        assert [e.previous_seq for e in events[1:]] == [e.seq for e in events[:-1]]
        with pytest.raises(NotFound) as missing:
            await client.get_run(str(uuid.uuid4()))
        assert missing.value.reason == "RUN_NOT_FOUND"
        with pytest.raises(InvalidArgument) as bad:
            await client.create_run("chain3", "{not json")
        assert (bad.value.reason, bad.value.field) == ("INPUT_MALFORMED_JSON", "input_json")
    # The blocking client raises the same classes.
    with Client(stack.gateway_target) as blocking, pytest.raises(NotFound) as again:
        blocking.get_run(str(uuid.uuid4()))
    assert again.value.reason == "RUN_NOT_FOUND"


def test_config_and_context_through_the_cli_and_the_node_client(stack: LocalStack) -> None:
    config = json.dumps({"configurable": {"model": "large-2"}, "tags": ["cli"]})
    context = json.dumps({"user_id": "u-7", "tone": "brisk"})
    result = graphmesh(
        stack,
        "run",
        "greeter",
        "--input",
        json.dumps({"name": "Bo", "greeting": "", "seen": []}),
        "--config",
        config,
        "--context",
        context,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["greeting"] == "brisk hello Bo from u-7 via large-2"
    _, final = node_client(
        stack,
        "greeter",
        {"name": "Cy", "greeting": "", "seen": []},
        "--config",
        config,
        "--context",
        context,
    )
    assert final["status"] == "RUN_STATUS_SUCCEEDED"
    assert final["output"]["greeting"] == "brisk hello Cy from u-7 via large-2"
    assert final["output"]["seen"][0] == "cli"  # the tags
