"""Folding events into a run, and projecting batches of them."""

from __future__ import annotations

import json

import pytest

from graphmesh import envelope as ev
from graphmesh.run_created import RunCreated
from graphmesh.runs import RunStatus, fold, fold_all, from_proto, to_proto
from graphmesh_projector.projection import project

RUN = "00000000-0000-0000-0000-0000000000aa"


def created() -> ev.Event:
    payload = RunCreated("chain3", {"n": 0}, "req-1", {"k": "v"}, "fp")
    return payload.to_event(RUN, "thread-1")


def later(seq: int, type_: str, payload: object = None) -> ev.Event:
    return ev.new_event(RUN, "thread-1", seq, 1, type_, json.dumps(payload or {}))


def test_created_run_is_pending_with_its_input() -> None:
    view = fold(None, created())
    assert view.status is RunStatus.PENDING
    assert (view.graph_id, view.input_json, view.request_id) == ("chain3", '{"n":0}', "req-1")
    assert view.metadata == {"k": "v"} and view.last_seq == 1


def test_run_moves_through_running_to_succeeded_with_output() -> None:
    view = fold_all(
        [
            created(),
            later(2, ev.RUN_STARTED),
            later(3, ev.NODE_UPDATED, {"node": "s0"}),
            later(4, ev.RUN_SUCCEEDED, {"output": {"n": 3}}),
        ]
    )
    assert view is not None
    assert view.status is RunStatus.SUCCEEDED
    assert json.loads(view.output_json) == {"n": 3}
    assert (view.last_seq, view.attempt) == (4, 1)


def test_failure_carries_the_error() -> None:
    view = fold_all(
        [created(), later(2, ev.RUN_FAILED, {"error": {"type": "KeyError", "message": "'n'"}})]
    )
    assert view is not None and view.status is RunStatus.FAILED
    assert (view.error_type, view.error_message) == ("KeyError", "'n'")


def test_replaying_an_event_changes_nothing() -> None:
    view = fold_all([created(), later(2, ev.RUN_STARTED)])
    assert view is not None
    assert fold(view, later(2, ev.RUN_SUCCEEDED, {"output": 1})) is view


def test_a_run_must_start_with_run_created() -> None:
    with pytest.raises(ValueError, match="RunCreated"):
        fold(None, later(2, ev.RUN_STARTED))


def test_project_applies_each_event_once_even_if_the_batch_repeats() -> None:
    events = [created(), later(2, ev.RUN_STARTED), later(3, ev.RUN_SUCCEEDED, {"output": {}})]
    first = project({}, events)
    assert first[RUN].status is RunStatus.SUCCEEDED
    assert project(first, events) == {}


def test_a_run_message_reads_back_as_the_view_it_shows() -> None:
    payload = RunCreated("hitl", {"trail": []}, "req", {"k": "v"}, stream_modes=("values",))
    first = payload.to_event(RUN, "t")
    interrupted = {"interrupts": [{"id": "i1", "value": {"q": "ok?"}}], "output": {"trail": ["a"]}}
    view = fold_all(
        [
            first,
            later(2, ev.RUN_STARTED),
            later(3, ev.RUN_INTERRUPTED, interrupted),
        ]
    )
    assert view is not None and view.status is RunStatus.INTERRUPTED
    assert from_proto(to_proto(view)) == view


def test_a_run_s_config_and_context_survive_the_stored_payload() -> None:
    created = RunCreated(
        "greeter",
        {"name": "Ann"},
        config={"configurable": {"model": "m"}, "recursion_limit": 3},
        context={"user_id": "u"},
    )
    again = RunCreated.from_payload(created.to_payload())
    assert (again.config, again.context) == (created.config, created.context)
    view = fold(None, created.to_event(RUN, "t"))
    assert json.loads(view.config_json) == {"configurable": {"model": "m"}, "recursion_limit": 3}
    assert json.loads(view.context_json) == {"user_id": "u"}
    plain = fold(None, RunCreated("chain3", {}).to_event(RUN, "t"))
    assert (plain.config_json, plain.context_json) == ("", "")
