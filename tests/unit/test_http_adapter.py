"""The HTTP API's pure parts: LangGraph run bodies read into graphmesh's
options, stored events turned into LangGraph Server's SSE events, errors
mapped to statuses, and the OpenAPI document naming exactly the routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from graphmesh import envelope as ev
from graphmesh import errors
from graphmesh.client import AsyncClient, RunEvent
from graphmesh_gateway.http.app import Api
from graphmesh_gateway.http.errors import NotServed, TooLarge, http_status
from graphmesh_gateway.http.openapi import OPERATIONS, served_operations
from graphmesh_gateway.http.payloads import run_request
from graphmesh_gateway.http.server import all_routes
from graphmesh_gateway.http.sse import SseTranslator, merge_chunks


def _event(
    type_: str, payload: Any, seq: int, mode: str = "", ns: tuple[str, ...] = ()
) -> RunEvent:
    return RunEvent(
        run_id="r",
        seq=seq,
        type=type_,
        payload=payload,
        cursor=f"c{seq}",
        attempt=1,
        time=datetime.now(UTC),
        mode=mode,
        namespace=ns,
    )


def _chunk(text: str, seq: int) -> RunEvent:
    message = {"type": "AIMessageChunk", "content": text, "id": "m1"}
    return _event(
        ev.MESSAGE_CHUNK, {"data": [message, {"langgraph_node": "model"}]}, seq, "messages"
    )


def test_messages_mode_sends_each_message_whole_so_far() -> None:
    translator = SseTranslator(("messages",))
    first = translator.translate(_chunk("Hel", 1))
    second = translator.translate(_chunk("lo", 2))
    assert [e.event for e in first] == ["messages/metadata", "messages/partial"]
    assert first[0].data == {"m1": {"metadata": {"langgraph_node": "model"}}}
    assert [e.event for e in second] == ["messages/partial"]
    assert second[0].data[0]["content"] == "Hello"
    # Only the last SSE event of a stored one carries its cursor.
    assert [e.id for e in first] == [None, "c1"] and second[0].id == "c2"
    assert translator.replays


def test_messages_tuple_mode_sends_chunks_as_stored() -> None:
    translator = SseTranslator(("messages-tuple",))
    (one,) = translator.translate(_chunk("Hel", 1))
    assert one.event == "messages" and one.data[0]["content"] == "Hel" and one.id == "c1"
    assert not translator.replays


def test_subgraph_events_are_named_with_their_namespace_when_asked_for() -> None:
    event = _event(ev.STATE_VALUES, {"data": {"x": 1}}, 3, "values", ("child:1",))
    assert SseTranslator(("values",)).translate(event) == []
    (sent,) = SseTranslator(("values",), subgraphs=True).translate(event)
    assert (sent.event, sent.data) == ("values|child:1", {"x": 1})


def test_an_update_is_sent_as_langgraph_gives_it_and_only_when_asked_for() -> None:
    event = _event(ev.NODE_UPDATED, {"node": "a", "update": {"n": 1}}, 4, "updates")
    assert SseTranslator(("values",)).translate(event) == []
    (sent,) = SseTranslator(("updates",)).translate(event)
    assert sent.data == {"a": {"n": 1}}


def test_a_failed_run_ends_with_an_error_event() -> None:
    event = _event(ev.RUN_FAILED, {"error": {"type": "ValueError", "message": "boom"}}, 9)
    (sent,) = SseTranslator(("values",)).translate(event)
    assert (sent.event, sent.data) == ("error", {"error": "ValueError", "message": "boom"})
    assert SseTranslator(("values",)).translate(_event(ev.RUN_STARTED, {}, 2)) == []


def test_chunks_of_tool_calls_merge_as_langchain_merges_them() -> None:
    left = {
        "type": "AIMessageChunk",
        "content": "",
        "id": "m",
        "tool_call_chunks": [{"name": "add", "args": '{"a": ', "id": "t", "index": 0}],
    }
    right = {
        "type": "AIMessageChunk",
        "content": "",
        "id": "m",
        "tool_call_chunks": [{"name": None, "args": "1}", "id": None, "index": 0}],
    }
    merged = merge_chunks(left, right)
    assert merged["tool_call_chunks"][0]["args"] == '{"a": 1}'
    assert (
        merge_chunks({"type": "ai", "content": "x"}, {"type": "ai", "content": "y"})["content"]
        == "y"
    )


def test_a_run_body_is_read_into_the_options_graphmesh_takes() -> None:
    wanted = run_request(
        {
            "assistant_id": "chain3",
            "command": {"resume": "yes", "goto": ["b"]},
            "stream_mode": ["messages", "values"],
            "metadata": {"who": "me", "n": 2},
            "checkpoint": {"checkpoint_id": "c1"},
            "interrupt_before": "*",
            "checkpoint_during": False,
        },
        "t1",
    )
    assert wanted.target == "chain3" and wanted.input is None
    assert wanted.options["resume"] == "yes" and wanted.options["goto"] == ["b"]
    assert wanted.options["stream_modes"] == ["messages", "values"]
    assert wanted.options["metadata"] == {"who": "me", "n": "2"}
    assert wanted.options["checkpoint_id"] == "c1"
    assert wanted.options["interrupt_before"] == ["*"]
    assert wanted.options["durability"] == "exit"
    assert wanted.options["thread_id"] == "t1"
    assert wanted.multitask_strategy == "enqueue" and wanted.if_not_exists == "reject"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "ASSISTANT_ID_MISSING"),
        ([], "REQUEST_MALFORMED"),
        ({"assistant_id": 3}, "REQUEST_MALFORMED"),
        ({"assistant_id": "g", "input": {}, "command": {"resume": 1}}, "INPUT_AND_COMMAND"),
        ({"assistant_id": "g", "multitask_strategy": "later"}, "REQUEST_MALFORMED"),
        ({"assistant_id": "g", "stream_mode": "nonsense"}, "STREAM_MODE_UNKNOWN"),
        ({"assistant_id": "g", "interrupt_before": "a"}, "REQUEST_MALFORMED"),
        ({"assistant_id": "g", "durability": "later"}, "REQUEST_MALFORMED"),
    ],
)
def test_a_malformed_run_body_is_refused_with_its_reason(body: Any, reason: str) -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        run_request(body)
    assert refused.value.reason == reason
    assert http_status(refused.value) == 422


@pytest.mark.parametrize(
    "body",
    [
        {"assistant_id": "g", "webhook": "https://example.com/hook"},
        {"assistant_id": "g", "after_seconds": 5},
    ],
)
def test_what_is_not_served_yet_is_501(body: Any) -> None:
    with pytest.raises(NotServed) as refused:
        run_request(body)
    assert http_status(refused.value) == 501


def test_each_error_class_has_langgraph_servers_status() -> None:
    assert http_status(errors.NotFound("x", reason="R")) == 404
    assert http_status(errors.FailedPrecondition("x", reason="THREAD_BUSY")) == 409
    assert http_status(errors.AlreadyExists("x", reason="R")) == 409
    assert http_status(errors.Unauthenticated("x", reason="R")) == 401
    assert http_status(errors.ResourceExhausted("x", reason="R")) == 429
    assert http_status(TooLarge(10)) == 413


async def test_the_openapi_document_names_exactly_the_routes_served() -> None:
    client = AsyncClient("127.0.0.1:1")
    try:
        served = served_operations(all_routes(Api(client)))
    finally:
        await client.close()
    assert served - {("GET", "/openapi.json")} == set(OPERATIONS)


def test_an_interrupt_reaches_an_updates_client_at_the_runs_end() -> None:
    interrupts = [{"id": "i1", "value": {"question": "approve?"}}]
    event = _event(ev.RUN_INTERRUPTED, {"interrupts": interrupts, "output": {}}, 7)
    (sent,) = SseTranslator(("updates",)).translate(event)
    assert (sent.event, sent.data, sent.id) == ("updates", {"__interrupt__": interrupts}, "c7")
    assert SseTranslator(("values",)).translate(event) == []


def test_run_events_are_sent_as_recorded() -> None:
    event = {"event": "on_chain_start", "name": "model", "data": {"input": {}}}
    stored = _event(ev.STREAM_EVENT, {"data": event}, 5, "events")
    (sent,) = SseTranslator(("events",)).translate(stored)
    assert (sent.event, sent.data, sent.id) == ("events", event, "c5")
    assert SseTranslator(("values",)).translate(stored) == []


def test_a_debug_checkpoint_names_its_checkpoints_as_langgraph_server_does() -> None:
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c2"}}
    parent = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c1"}}
    task = {"id": "k", "name": "child", "state": {"configurable": {"checkpoint_ns": "child:k"}}}
    item = {
        "type": "checkpoint",
        "step": 1,
        "payload": {"config": config, "parent_config": parent, "values": {}, "tasks": [task]},
    }
    stored = _event(ev.DEBUG_EVENT, {"data": item}, 6, "debug")
    (sent,) = SseTranslator(("debug",)).translate(stored)
    payload = sent.data["payload"]
    assert payload["checkpoint"] == {"checkpoint_id": "c2", "thread_id": "t", "checkpoint_ns": ""}
    assert payload["parent_checkpoint"]["checkpoint_id"] == "c1"
    assert payload["tasks"] == [
        {"id": "k", "name": "child", "checkpoint": {"checkpoint_ns": "child:k"}}
    ]
    assert payload["config"] == config  # kept, as LangGraph Server keeps it
    other = {"type": "task", "payload": {"id": "k"}}
    (kept,) = SseTranslator(("debug",)).translate(
        _event(ev.DEBUG_EVENT, {"data": other}, 7, "debug")
    )
    assert kept.data == other
