"""A run's LangGraph config and runtime context: they reach the graph as
`astream(input, config=..., context=...)` gives them in-process, are shown
by GetRun, and bad ones are refused precisely with nothing stored."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from graphmesh import Client, InvalidArgument, RunStatus
from graphmesh.testing import LocalStack
from tests.conftest import store_counts
from tests.e2e.helpers import in_process_graph

pytestmark = pytest.mark.e2e

CONFIG = {
    "configurable": {"model": "small-1"},
    "tags": ["beta", "eu"],
    "metadata": {"team": "search"},
    "recursion_limit": 7,
}
CONTEXT = {"user_id": "u-42", "tone": "warm"}
GREETER_IN = {"name": "Ann", "greeting": "", "seen": []}


async def test_config_and_context_reach_the_graph_as_in_process(client: Client) -> None:
    run = client.create_run("greeter", GREETER_IN, config=CONFIG, context=CONTEXT)
    done = client.wait_run(run.run_id, timeout=60)
    assert done.status is RunStatus.SUCCEEDED, done.error
    expected = await in_process_graph("control", "greeter").ainvoke(
        GREETER_IN,
        config={**CONFIG, "configurable": {**CONFIG["configurable"], "thread_id": "t"}},
        context=CONTEXT,
    )
    assert done.output == expected
    assert done.output["greeting"] == "warm hello Ann from u-42 via small-1"
    # GetRun shows what the run was created with.
    shown = client.get_run(run.run_id)
    assert (shown.config, shown.context) == (CONFIG, CONTEXT)


def test_the_context_schema_s_defaults_apply_and_no_context_is_none(client: Client) -> None:
    run = client.create_run("greeter", GREETER_IN, context={"user_id": "u-1"})
    done = client.wait_run(run.run_id, timeout=60)
    assert done.output["greeting"] == "plain hello Ann from u-1 via none"
    assert (done.config, done.context) == ({}, {"user_id": "u-1"})


def test_the_recursion_limit_ends_the_run_failed(client: Client) -> None:
    run = client.create_run("looper", {"laps": 0}, config={"recursion_limit": 4})
    done = client.wait_run(run.run_id, timeout=60)
    assert done.status is RunStatus.FAILED
    assert done.error is not None and done.error["type"] == "GraphRecursionError"


@pytest.mark.parametrize(
    ("config", "context", "reason", "field", "says"),
    [
        (
            {"configurable": {"thread_id": "x"}},
            None,
            "CONFIG_RESERVED_KEY",
            "config_json",
            "thread_id",
        ),
        (
            {"configurable": {"__pregel_send": 1}},
            None,
            "CONFIG_RESERVED_KEY",
            "config_json",
            "__pregel_send",
        ),
        ({"callbacks": []}, None, "CONFIG_KEY_UNKNOWN", "config_json", "callbacks"),
        ({"recursion_limit": 0}, None, "CONFIG_MALFORMED", "config_json", "recursion_limit"),
        ({"tags": "a"}, None, "CONFIG_MALFORMED", "config_json", "tags"),
        ({"metadata": {"k": "a\x00b"}}, None, "NUL_IN_TEXT", "config_json", "NUL"),
        (None, {"tone": "warm"}, "CONTEXT_INVALID", "context_json", "user_id"),
        (None, {"user_id": 5}, "CONTEXT_INVALID", "context_json", "user_id"),
    ],
)
def test_a_bad_config_or_context_is_refused_with_nothing_stored(
    client: Client,
    stack: LocalStack,
    config: Any,
    context: Any,
    reason: str,
    field: str,
    says: str,
) -> None:
    before = store_counts(stack)
    with pytest.raises(InvalidArgument) as refused:
        client.create_run(
            "greeter", GREETER_IN, config=config, context=context, request_id=str(uuid.uuid4())
        )
    assert (refused.value.reason, refused.value.field) == (reason, field)
    assert says in refused.value.message
    assert store_counts(stack) == before
