"""OpenTelemetry tracing shared by the services: one trace per run.

A run's trace starts at the gateway's CreateRun span (or the caller's own
span, when its request carries a `traceparent`) and crosses every process:

- gRPC calls carry W3C trace context in their metadata (see
  `graphmesh.interceptors`);
- Kafka messages carry it in their headers (`kafka_headers`,
  `context_from_headers`);
- a stored event keeps the trace context of the append that stored it
  (`Event.trace_context`), which the projector continues.

Spans are exported over OTLP/gRPC when an endpoint is configured; without
one the API's no-op tracer is used and costs next to nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

tracer = trace.get_tracer("graphmesh")
_PROPAGATOR = TraceContextTextMapPropagator()

KafkaHeaders = Sequence[tuple[str, bytes]]
Metadata = Sequence[tuple[str, str | bytes]]


@dataclass(frozen=True, slots=True)
class TracingSettings:
    """Where spans go. An empty endpoint turns tracing off."""

    service_name: str
    #: OTLP/gRPC endpoint, "http://host:4317" (plain) or "https://..." (TLS).
    otlp_endpoint: str = ""


class _State:
    provider: object | None = None


def configure_tracing(settings: TracingSettings) -> None:
    """Installs the process's tracer provider (once, at start-up)."""
    if not settings.otlp_endpoint:
        return
    # Imported here: the SDK and the exporter are not needed when tracing is off.
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    endpoint = settings.otlp_endpoint
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    exporter = OTLPSpanExporter(endpoint=endpoint, insecure=endpoint.startswith("http://"))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    _State.provider = provider


def shutdown_tracing() -> None:
    """Exports the spans still buffered and stops the exporter."""
    provider = _State.provider
    if provider is not None:
        provider.shutdown()  # type: ignore[attr-defined]
        _State.provider = None


def enabled() -> bool:
    """Whether spans are exported (callers skip work only tracing needs)."""
    return _State.provider is not None


def messaging_attributes(topic: str) -> dict[str, str]:
    """Span attributes naming a Kafka topic."""
    return {"messaging.system": "kafka", "messaging.destination.name": topic}


def kafka_headers() -> list[tuple[str, bytes]]:
    """The current trace context as Kafka message headers."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return [(k, v.encode()) for k, v in carrier.items()]


def context_from_headers(headers: KafkaHeaders | None) -> Context:
    """The trace context a Kafka message carries (empty if none)."""
    carrier = {k: v.decode("latin-1") for k, v in headers or () if isinstance(v, bytes)}
    return _PROPAGATOR.extract(carrier)


def traceparent(span: Span | None = None) -> str:
    """The W3C traceparent of `span` (default: the current span), or ""."""
    carrier: dict[str, str] = {}
    ctx = trace.set_span_in_context(span) if span is not None else None
    _PROPAGATOR.inject(carrier, context=ctx)
    return carrier.get("traceparent", "")


def context_from_traceparent(value: str) -> Context:
    """The trace context of a stored traceparent (empty if none)."""
    return _PROPAGATOR.extract({"traceparent": value} if value else {})


def metadata_with_context(
    metadata: Sequence[tuple[str, str | bytes]] | None,
) -> list[tuple[str, str | bytes]]:
    """gRPC call metadata with the current trace context added."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return [*(metadata or ()), *carrier.items()]


def context_from_metadata(metadata: Metadata | None) -> Context:
    """The trace context of incoming gRPC call metadata (empty if none)."""
    carrier = {k: v for k, v in metadata or () if isinstance(v, str)}
    return _PROPAGATOR.extract(carrier)


def has_context(ctx: Context) -> bool:
    """Whether `ctx` holds a valid remote or local span."""
    return trace.get_current_span(ctx).get_span_context().is_valid


@contextlib.contextmanager
def detached() -> Iterator[None]:
    """Runs the block outside any trace: work done for many runs at once
    (a batched claim) belongs to none of them."""
    token = otel_context.attach(Context())
    try:
        yield
    finally:
        otel_context.detach(token)


def record_error(span: Span, exc: BaseException, description: str | None = None) -> None:
    """Marks `span` failed by `exc`."""
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, description or f"{type(exc).__name__}: {exc}"))
