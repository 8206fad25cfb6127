"""LangGraph's own conformance suite for checkpointers, run against
EventLogSaver talking to the checkpoint service's API (served in this
process over a fresh PostgreSQL database: writes go through the event
store, reads come from its checkpoint tables)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES

from graphmesh.checkpoints.saver import EventLogSaver
from graphmesh.internal.v1 import checkpoint_service_pb2_grpc


async def test_event_log_saver_passes_langgraph_conformance(
    checkpoint_channel: grpc.aio.Channel,
) -> None:
    @checkpointer_test(name="EventLogSaver")
    async def event_log_saver() -> AsyncIterator[EventLogSaver]:
        yield EventLogSaver.over_api(
            checkpoint_service_pb2_grpc.CheckpointServiceStub(checkpoint_channel)
        )

    report = await validate(event_log_saver)
    failures = {
        name: [str(f) for f in result.failures]
        for name, result in report.results.items()
        if not result.passed
    }
    assert failures == {}
    # Every capability, the optional ones included, was detected and passed.
    assert {name for name, r in report.results.items() if r.passed} == {
        c.value for c in ALL_CAPABILITIES
    }
    assert all(r.tests_passed > 0 for r in report.results.values())
