"""The requests the clients send, built once for both (graphmesh.client._calls)."""

from __future__ import annotations

import pytest

from graphmesh.client import _calls
from graphmesh.runs import RunStatus
from graphmesh.v1 import run_pb2
from graphmesh.v1 import run_service_pb2 as pb


def test_a_run_request_carries_its_options_and_command() -> None:
    request = _calls.create_run(
        "hitl",
        None,
        {
            "thread_id": "t",
            "resume": None,
            "multitask_strategy": "reject",
            "stream_modes": ["values"],
        },
    )
    assert (request.thread_id, request.input_json) == ("t", "")
    assert request.command.resume_json == "null"  # None is a resume value of its own
    assert request.multitask_strategy == pb.MULTITASK_STRATEGY_REJECT
    assert list(request.stream_modes) == [run_pb2.STREAM_MODE_VALUES]
    plain = _calls.create_run("chain3", {"n": 0}, {"metadata": None, "update": None})
    assert plain.input_json == '{"n": 0}' and not plain.HasField("command")
    with pytest.raises(ValueError, match="multitask_strategy"):
        _calls.create_run("chain3", {}, {"multitask_strategy": "queue"})
    with pytest.raises(ValueError, match="stream mode"):
        _calls.create_run("chain3", {}, {"stream_modes": ["everything"]})


def test_list_requests_leave_unset_what_was_not_given() -> None:
    runs = _calls.list_runs({"page_size": None, "status": RunStatus.FAILED})
    assert not runs.HasField("page_size") and runs.status == RunStatus.FAILED
    assert _calls.list_runs({"page_size": 0}).HasField("page_size")  # 0 is refused by the server
    threads = _calls.list_threads({"status": "interrupted", "page_size": 5})
    assert (threads.status, threads.page_size) == (3, 5)
