"""The HTTP API's application: LangGraph Server's routes over graphmesh's
gRPC API.

Each request acts for its caller: the credentials it carries
(`Authorization: Bearer ...`, or `x-api-key` as LangGraph Server's clients
send it) go with every gRPC call it makes, so the gateway's own
interceptors authenticate it, pick its tenant and apply its limits. Each
request is traced (a `traceparent` header continues the caller's trace) and
counted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import structlog
from opentelemetry import trace
from prometheus_client import Counter, Histogram
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from graphmesh import tracing
from graphmesh.client import AsyncClient
from graphmesh.errors import GraphmeshError, Unauthenticated
from graphmesh_gateway.http.errors import TooLarge, error_response, invalid

log = structlog.get_logger("graphmesh_gateway.http")

HTTP_REQUESTS: Final = Counter(
    "graphmesh_http_requests_total",
    "HTTP API requests served, by method, route and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY: Final = Histogram(
    "graphmesh_http_request_duration_seconds",
    "Time to serve an HTTP API request (a stream: until it ends), by route.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
)

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Api:
    """What every route needs: the gateway's gRPC API, for its callers."""

    client: AsyncClient
    version: str = ""

    def caller(self, request: Request) -> AsyncClient:
        """The gRPC API acting for the request's caller."""
        return self.client.acting_for(credentials(request))


def credentials(request: Request) -> str | None:
    """The token a request carries: `Authorization: Bearer <token>`, or
    `x-api-key: <key>` (LangGraph Server's clients send their key so)."""
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(
                "the Authorization header must be 'Bearer <token>'",
                reason="CREDENTIALS_MALFORMED",
            )
        return token.strip()
    return request.headers.get("x-api-key") or None


#: The largest request body read when the app says no other (its
#: `state.max_body_bytes`).
DEFAULT_MAX_BODY_BYTES = 4 << 20


async def json_body(request: Request) -> Any:
    """The request's JSON body ({} when empty); 413 for a body over the
    app's limit (refused before more of it is read), 422 for one that is
    not JSON."""
    limit = getattr(request.app.state, "max_body_bytes", DEFAULT_MAX_BODY_BYTES)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise invalid("REQUEST_MALFORMED", f"the request body is not JSON: {exc}") from None


def route(path: str, handler: Handler, method: str) -> Route:
    """A route whose graphmesh errors are answered as LangGraph Server does."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except GraphmeshError as error:
            return error_response(error)

    return Route(path, endpoint, methods=[method], name=f"{method} {path}")


class Observed:
    """ASGI middleware: a span and the request metrics for every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        status = 500
        started = time.perf_counter()

        async def observe(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with tracing.tracer.start_as_current_span(
            method,
            context=tracing.context_from_metadata(headers),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method},
        ) as span:
            try:
                await self.app(scope, receive, observe)
            finally:
                # The route the router matched, as written ("/threads/{thread_id}"),
                # so that spans and metrics are not named by ids.
                template = str(getattr(scope.get("route"), "path", "unmatched"))
                span.update_name(f"{method} {template}")
                span.set_attribute("http.route", template)
                span.set_attribute("http.response.status_code", status)
                HTTP_REQUESTS.labels(method, template, str(status)).inc()
                HTTP_LATENCY.labels(method, template).observe(time.perf_counter() - started)


def build_app(
    routes: list[BaseRoute],
    cors_origins: tuple[str, ...] = (),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Starlette:
    """The ASGI application serving `routes`; pages of `cors_origins` ("*":
    any) may call it from a browser (as LangGraph's UIs do); request bodies
    over `max_body_bytes` are refused."""

    async def internal(request: Request, exc: Exception) -> Response:
        # A bug: said as JSON like any other error, and logged with its trace.
        log.error("http_request_failed", path=request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal error", "reason": "INTERNAL"}, 500)

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": "Not Found", "reason": "ROUTE_NOT_FOUND"}, 404)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": "Method Not Allowed", "reason": "METHOD_NOT_ALLOWED"}, 405)

    app = Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: not_allowed, Exception: internal},
    )
    app.state.max_body_bytes = max_body_bytes
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
            # The clients follow a run by these (a stream's reconnect, its run id).
            expose_headers=["Content-Location", "Location"],
        )
    app.add_middleware(Observed)
    return app
