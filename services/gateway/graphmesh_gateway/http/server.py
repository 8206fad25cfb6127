"""The HTTP API's listener: uvicorn, in the gateway's own event loop,
calling the gateway's gRPC API over a private socket."""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator
from importlib import metadata
from pathlib import Path

import langgraph.version
import structlog
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from graphmesh import grpcutil
from graphmesh.client import AsyncClient
from graphmesh.tls import ServerTls
from graphmesh_gateway.http import assistant_routes, run_routes, store_routes, thread_routes
from graphmesh_gateway.http.app import Api, build_app
from graphmesh_gateway.http.openapi import openapi_route

log = structlog.get_logger("graphmesh_gateway.http")


def all_routes(api: Api) -> list[BaseRoute]:
    """Every route of the HTTP API."""

    async def ok(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def info(request: Request) -> Response:
        return JSONResponse(
            {
                "version": api.version,
                "langgraph_py_version": langgraph.version.__version__,
                "flags": {"assistants": True, "crons": False, "langsmith": False},
                "host": {"kind": "graphmesh"},
            }
        )

    served: list[BaseRoute] = [
        Route("/ok", ok, methods=["GET"]),
        Route("/info", info, methods=["GET"]),
        *assistant_routes.routes(api),
        *thread_routes.routes(api),
        *run_routes.routes(api),
        *store_routes.routes(api),
    ]
    return [*served, openapi_route(api.version)]


def version() -> str:
    """graphmesh's version."""
    try:
        return metadata.version("graphmesh")
    except metadata.PackageNotFoundError:
        return "0"


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the gateway's stop decides."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def http_api(
    listen: str,
    grpc_target: str,
    tls: ServerTls | None,
    grace_seconds: float,
    cors_origins: tuple[str, ...] = (),
    max_body_bytes: int = 4 << 20,
) -> AsyncIterator[str]:
    """Serves the HTTP API on `listen` ("host:port") in front of the gRPC
    API at `grpc_target` while the context lasts (browsers may call it from
    pages of `cors_origins`; bodies over `max_body_bytes` are refused);
    yields the address it listens on."""
    host, _, port = listen.rpartition(":")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]") or "0.0.0.0", int(port)))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {listen}: {exc.strerror}") from exc
    address = f"{host}:{sock.getsockname()[1]}"
    async with grpcutil.channel(grpc_target) as channel:
        api = Api(AsyncClient(channel=channel, timeout=None), version())
        with _tls_files(tls) as files:
            config = uvicorn.Config(
                build_app(all_routes(api), cors_origins, max_body_bytes),
                loop="none",
                lifespan="off",
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=math.ceil(grace_seconds),
                ssl_certfile=files.get("cert"),
                ssl_keyfile=files.get("key"),
                ssl_ca_certs=files.get("client_ca"),
                ssl_cert_reqs=ssl.CERT_REQUIRED if "client_ca" in files else ssl.CERT_NONE,
            )
            config.load()  # reads the certificates, so their files may go
        server = _Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            yield address
        finally:
            server.should_exit = True
            await serving
            sock.close()


@contextlib.contextmanager
def _tls_files(tls: ServerTls | None) -> Iterator[dict[str, str]]:
    """The listener's certificate, key and client CA as files (uvicorn reads
    them from files only), in a private directory, for as long as it lasts."""
    if tls is None:
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="graphmesh-http-") as directory:
        files = {"cert": Path(directory, "cert.pem"), "key": Path(directory, "key.pem")}
        files["cert"].write_bytes(tls.cert_chain)
        files["key"].write_bytes(tls.private_key)
        if tls.client_ca is not None:
            files["client_ca"] = Path(directory, "client-ca.pem")
            files["client_ca"].write_bytes(tls.client_ca)
        yield {name: str(path) for name, path in files.items()}
