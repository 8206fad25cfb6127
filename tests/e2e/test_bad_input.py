"""Bad input gets a precise status with google.rpc details, and changes
nothing in the event store or the read models."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, cast

import grpc
import pytest

from graphmesh.errors import ERROR_DOMAIN
from graphmesh.testing.stack import LocalStack
from graphmesh.v1 import graph_service_pb2, graph_service_pb2_grpc, run_pb2, run_service_pb2_grpc
from graphmesh.v1 import run_service_pb2 as pb
from tests.conftest import TEST_GRAPHS, store_counts
from tests.e2e.helpers import status_details

pytestmark = pytest.mark.e2e

Stub = run_service_pb2_grpc.RunServiceStub
CHAIN3 = json.dumps({"n": 0, "trail": []})
ONE_MIB = 1 << 20


def expect(
    call: Callable[[], Any], code: grpc.StatusCode, reason: str, field: str | None = None
) -> None:
    with pytest.raises(grpc.RpcError) as exc:
        result = call()
        if hasattr(result, "__iter__") and not hasattr(result, "run"):
            list(result)  # a server stream fails on its first read
    got_code, domain, got_reason, fields = status_details(exc.value)
    assert (got_code, domain, got_reason) == (code, ERROR_DOMAIN, reason)
    if field is not None:
        assert fields == [field]


@pytest.fixture
def finished_run(run_stub: Stub) -> run_pb2.Run:
    created = run_stub.CreateRun(pb.CreateRunRequest(graph_id="chain3", input_json=CHAIN3))
    answer: pb.WaitRunResponse = run_stub.WaitRun(
        pb.WaitRunRequest(run_id=created.run.run_id), timeout=60
    )
    return answer.run


def bad_requests(
    run_stub: Stub, finished: run_pb2.Run, other: run_pb2.Run
) -> list[tuple[str, Callable[[], Any], grpc.StatusCode, str, str | None]]:
    invalid, not_found = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
    unknown_run = str(uuid.uuid4())
    big = json.dumps({"blob": "x" * ONE_MIB})
    # A genuine cursor, of another run.
    other_stream = run_stub.StreamRun(pb.StreamRunRequest(run_id=other.run_id), timeout=10)
    other_cursor = next(iter(other_stream)).event.cursor
    other_stream.cancel()
    return [
        (
            "unknown graph",
            lambda: run_stub.CreateRun(pb.CreateRunRequest(graph_id="nope", input_json=CHAIN3)),
            not_found,
            "GRAPH_NOT_FOUND",
            "graph_id",
        ),
        (
            "malformed JSON",
            lambda: run_stub.CreateRun(
                pb.CreateRunRequest(graph_id="chain3", input_json='{"n": 0,')
            ),
            invalid,
            "INPUT_MALFORMED_JSON",
            "input_json",
        ),
        (
            "JSON that is not an object",
            lambda: run_stub.CreateRun(pb.CreateRunRequest(graph_id="chain3", input_json="[1, 2]")),
            invalid,
            "INPUT_NOT_OBJECT",
            "input_json",
        ),
        (
            "input over 1 MiB",
            lambda: run_stub.CreateRun(pb.CreateRunRequest(graph_id="chain3", input_json=big)),
            invalid,
            "INPUT_TOO_LARGE",
            "input_json",
        ),
        (
            "malformed thread id",
            lambda: run_stub.CreateRun(
                pb.CreateRunRequest(graph_id="chain3", input_json=CHAIN3, thread_id="../etc")
            ),
            invalid,
            "THREAD_ID_MALFORMED",
            "thread_id",
        ),
        (
            "overlong request id",
            lambda: run_stub.CreateRun(
                pb.CreateRunRequest(graph_id="chain3", input_json=CHAIN3, request_id="r" * 200)
            ),
            invalid,
            "REQUEST_ID_TOO_LONG",
            "request_id",
        ),
        (
            "unknown run: GetRun",
            lambda: run_stub.GetRun(pb.GetRunRequest(run_id=unknown_run)),
            not_found,
            "RUN_NOT_FOUND",
            "run_id",
        ),
        (
            "unknown run: WaitRun",
            lambda: run_stub.WaitRun(pb.WaitRunRequest(run_id=unknown_run), timeout=10),
            not_found,
            "RUN_NOT_FOUND",
            "run_id",
        ),
        (
            "unknown run: StreamRun",
            lambda: run_stub.StreamRun(pb.StreamRunRequest(run_id=unknown_run), timeout=10),
            not_found,
            "RUN_NOT_FOUND",
            "run_id",
        ),
        (
            "malformed run id",
            lambda: run_stub.GetRun(pb.GetRunRequest(run_id="42")),
            invalid,
            "RUN_ID_MALFORMED",
            "run_id",
        ),
        (
            "malformed cursor",
            lambda: run_stub.StreamRun(
                pb.StreamRunRequest(run_id=finished.run_id, cursor="not-a-cursor"), timeout=10
            ),
            invalid,
            "CURSOR_MALFORMED",
            "cursor",
        ),
        (
            "foreign cursor",
            lambda: run_stub.StreamRun(
                pb.StreamRunRequest(run_id=finished.run_id, cursor=other_cursor),
                timeout=10,
            ),
            invalid,
            "CURSOR_FOREIGN",
            "cursor",
        ),
        (
            "page size zero",
            lambda: run_stub.ListRuns(pb.ListRunsRequest(page_size=0)),
            invalid,
            "PAGE_SIZE_OUT_OF_RANGE",
            "page_size",
        ),
        (
            "page size negative",
            lambda: run_stub.ListRuns(pb.ListRunsRequest(page_size=-5)),
            invalid,
            "PAGE_SIZE_OUT_OF_RANGE",
            "page_size",
        ),
        (
            "page size oversized",
            lambda: run_stub.ListRuns(pb.ListRunsRequest(page_size=1_000_000)),
            invalid,
            "PAGE_SIZE_OUT_OF_RANGE",
            "page_size",
        ),
        (
            "malformed page token",
            lambda: run_stub.ListRuns(pb.ListRunsRequest(page_token="garbage")),
            invalid,
            "PAGE_TOKEN_MALFORMED",
            "page_token",
        ),
        (
            "unknown status",
            lambda: run_stub.ListRuns(pb.ListRunsRequest(status=cast(Any, 99))),
            invalid,
            "STATUS_UNKNOWN",
            "status",
        ),
        (
            "unknown stream mode on CreateRun",
            lambda: run_stub.CreateRun(
                pb.CreateRunRequest(
                    graph_id="chain3", input_json=CHAIN3, stream_modes=[cast(Any, 2), cast(Any, 42)]
                )
            ),
            invalid,
            "STREAM_MODE_UNKNOWN",
            "stream_modes",
        ),
        (
            "stream mode UNSPECIFIED on CreateRun",
            lambda: run_stub.CreateRun(
                pb.CreateRunRequest(graph_id="chain3", input_json=CHAIN3, stream_modes=[0])
            ),
            invalid,
            "STREAM_MODE_UNKNOWN",
            "stream_modes",
        ),
        (
            "unknown stream mode on StreamRun",
            lambda: run_stub.StreamRun(
                pb.StreamRunRequest(run_id=finished.run_id, stream_modes=[cast(Any, 9)]),
                timeout=10,
            ),
            invalid,
            "STREAM_MODE_UNKNOWN",
            "stream_modes",
        ),
        (
            "stream mode the run does not record",
            lambda: run_stub.StreamRun(
                pb.StreamRunRequest(
                    run_id=finished.run_id, stream_modes=[run_pb2.STREAM_MODE_VALUES]
                ),
                timeout=10,
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
            "STREAM_MODE_NOT_RECORDED",
            "stream_modes",
        ),
        *[
            (
                f"timeout {value}",
                lambda value=value: run_stub.CreateRun(
                    pb.CreateRunRequest(graph_id="chain3", input_json=CHAIN3, timeout_seconds=value)
                ),
                invalid,
                "TIMEOUT_OUT_OF_RANGE",
                "timeout_seconds",
            )
            for value in (-1.0, 1e12, float("nan"), float("inf"))
        ],
        (
            "cancel of an unknown run",
            lambda: run_stub.CancelRun(pb.CancelRunRequest(run_id=unknown_run)),
            not_found,
            "RUN_NOT_FOUND",
            "run_id",
        ),
        (
            "cancel of a malformed run id",
            lambda: run_stub.CancelRun(pb.CancelRunRequest(run_id="run-1")),
            invalid,
            "RUN_ID_MALFORMED",
            "run_id",
        ),
        (
            "cancel with an unknown action",
            lambda: run_stub.CancelRun(
                pb.CancelRunRequest(run_id=finished.run_id, action=cast(Any, 7))
            ),
            invalid,
            "ACTION_UNKNOWN",
            "action",
        ),
    ]


def test_each_bad_input_gets_its_status_and_changes_nothing(
    run_stub: Stub, stack: LocalStack, finished_run: run_pb2.Run
) -> None:
    other = run_stub.WaitRun(
        pb.WaitRunRequest(
            run_id=run_stub.CreateRun(
                pb.CreateRunRequest(graph_id="chain3", input_json=CHAIN3)
            ).run.run_id
        ),
        timeout=60,
    ).run
    before = store_counts(stack)
    failures = []
    for name, call, code, reason, field in bad_requests(run_stub, finished_run, other):
        try:
            expect(call, code, reason, field)
        except AssertionError as exc:
            failures.append(f"{name}: {exc}")
    assert failures == []
    assert store_counts(stack) == before


def test_request_id_reused_with_other_input_is_refused(run_stub: Stub, stack: LocalStack) -> None:
    request_id = f"reuse-{uuid.uuid4()}"
    first = run_stub.CreateRun(
        pb.CreateRunRequest(graph_id="chain3", input_json=CHAIN3, request_id=request_id)
    )
    run_stub.WaitRun(pb.WaitRunRequest(run_id=first.run.run_id), timeout=60)
    before = store_counts(stack)
    expect(
        lambda: run_stub.CreateRun(
            pb.CreateRunRequest(
                graph_id="chain3", input_json='{"n": 5, "trail": []}', request_id=request_id
            )
        ),
        grpc.StatusCode.ALREADY_EXISTS,
        "REQUEST_ID_REUSED",
        "request_id",
    )
    assert store_counts(stack) == before


def test_unknown_graph_on_graph_service(stack: LocalStack) -> None:
    with grpc.insecure_channel(stack.gateway_target) as channel:
        stub = graph_service_pb2_grpc.GraphServiceStub(channel)
        ids = [g.graph_id for g in stub.ListGraphs(graph_service_pb2.ListGraphsRequest()).graphs]
        assert ids == sorted(json.loads(TEST_GRAPHS.read_text())["graphs"])
        chain3 = stub.GetGraph(graph_service_pb2.GetGraphRequest(graph_id="chain3")).graph
        assert list(chain3.nodes) == ["s0", "s1", "s2"]
        assert json.loads(chain3.input_schema_json)["properties"]["n"]["type"] == "integer"
        expect(
            lambda: stub.GetGraph(graph_service_pb2.GetGraphRequest(graph_id="missing")),
            grpc.StatusCode.NOT_FOUND,
            "GRAPH_NOT_FOUND",
            "graph_id",
        )


def test_a_message_over_the_transport_limit_is_refused_without_harm(
    run_stub: Stub, stack: LocalStack
) -> None:
    before = store_counts(stack)
    huge = "x" * (70 << 20)
    with pytest.raises(grpc.RpcError) as exc:
        run_stub.CreateRun(pb.CreateRunRequest(graph_id="chain3", input_json=huge))
    assert exc.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
    assert store_counts(stack) == before
    created = run_stub.CreateRun(pb.CreateRunRequest(graph_id="chain3", input_json=CHAIN3))
    assert (
        run_stub.WaitRun(pb.WaitRunRequest(run_id=created.run.run_id), timeout=60).run.status == 3
    )
