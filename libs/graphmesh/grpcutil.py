"""gRPC plumbing shared by the services: the one mapping from graphmesh
errors to `google.rpc.Status`, server start-up with health and reflection,
and the translation of errors from calls to other services."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from graphmesh.errors import (
    ERROR_DOMAIN,
    GraphmeshError,
    InvalidArgument,
    Unavailable,
    error_class,
)
from graphmesh.interceptors import (
    ObservingServerInterceptor,
    PropagatingClientInterceptor,
    rewrap,
)
from graphmesh.tls import ClientTls, ServerTls

log = structlog.get_logger(__name__)

#: Largest message a service accepts; requests are checked against their own,
#: smaller limits first so that clients get a precise status.
MAX_MESSAGE_BYTES = 64 << 20

_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")


def status_for(error: GraphmeshError) -> grpc.Status:
    """The gRPC status (with ErrorInfo and BadRequest details) for an error."""
    info = error_details_pb2.ErrorInfo(
        reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata
    )
    details = [_pack(info)]
    if error.field is not None:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=error.field, description=error.message
                )
            ]
        )
        details.append(_pack(bad))
    if error.retry_after is not None:
        retry = error_details_pb2.RetryInfo()
        retry.retry_delay.FromNanoseconds(int(error.retry_after * 1e9))
        details.append(_pack(retry))
    if error.quota_subject is not None:
        quota = error_details_pb2.QuotaFailure(
            violations=[
                error_details_pb2.QuotaFailure.Violation(
                    subject=error.quota_subject, description=error.message
                )
            ]
        )
        details.append(_pack(quota))
    status = status_pb2.Status(
        code=getattr(code_pb2, error.code.name), message=error.message, details=details
    )
    return rpc_status.to_status(status)


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _internal(exc: BaseException) -> grpc.Status:
    return status_for(GraphmeshError(f"internal error: {type(exc).__name__}", reason="INTERNAL"))


def handle_errors(method: _F) -> _F:
    """Makes a servicer method answer graphmesh errors with their status and
    unexpected exceptions with INTERNAL (logged), for unary and streaming
    methods alike."""

    async def _abort(context: grpc.aio.ServicerContext, exc: BaseException) -> None:
        if isinstance(exc, GraphmeshError):
            await context.abort_with_status(status_for(exc))
        log.exception("rpc_failed", method=method.__name__)
        await context.abort_with_status(_internal(exc))

    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def stream_wrapper(self: Any, request: Any, context: Any) -> AsyncIterator[Any]:
            try:
                async for item in method(self, request, context):
                    yield item
            except (asyncio.CancelledError, grpc.aio.AbortError):
                raise
            except Exception as exc:
                await _abort(context, exc)

        return stream_wrapper  # type: ignore[return-value]

    @functools.wraps(method)
    async def unary_wrapper(self: Any, request: Any, context: Any) -> Any:
        try:
            return await method(self, request, context)
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except Exception as exc:
            await _abort(context, exc)

    return unary_wrapper  # type: ignore[return-value]


def _status_details(exc: grpc.RpcError) -> tuple[str, str | None, dict[str, str]]:
    """The reason, field and metadata a failed call's status details carry
    ("" when it carried none)."""
    reason, field, metadata = "", None, {}
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    if status is not None:
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            bad = error_details_pb2.BadRequest()
            if detail.Is(info.DESCRIPTOR):
                detail.Unpack(info)
                reason, metadata = info.reason, dict(info.metadata)
            elif detail.Is(bad.DESCRIPTOR) and detail.Unpack(bad) and bad.field_violations:
                field = bad.field_violations[0].field
    return reason, field, metadata


def error_from_status(exc: grpc.RpcError) -> GraphmeshError:
    """The graphmesh error a failed call stands for, as its caller sees it:
    the class of its status code, its message, reason, field and metadata.
    The client raises these (sync and async calls alike)."""
    reason, field, metadata = _status_details(exc)
    code = exc.code()  # type: ignore[attr-defined]
    message = exc.details() or code.name  # type: ignore[attr-defined]
    return error_class(code)(message, reason=reason, field=field, metadata=metadata)


_UPSTREAM_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)


def translate_rpc_error(exc: grpc.aio.AioRpcError, what: str) -> GraphmeshError:
    """A graphmesh error for a failed call to another graphmesh service, as
    this service answers its own caller: the refusals (bad argument, not
    found, exists, precondition) pass through with their reason and field;
    anything else means the service behind is not serving, Unavailable."""
    reason, field, metadata = _status_details(exc)
    code = exc.code()
    if code in _UPSTREAM_CODES:
        return error_class(code)(
            exc.details() or what, reason=reason or "UPSTREAM_ERROR", field=field, metadata=metadata
        )
    return Unavailable(
        f"{what}: {exc.details()}",
        reason=reason or "UPSTREAM_UNAVAILABLE",
        field=field,
        metadata=metadata,
    )


@contextlib.contextmanager
def translated_rpc_errors(doing: str) -> Iterator[None]:
    """Within it, a failed call to another graphmesh service raises the
    graphmesh error it stands for (`translate_rpc_error`): the one place the
    remote adapters turn `grpc.aio.AioRpcError` into errors."""
    try:
        yield
    except grpc.aio.AioRpcError as exc:
        raise translate_rpc_error(exc, doing) from exc


_RETRIED_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)

#: How long a call to another graphmesh service keeps being retried while
#: that service (or its database) is unavailable.
UPSTREAM_PATIENCE_SECONDS = 120.0


async def call_patiently(
    call: Callable[[], Awaitable[_T]], what: str, patience: float = UPSTREAM_PATIENCE_SECONDS
) -> _T:
    """Makes an idempotent call to another graphmesh service, retrying with
    back-off while it answers UNAVAILABLE (restarting, or its database
    away) or CANCELLED (the server cancelled the call as it shut down; our
    own cancellation is asyncio's, not a status), for up to `patience`
    seconds; errors are translated."""
    delay = 0.1
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError as exc:
            late = asyncio.get_running_loop().time() > deadline
            if exc.code() not in _RETRIED_CODES or late:
                raise translate_rpc_error(exc, what) from exc
            log.warning("upstream_unavailable_retrying", what=what, error=exc.details())
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


class _Unparsed:
    """What a request that did not parse becomes (so the handler can refuse it)."""

    def __init__(self, error: InvalidArgument) -> None:
        self.error = error


def nul_field(message: Any, prefix: str = "") -> str | None:
    """The path of the first text field (map keys and values, repeated and
    nested fields included) of `message` that holds a NUL character, or
    None. Protobuf guarantees text is valid UTF-8, but NUL is valid UTF-8
    and no PostgreSQL text can hold it."""
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.type == field.TYPE_STRING:
            values = value if field.is_repeated else (value,)
            if any("\x00" in v for v in values):
                return path
        elif field.message_type is not None and field.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if "\x00" in str(key) or (isinstance(item, str) and "\x00" in item):
                    return path
        elif field.type == field.TYPE_MESSAGE:
            for i, item in enumerate(value if field.is_repeated else (value,)):
                where = f"{path}[{i}]." if field.is_repeated else f"{path}."
                if (found := nul_field(item, where)) is not None:
                    return found
    return None


class RequestParsingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Answers a request body that does not parse with INVALID_ARGUMENT
    (reason REQUEST_MALFORMED, with ErrorInfo) instead of grpcio's bare
    INTERNAL; with `refuse_nul` (the public API), a request with a NUL
    character in any text field is refused too (NUL_IN_TEXT, naming the
    field), before any handler sees it. Installed innermost, so credentials
    are checked first."""

    def __init__(self, refuse_nul: bool = False) -> None:
        self._refuse_nul = refuse_nul

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or handler.request_streaming or handler.request_deserializer is None:
            return handler
        parse = handler.request_deserializer

        def parse_or_mark(data: bytes) -> Any:
            try:
                request = parse(data)
            except Exception as exc:  # protobuf's DecodeError, bad UTF-8, ...
                return _Unparsed(
                    InvalidArgument(
                        f"the request is not a valid protobuf message ({type(exc).__name__})",
                        reason="REQUEST_MALFORMED",
                    )
                )
            if self._refuse_nul and (field := nul_field(request)) is not None:
                return _Unparsed(
                    InvalidArgument(
                        f"{field} contains a NUL character, which no text may hold",
                        reason="NUL_IN_TEXT",
                        field=field,
                    )
                )
            return request

        def unary(behavior: Any) -> Any:
            async def single(request: Any, context: grpc.aio.ServicerContext) -> Any:
                await _refuse_unparsed(request, context)
                return await behavior(request, context)

            return single

        def stream(behavior: Any) -> Any:
            async def streaming(
                request: Any, context: grpc.aio.ServicerContext
            ) -> AsyncIterator[Any]:
                await _refuse_unparsed(request, context)
                async for item in behavior(request, context):
                    yield item

            return streaming

        return rewrap(handler, unary, stream, request_deserializer=parse_or_mark)


async def _refuse_unparsed(request: Any, context: grpc.aio.ServicerContext) -> None:
    if isinstance(request, _Unparsed):
        await context.abort_with_status(status_for(request.error))


def create_server(
    public: bool = False,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    max_receive_bytes: int = MAX_MESSAGE_BYTES,
) -> grpc.aio.Server:
    """An aio server with graphmesh's message limits, traced and measured
    (`public`: the gateway, whose every call is traced); `interceptors` run
    inside the observing one, so that what they refuse is traced and
    counted too."""
    return grpc.aio.server(
        interceptors=[
            ObservingServerInterceptor(trace_all=public),
            *interceptors,
            RequestParsingInterceptor(refuse_nul=public),
        ],
        options=[
            ("grpc.max_receive_message_length", max_receive_bytes),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )


async def add_health_and_reflection(
    server: grpc.aio.Server, service_names: Iterable[str]
) -> health.aio.HealthServicer:
    """Adds gRPC health checking (the server and each named service
    NOT_SERVING until `set_serving`; grpcio's own default for the server is
    SERVING) and server reflection for `service_names`."""
    names = list(service_names)
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    reflection.enable_server_reflection(
        [*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    await set_serving(servicer, names, False)
    return servicer


async def set_serving(
    servicer: health.aio.HealthServicer, service_names: Iterable[str], serving: bool
) -> None:
    """Marks the server and each named service SERVING or NOT_SERVING."""
    status = (
        health_pb2.HealthCheckResponse.SERVING
        if serving
        else health_pb2.HealthCheckResponse.NOT_SERVING
    )
    for name in ["", *service_names]:
        await servicer.set(name, status)


def listen(server: grpc.aio.Server, address: str, tls: ServerTls | None) -> None:
    """Binds `server` to `address`, with TLS when `tls` is given; a failed
    bind refuses to start (grpcio would otherwise only log it)."""
    try:
        if tls is None:
            port = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, tls.credentials())
    except RuntimeError as exc:  # grpcio's "Failed to bind to address"
        raise OSError(f"cannot listen on {address}: {exc}") from exc
    if port == 0:
        raise OSError(f"cannot listen on {address}")


def channel(target: str, tls: ClientTls | None = None) -> grpc.aio.Channel:
    """A client channel to another graphmesh service (TLS when `tls` is given)."""
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        # Reconnect within a second of the service coming back (gRPC's own
        # backoff grows to two minutes; calls fail at once meanwhile).
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 1000),
    ]
    interceptors = [PropagatingClientInterceptor()]
    if tls is None:
        return grpc.aio.insecure_channel(target, interceptors=interceptors, options=options)
    return grpc.aio.secure_channel(
        target, tls.credentials(), interceptors=interceptors, options=options
    )
