"""The Python enums that mirror proto enums have exactly the proto's
members and numbers (UNSPECIFIED aside where the mirror has no use for it)."""

from __future__ import annotations

import enum
from typing import Any

import pytest

from graphmesh.eventstore.rules import AppendOutcome, CancelState, ClaimOutcome
from graphmesh.internal.v1 import event_store_service_pb2 as es_pb2
from graphmesh.runs import RunStatus
from graphmesh.thread_records import ThreadStatus
from graphmesh.v1 import run_pb2
from graphmesh.v1 import thread_service_pb2 as th_pb2


@pytest.mark.parametrize(
    ("mirror", "proto", "prefix"),
    [
        (AppendOutcome, es_pb2.AppendOutcome, "APPEND_OUTCOME_"),
        (ClaimOutcome, es_pb2.ClaimOutcome, "CLAIM_OUTCOME_"),
        (CancelState, es_pb2.CancelState, "CANCEL_STATE_"),
        (RunStatus, run_pb2.RunStatus, "RUN_STATUS_"),
        (ThreadStatus, th_pb2.ThreadStatus, "THREAD_STATUS_"),
    ],
)
def test_a_mirror_has_the_proto_enums_members(
    mirror: type[enum.IntEnum], proto: Any, prefix: str
) -> None:
    defined = {name.removeprefix(prefix): number for name, number in proto.items()}
    defined.pop("UNSPECIFIED")
    mirrored = {m.name: m.value for m in mirror if m.name != "UNSPECIFIED"}
    assert mirrored == defined
