"""Helpers for end-to-end tests: status details of failed calls."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


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
