"""Helpers for end-to-end tests: status details of failed calls, stored events."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from langgraph.checkpoint.memory import InMemorySaver

from graphmesh.checkpoints import events as cpe
from graphmesh.testing.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
#: Where the registered graphs' modules are.
_GRAPH_FOLDERS = {
    "workload": ROOT / "examples" / "graphs",
    "agent": ROOT / "examples" / "graphs",
    "memory_agent": ROOT / "examples" / "graphs",
    "control": ROOT / "tests" / "graphs",
    "parity": ROOT / "tests" / "graphs",
}


def in_process_graph(module: str, name: str) -> Any:
    """A registered graph itself, with an in-memory checkpointer as graphmesh
    runs it with its own, to run in-process with LangGraph beside graphmesh."""
    sys.path.insert(0, str(_GRAPH_FOLDERS[module]))
    try:
        loaded = importlib.import_module(module)
    finally:
        sys.path.pop(0)
    return getattr(loaded, name).copy(update={"checkpointer": InMemorySaver()})


def status_details(exc: grpc.RpcError) -> tuple[grpc.StatusCode, str, str, list[str]]:
    """(code, ErrorInfo domain, ErrorInfo reason, BadRequest fields) of a failed call."""
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    assert status is not None, f"no google.rpc.Status details on {exc!r}"
    domain = reason = ""
    fields: list[str] = []
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        bad = error_details_pb2.BadRequest()
        if detail.Is(info.DESCRIPTOR):
            detail.Unpack(info)
            domain, reason = info.domain, info.reason
        elif detail.Is(bad.DESCRIPTOR):
            detail.Unpack(bad)
            fields = [v.field for v in bad.field_violations]
    return exc.code(), domain, reason, fields  # type: ignore[attr-defined]


def public_seqs(stack: LocalStack, run_id: str) -> list[int]:
    """Seqs of the run's stored events that streams show (all but the
    checkpoint machinery), in order."""
    internal = ",".join(f"'{t}'" for t in sorted(cpe.INTERNAL_TYPES))
    rows = stack.postgres.query(
        f"SELECT seq FROM events WHERE run_id = '{run_id}' AND type NOT IN ({internal})"
        " ORDER BY seq"
    )
    return [int(line) for line in rows.split()]
