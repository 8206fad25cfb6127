"""A small OTLP/gRPC trace receiver for tests: what the services export is
kept in memory, span by span, to be read back as trees."""

from __future__ import annotations

import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from graphmesh.testing.infra import procs


@dataclass
class Span:
    """One received span."""

    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int
    status_code: int
    status_message: str
    attributes: dict[str, Any]
    events: list[str]
    #: Span ids this span links to.
    links: list[str] = field(default_factory=list)
    children: list[Span] = field(default_factory=list)

    def find(self, name: str) -> list[Span]:
        """Spans under this one (itself included) with this name."""
        found = [self] if self.name == name else []
        for child in self.children:
            found.extend(child.find(name))
        return found

    @property
    def failed(self) -> bool:
        """Whether the span's status is ERROR."""
        return self.status_code == 2


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


class _Servicer(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, receiver: OtlpReceiver) -> None:
        self._receiver = receiver

    def Export(self, request: Any, context: Any) -> Any:
        spans = []
        for resource_spans in request.resource_spans:
            attrs = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            service = str(attrs.get("service.name", ""))
            for scope in resource_spans.scope_spans:
                for s in scope.spans:
                    spans.append(
                        Span(
                            service=service,
                            name=s.name,
                            trace_id=s.trace_id.hex(),
                            span_id=s.span_id.hex(),
                            parent_id=s.parent_span_id.hex(),
                            kind=s.kind,
                            status_code=s.status.code,
                            status_message=s.status.message,
                            attributes={a.key: _value(a.value) for a in s.attributes},
                            events=[e.name for e in s.events],
                            links=[link.span_id.hex() for link in s.links],
                        )
                    )
        with self._receiver.lock:
            self._receiver.spans.extend(spans)
            self._receiver.exports.append(request.SerializeToString())
        return trace_service_pb2.ExportTraceServiceResponse()


class OtlpReceiver:
    """Listens for OTLP/gRPC trace exports on a free local port."""

    def __init__(self) -> None:
        self.port = procs.free_port()
        self.spans: list[Span] = []
        #: Every export request as received (to search all that was sent).
        self.exports: list[bytes] = []
        self.lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Servicer(self), self._server)
        self._server.add_insecure_port(f"127.0.0.1:{self.port}")

    @property
    def endpoint(self) -> str:
        """What GRAPHMESH_OTLP_ENDPOINT should be."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop(0)

    def trace_of_run(self, run_id: str) -> list[Span]:
        """Every span of the trace(s) in which the run executed."""
        with self.lock:
            spans = list(self.spans)
        trace_ids = {
            s.trace_id
            for s in spans
            if s.name.startswith("run ") and s.attributes.get("graphmesh.run_id") == run_id
        }
        return [s for s in spans if s.trace_id in trace_ids]

    def wait_for_run(self, run_id: str, names: set[str], timeout: float = 20) -> list[Span]:
        """The run's trace once spans named `names` all arrived (exports
        are batched, every half second)."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.trace_of_run(run_id)
            if names <= {s.name for s in spans} or time.monotonic() > deadline:
                return spans
            time.sleep(0.2)


def tree(spans: list[Span]) -> list[Span]:
    """Links the spans into trees; returns the roots (spans whose parent
    did not arrive are roots too)."""
    by_id = {s.span_id: s for s in spans}
    for s in spans:
        s.children = []
    roots = []
    for s in spans:
        parent = by_id.get(s.parent_id)
        if parent is None:
            roots.append(s)
        else:
            parent.children.append(s)
    return roots
