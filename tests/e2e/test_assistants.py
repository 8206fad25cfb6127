"""Assistants: versioned configurations of a graph that runs are addressed
to, with LangGraph Server's semantics (a graph id means its default
assistant; the assistant's config and context go under the run's own), and
bad input refused precisely with nothing changed."""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

import pytest

from graphmesh import (
    Client,
    FailedPrecondition,
    GraphmeshError,
    InvalidArgument,
    NotFound,
    RunStatus,
)
from graphmesh.assistants import default_assistant_id
from graphmesh.testing import LocalStack
from graphmesh.v1 import assistant_service_pb2 as as_pb2
from graphmesh.v1 import run_service_pb2
from tests.e2e.helpers import in_process_graph
from tests.e2e.test_cli_and_clients import graphmesh

pytestmark = pytest.mark.e2e

GREETER_IN = {"name": "Ann", "greeting": "", "seen": []}
CONFIG = {"configurable": {"model": "m-a"}, "tags": ["assistant"], "metadata": {"team": "a"}}
CONTEXT = {"user_id": "u-a", "tone": "warm"}


def _label() -> str:
    return uuid.uuid4().hex[:8]


def test_an_assistant_is_versioned_searched_and_deleted(client: Client) -> None:
    label = _label()
    made = client.create_assistant(
        "greeter",
        name=f"Greeter {label}",
        description="greets",
        config=CONFIG,
        context=CONTEXT,
        metadata={"label": label, "stage": "dev"},
    )
    assert (made.version, made.graph_id, made.config, made.context) == (
        1,
        "greeter",
        CONFIG,
        CONTEXT,
    )
    assert client.get_assistant(made.assistant_id) == made
    second = client.update_assistant(
        made.assistant_id, config={"configurable": {"model": "m-b"}}, metadata={"stage": "prod"}
    )
    assert second.version == 2
    assert second.config == {"configurable": {"model": "m-b"}}
    assert second.metadata == {"label": label, "stage": "prod"}
    assert (second.name, second.context) == (made.name, CONTEXT)
    versions, _ = client.list_assistant_versions(made.assistant_id)
    assert [v.version for v in versions] == [2, 1]
    first_page, token = client.list_assistant_versions(made.assistant_id, page_size=1)
    rest, last = client.list_assistant_versions(made.assistant_id, page_size=1, page_token=token)
    assert [v.version for v in first_page + rest] == [2, 1] and last == ""
    assert client.set_latest_assistant_version(made.assistant_id, 1).config == CONFIG
    assert client.get_assistant(made.assistant_id).version == 1
    found, _ = client.search_assistants(metadata={"label": label})
    assert [a.assistant_id for a in found] == [made.assistant_id]
    named, _ = client.search_assistants("greeter", name=f"greeter {label}")
    assert [a.assistant_id for a in named] == [made.assistant_id]
    assert client.count_assistants(metadata={"label": label}) == 1
    client.delete_assistant(made.assistant_id)
    with pytest.raises(NotFound) as gone:
        client.get_assistant(made.assistant_id)
    assert gone.value.reason == "ASSISTANT_NOT_FOUND"
    assert client.count_assistants(metadata={"label": label}) == 0


async def test_a_run_gets_its_assistant_s_config_and_context_under_its_own(
    client: Client,
) -> None:
    assistant = client.create_assistant("greeter", config=CONFIG, context=CONTEXT)
    own_config = {"configurable": {"extra": 1}, "tags": ["run"], "recursion_limit": 9}
    run = client.create_run(
        assistant.assistant_id, GREETER_IN, config=own_config, context={"user_id": "u-run"}
    )
    done = client.wait_run(run.run_id, timeout=60)
    assert done.status is RunStatus.SUCCEEDED, done.error
    merged_config = {
        "configurable": {"model": "m-a", "extra": 1},
        "tags": ["assistant", "run"],
        "metadata": {"team": "a"},
        "recursion_limit": 9,
    }
    merged_context = {"user_id": "u-run", "tone": "warm"}
    expected = await in_process_graph("control", "greeter").ainvoke(
        GREETER_IN,
        config={
            **merged_config,
            "configurable": {**merged_config["configurable"], "thread_id": "t"},
        },
        context=merged_context,
    )
    assert done.output == expected
    assert done.output["greeting"] == "warm hello Ann from u-run via m-a"
    assert (done.graph_id, done.assistant_id, done.assistant_version) == (
        "greeter",
        assistant.assistant_id,
        1,
    )
    assert (done.config, done.context) == (merged_config, merged_context)
    # A new version is what the next run gets; the first run keeps what it ran with.
    client.update_assistant(assistant.assistant_id, config={"configurable": {"model": "m-b"}})
    later = client.wait_run(client.create_run(assistant.assistant_id, GREETER_IN).run_id)
    assert later.output["greeting"] == "warm hello Ann from u-a via m-b"
    assert later.assistant_version == 2
    assert client.get_run(run.run_id).assistant_version == 1


def test_a_graph_has_a_default_assistant_with_langgraph_server_s_id(client: Client) -> None:
    default = client.get_assistant("greeter")
    assert default.assistant_id == str(
        uuid.uuid5(uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8"), "greeter")
    )
    assert default.assistant_id == default_assistant_id("greeter")
    assert (default.version, default.name, default.metadata) == (
        1,
        "greeter",
        {"created_by": "system"},
    )
    assert client.get_assistant(default.assistant_id) == default
    by_graph = client.wait_run(
        client.create_run("greeter", GREETER_IN, context={"user_id": "u"}).run_id
    )
    by_id = client.wait_run(
        client.create_run(default.assistant_id, GREETER_IN, context={"user_id": "u"}).run_id
    )
    assert by_graph.output == by_id.output
    assert by_graph.assistant_id == by_id.assistant_id == default.assistant_id
    # Searches find the default assistants (written by the gateway at start).
    defaults, _ = client.search_assistants("greeter", metadata={"created_by": "system"})
    assert [a.assistant_id for a in defaults] == [default.assistant_id]


def test_a_retry_of_a_run_request_is_the_same_run_after_its_assistant_changed(
    client: Client,
) -> None:
    assistant = client.create_assistant("greeter", context=CONTEXT)
    request_id = f"retry-{_label()}"
    first = client.create_run(assistant.assistant_id, GREETER_IN, request_id=request_id)
    client.update_assistant(assistant.assistant_id, name="renamed")
    again = client.create_run(assistant.assistant_id, GREETER_IN, request_id=request_id)
    assert again.run_id == first.run_id and again.assistant_version == 1


def test_schemas_and_the_drawing_of_an_assistant_s_graph(client: Client) -> None:
    schemas = client.get_assistant_schemas("greeter")
    assert schemas["graph_id"] == "greeter"
    assert set(schemas["input_schema"]["properties"]) == {"name", "greeting", "seen"}
    assert set(schemas["context_schema"]["properties"]) == {"user_id", "tone"}
    assert schemas["context_schema"]["required"] == ["user_id"]
    assert set(schemas["state_schema"]["properties"]) == {"name", "greeting", "seen"}
    drawing, mermaid = client.get_assistant_graph("greeter")
    assert {n["id"] for n in drawing["nodes"]} == {"__start__", "greet", "__end__"}
    assert "greet" in mermaid and mermaid.startswith("---")
    nested, _ = client.get_assistant_graph("nested", xray=1)
    flat, _ = client.get_assistant_graph("nested")
    # The subgraph drawn inside its node: its nodes are named `node:inner`.
    assert [n["id"] for n in nested["nodes"] if ":" in n["id"]] == ["child:inner"]
    assert not [n["id"] for n in flat["nodes"] if ":" in n["id"]]


def test_an_assistant_s_subgraphs_are_its_graph_s_as_langgraph_lists_them(client: Client) -> None:
    graph = in_process_graph("control", "nested")
    expected = {ns: sub.get_input_jsonschema() for ns, sub in graph.get_subgraphs()}
    found = client.get_assistant_subgraphs("nested")
    assert set(found) == set(expected) == {"child"}
    assert found["child"]["input_schema"] == json.loads(json.dumps(expected["child"]))
    assert set(found["child"]["state_schema"]["properties"]) == {"trail"}
    assert client.get_assistant_subgraphs("nested", "child") == found
    assert client.get_assistant_subgraphs("nested", "nowhere") == {}
    assert client.get_assistant_subgraphs("chain3", recurse=True) == {}
    with pytest.raises(InvalidArgument) as refused:
        client.get_assistant_subgraphs("nested", "x" * 1025)
    assert refused.value.reason == "NAMESPACE_TOO_LONG"


@pytest.mark.parametrize(
    ("call", "error", "reason"),
    [
        (lambda c: c.get_assistant(str(uuid.uuid4())), NotFound, "ASSISTANT_NOT_FOUND"),
        (lambda c: c.get_assistant("no-such-graph"), NotFound, "ASSISTANT_NOT_FOUND"),
        (lambda c: c.create_run(str(uuid.uuid4()), {}), NotFound, "ASSISTANT_NOT_FOUND"),
        (lambda c: c.create_assistant("no-such-graph"), NotFound, "GRAPH_NOT_FOUND"),
        (
            lambda c: c.create_assistant("greeter", config={"configurable": {"thread_id": "x"}}),
            InvalidArgument,
            "CONFIG_RESERVED_KEY",
        ),
        (
            lambda c: c.create_assistant("greeter", context={"tone": "warm"}),
            InvalidArgument,
            "CONTEXT_INVALID",
        ),
        (
            lambda c: c._call(
                c._assistants.CreateAssistant,
                as_pb2.CreateAssistantRequest(graph_id="greeter", metadata_json="[1]"),
            ),
            InvalidArgument,
            "METADATA_NOT_OBJECT",
        ),
        (lambda c: c.create_assistant("greeter", name="n" * 300), InvalidArgument, "NAME_TOO_LONG"),
        (
            lambda c: c.create_assistant("greeter", assistant_id="not-a-uuid"),
            NotFound,
            "ASSISTANT_NOT_FOUND",
        ),
        (
            lambda c: c.update_assistant("greeter", name="x"),
            FailedPrecondition,
            "ASSISTANT_IS_DEFAULT",
        ),
        (lambda c: c.delete_assistant("greeter"), FailedPrecondition, "ASSISTANT_IS_DEFAULT"),
        (
            lambda c: c.set_latest_assistant_version("greeter", 0),
            InvalidArgument,
            "VERSION_OUT_OF_RANGE",
        ),
        (
            lambda c: c.get_assistant_graph("greeter", xray=-1),
            InvalidArgument,
            "XRAY_OUT_OF_RANGE",
        ),
    ],
)
def test_bad_assistant_input_is_refused_and_changes_nothing(
    client: Client, call: Any, error: type[GraphmeshError], reason: str
) -> None:
    before = client.count_assistants()
    with pytest.raises(error) as refused:
        call(client)
    assert refused.value.reason == reason, refused.value
    assert client.count_assistants() == before


def test_a_run_naming_an_assistant_and_another_graph_is_refused(client: Client) -> None:
    assistant = client.create_assistant("greeter", context=CONTEXT)
    request = dict(assistant_id=assistant.assistant_id)
    with pytest.raises(InvalidArgument) as refused:
        client._call(
            client._runs.CreateRun,
            run_service_pb2.CreateRunRequest(graph_id="chain3", input_json="{}", **request),
        )
    assert refused.value.reason == "ASSISTANT_GRAPH_MISMATCH"
    with pytest.raises(NotFound) as unknown:
        client.set_latest_assistant_version(assistant.assistant_id, 5)
    assert unknown.value.reason == "ASSISTANT_VERSION_NOT_FOUND"
    with pytest.raises(InvalidArgument) as merged:
        # The run's context alone lacks user_id; over the assistant's it is complete.
        client.create_run("greeter", GREETER_IN, context={"tone": "cold"})
    assert merged.value.reason == "CONTEXT_INVALID"
    ok = client.wait_run(
        client.create_run(assistant.assistant_id, GREETER_IN, context={"tone": "cold"}).run_id
    )
    assert ok.output["greeting"] == "cold hello Ann from u-a via none"


def _cli(stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    result = graphmesh(stack, *args)
    assert result.returncode == 0, result.stderr
    return result


def test_assistants_through_the_cli(stack: LocalStack) -> None:
    made = json.loads(
        _cli(
            stack,
            "assistants",
            "create",
            "greeter",
            "--name",
            "cli greeter",
            "--config",
            '{"configurable": {"model": "m-cli"}}',
            "--context",
            '{"user_id": "u-cli"}',
        ).stdout
    )
    assert (made["version"], made["name"]) == (1, "cli greeter")
    updated = json.loads(
        _cli(
            stack, "assistants", "update", made["assistant_id"], "--context", '{"user_id": "u-2"}'
        ).stdout
    )
    assert updated["version"] == 2 and updated["context"] == {"user_id": "u-2"}
    versions = json.loads(_cli(stack, "assistants", "versions", made["assistant_id"]).stdout)
    assert [v["version"] for v in versions["versions"]] == [2, 1]
    _cli(stack, "assistants", "versions", made["assistant_id"], "--set-latest", "1")
    shown = json.loads(_cli(stack, "assistants", "get", made["assistant_id"]).stdout)
    assert shown["context"] == {"user_id": "u-cli"}
    ran = _cli(
        stack,
        "run",
        made["assistant_id"],
        "--input",
        json.dumps(GREETER_IN),
        "--context",
        '{"tone": "warm"}',
    )
    assert json.loads(ran.stdout)["greeting"] == "warm hello Ann from u-cli via m-cli"
    listed = json.loads(_cli(stack, "assistants", "list", "--name", "cli greeter").stdout)
    assert [a["assistant_id"] for a in listed["assistants"]] == [made["assistant_id"]]
    assert "greet" in _cli(stack, "assistants", "graph", "greeter").stdout
    _cli(stack, "assistants", "delete", made["assistant_id"])
    missing = graphmesh(stack, "assistants", "get", made["assistant_id"])
    assert missing.returncode == 1 and "ASSISTANT_NOT_FOUND" in missing.stderr
