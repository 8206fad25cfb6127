"""The HTTP API on the secured mesh: it serves HTTPS with the gateway's
certificate, needs the same credentials as the gRPC API (as LangGraph's
clients send them: `x-api-key`, or a bearer token), keeps tenants apart,
and a run created over it is one trace from the HTTP request on."""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError

from tests.otlp import tree
from tests.security.conftest import API_KEYS, SecureMesh

pytestmark = pytest.mark.e2e


def _http(secure: SecureMesh, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    trusted = ssl.create_default_context(cafile=str(secure.public_ca))
    return httpx.AsyncClient(
        base_url=secure.mesh.http_url, headers=headers or {}, verify=trusted, timeout=30
    )


@asynccontextmanager
async def _sdk(secure: SecureMesh, **headers: str) -> AsyncIterator[LangGraphClient]:
    """LangGraph's Python client over HTTPS, sending `headers`."""
    http = _http(secure, {k.replace("_", "-"): v for k, v in headers.items()})
    try:
        yield LangGraphClient(http)
    finally:
        await http.aclose()


async def test_the_http_api_serves_https_only_with_a_trusted_certificate(
    secure: SecureMesh,
) -> None:
    assert secure.mesh.http_url.startswith("https://")
    async with _http(secure) as http:
        assert (await http.get("/ok")).status_code in (200, 401)
    async with httpx.AsyncClient(base_url=secure.mesh.http_url) as untrusting:
        with pytest.raises(httpx.ConnectError):
            await untrusting.get("/ok")


async def test_credentials_are_needed_and_taken_as_langgraph_clients_send_them(
    secure: SecureMesh,
) -> None:
    async with _http(secure) as http:
        answer = await http.post("/threads", json={})
        assert answer.status_code == 401
        assert answer.json()["reason"] == "CREDENTIALS_MISSING"
        answer = await http.post("/threads", json={}, headers={"x-api-key": "gm-nobody-000"})
        assert (answer.status_code, answer.json()["reason"]) == (401, "API_KEY_UNKNOWN")
        answer = await http.post("/threads", json={}, headers={"Authorization": "Basic abc"})
        assert (answer.status_code, answer.json()["reason"]) == (401, "CREDENTIALS_MALFORMED")
    async with _sdk(secure, x_api_key=API_KEYS["acme"]) as acme:
        made = await acme.threads.create()
        assert made["status"] == "idle"
    async with _sdk(secure, authorization=f"Bearer {secure.jwt('globex')}") as globex:
        assert (await globex.runs.wait(None, "chain3", input={"n": 0, "trail": []}))["n"] == 3


async def test_tenants_do_not_reach_each_others_threads_over_http(secure: SecureMesh) -> None:
    label = uuid.uuid4().hex[:8]
    async with (
        _sdk(secure, x_api_key=API_KEYS["acme"]) as acme,
        _sdk(secure, x_api_key=API_KEYS["globex"]) as globex,
    ):
        thread = (await acme.threads.create(metadata={"label": label}))["thread_id"]
        run = await acme.runs.create(thread, "chain3", input={"n": 0, "trail": []})
        await acme.runs.join(thread, run["run_id"])
        for reach in (
            globex.threads.get(thread),
            globex.threads.get_state(thread),
            globex.runs.get(thread, run["run_id"]),
            globex.runs.create(thread, "chain3", input={"n": 0, "trail": []}),
        ):
            with pytest.raises(NotFoundError):
                await reach
        assert await globex.threads.search(metadata={"label": label}) == []
        assert len(await acme.threads.search(metadata={"label": label})) == 1


async def test_a_run_created_over_http_is_one_trace_from_the_request(
    secure: SecureMesh,
) -> None:
    async with _sdk(secure, x_api_key=API_KEYS["acme"]) as acme:
        thread = (await acme.threads.create())["thread_id"]
        run = await acme.runs.create(thread, "chain3", input={"n": 0, "trail": []})
        await acme.runs.join(thread, run["run_id"])
    names = {"POST /threads/{thread_id}/runs", "run chain3", "graphmesh.events append"}
    deadline = time.monotonic() + 20
    while True:
        spans = secure.receiver.wait_for_run(run["run_id"], names)
        if len(tree(spans)) == 1 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    roots = tree(spans)
    assert [(r.service, r.name) for r in roots] == [
        ("graphmesh-gateway", "POST /threads/{thread_id}/runs")
    ]
    assert roots[0].attributes["http.response.status_code"] == 200
    create = [c for c in roots[0].children if c.name == "graphmesh.v1.RunService/CreateRun"]
    assert len(create) == 1 and create[0].service == "graphmesh-gateway"
