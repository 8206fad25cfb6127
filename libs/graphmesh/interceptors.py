"""gRPC interceptors: tracing, request metrics and log context for every
service's server, and trace-context propagation for every client channel.

The handlers themselves do none of this. A call is traced when it arrives
with a trace context, or at the public gateway for every call: internal
background calls (lease renewals, cancellation watches, batched claims)
carry none and would otherwise make a trace of their own each second.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import grpc
import structlog
from opentelemetry import trace
from prometheus_client import Counter, Histogram

from graphmesh import tracing

#: Methods neither traced nor counted: probes and tooling.
_UNOBSERVED_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

GRPC_REQUESTS = Counter(
    "graphmesh_grpc_requests_total",
    "gRPC requests served, by method and status code.",
    ["grpc_method", "grpc_code"],
)
GRPC_LATENCY = Histogram(
    "graphmesh_grpc_request_duration_seconds",
    "Time to serve a gRPC request (a stream: until it ends), by method.",
    ["grpc_method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
)

_Behavior = Callable[[Any, grpc.aio.ServicerContext], Any]


def rewrap(
    handler: grpc.RpcMethodHandler,
    unary: Callable[[_Behavior], _Behavior],
    stream: Callable[[_Behavior], _Behavior],
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> grpc.RpcMethodHandler:
    """A unary-request handler with its behaviour wrapped by `unary` (or, for
    a server stream, `stream`), and optionally another deserializer."""
    deserializer = request_deserializer or handler.request_deserializer
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(
            stream(handler.unary_stream),
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )
    return grpc.unary_unary_rpc_method_handler(
        unary(handler.unary_unary),
        request_deserializer=deserializer,
        response_serializer=handler.response_serializer,
    )


class ObservingServerInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps each RPC of the server in a span, a log context and metrics."""

    def __init__(self, trace_all: bool) -> None:
        #: True at the public API: calls without a trace context start one.
        self._trace_all = trace_all

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method = details.method
        if handler is None or method.startswith(_UNOBSERVED_PREFIXES):
            return handler
        if handler.request_streaming:
            return handler  # graphmesh has no client-streaming RPCs
        metadata = details.invocation_metadata
        return rewrap(
            handler,
            lambda behavior: self._unary(method, metadata, behavior),
            lambda behavior: self._stream(method, metadata, behavior),
        )

    def _unary(self, method: str, metadata: Any, behavior: _Behavior) -> _Behavior:
        async def observed(request: Any, context: grpc.aio.ServicerContext) -> Any:
            call = _Call(method, metadata, request, self._trace_all)
            with call.span() as span:
                try:
                    answer = await behavior(request, context)
                except BaseException as exc:
                    call.finish(span, context, exc)
                    raise
                call.finish(span, context, None)
                return answer

        return observed

    def _stream(self, method: str, metadata: Any, behavior: _Behavior) -> _Behavior:
        async def observed(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            call = _Call(method, metadata, request, self._trace_all)
            with call.span() as span:
                try:
                    async for item in behavior(request, context):
                        yield item
                except BaseException as exc:
                    call.finish(span, context, exc)
                    raise
                call.finish(span, context, None)

        return observed


class _Call:
    """One observed RPC: its span, log context and figures."""

    def __init__(self, method: str, metadata: Any, request: Any, trace_all: bool) -> None:
        self.method = method
        self.start = time.perf_counter()
        self.parent = tracing.context_from_metadata(metadata)
        self.traced = trace_all or tracing.has_context(self.parent)
        self.log_context = {"rpc": method.rsplit("/", 1)[-1]}
        for key in ("run_id", "thread_id"):
            value = getattr(request, key, "")
            if isinstance(value, str) and value:
                self.log_context[key] = value

    @contextlib.contextmanager
    def span(self) -> Iterator[trace.Span | None]:
        """The RPC's log context and, when traced, its current span."""
        with structlog.contextvars.bound_contextvars(**self.log_context):
            if not self.traced:
                yield None
                return
            service, _, name = self.method.lstrip("/").partition("/")
            with tracing.tracer.start_as_current_span(
                self.method.lstrip("/"),
                context=self.parent,
                kind=trace.SpanKind.SERVER,
                attributes={
                    "rpc.system": "grpc",
                    "rpc.service": service,
                    "rpc.method": name,
                    **{f"graphmesh.{k}": v for k, v in self.log_context.items() if k != "rpc"},
                },
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                yield span

    def finish(
        self, span: trace.Span | None, context: grpc.aio.ServicerContext, exc: BaseException | None
    ) -> None:
        code = _status_code(context, exc)
        GRPC_REQUESTS.labels(self.method, code.name).inc()
        GRPC_LATENCY.labels(self.method).observe(time.perf_counter() - self.start)
        if span is None or not span.is_recording():
            return
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code not in (grpc.StatusCode.OK, grpc.StatusCode.CANCELLED):
            details = context.details() if hasattr(context, "details") else None
            span.set_status(
                trace.Status(trace.StatusCode.ERROR, f"{code.name}: {details or ''}".strip())
            )


_CODES = {code.value[0]: code for code in grpc.StatusCode}


def _status_code(context: grpc.aio.ServicerContext, exc: BaseException | None) -> grpc.StatusCode:
    code = context.code()  # an int in grpc.aio, once an abort has set it
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int) and code in _CODES:
        return _CODES[code]
    if isinstance(exc, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED
    if exc is not None:
        return grpc.StatusCode.UNKNOWN
    return grpc.StatusCode.OK


class PropagatingClientInterceptor(
    grpc.aio.UnaryUnaryClientInterceptor,  # type: ignore[misc]
    grpc.aio.UnaryStreamClientInterceptor,  # type: ignore[misc]
):
    """Adds the current trace context to the metadata of outgoing calls."""

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(_with_context(details), request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(_with_context(details), request)


def _with_context(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    if not trace.get_current_span().get_span_context().is_valid:
        return details
    metadata = tracing.metadata_with_context(list(details.metadata or ()))
    return grpc.aio.ClientCallDetails(
        details.method,
        details.timeout,
        grpc.aio.Metadata(*metadata),
        details.credentials,
        details.wait_for_ready,
    )
