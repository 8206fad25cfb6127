"""Authentication on every public RPC, and tenants kept apart on every RPC,
against the real secured mesh."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from graphmesh.errors import ERROR_DOMAIN, GraphmeshError
from graphmesh.runs import RunStatus
from graphmesh.v1 import run_service_pb2, run_service_pb2_grpc
from tests.conftest import store_counts
from tests.e2e.helpers import status_details
from tests.security.conftest import API_KEYS, SecureMesh
from tests.security.rpcs import PUBLIC_RPCS

pytestmark = pytest.mark.e2e

CHAIN3 = {"n": 0, "trail": []}


def _bad_credentials(secure: SecureMesh) -> list[tuple[str, list[tuple[str, str]], str]]:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"sub": "mallory", "tenant": "acme", "exp": int(time.time()) + 600}
    return [
        ("none", [], "CREDENTIALS_MISSING"),
        ("basic", [("authorization", "Basic bWFsbG9yeTpwdw==")], "CREDENTIALS_MALFORMED"),
        ("unknown key", [("authorization", "Bearer gm-acme-guessed")], "API_KEY_UNKNOWN"),
        (
            "expired JWT",
            [("authorization", "Bearer " + secure.jwt("acme", exp=int(time.time()) - 600))],
            "TOKEN_EXPIRED",
        ),
        (
            "JWT of another key",
            [
                (
                    "authorization",
                    "Bearer "
                    + jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "mesh-1"}),
                )
            ],
            "TOKEN_INVALID",
        ),
        (
            "JWT of an unknown kid",
            [
                (
                    "authorization",
                    "Bearer "
                    + jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "other"}),
                )
            ],
            "TOKEN_KEY_UNKNOWN",
        ),
    ]


def test_every_rpc_refuses_missing_bad_and_expired_credentials(secure: SecureMesh) -> None:
    before = store_counts(secure.mesh)
    failures = []
    with secure.channel() as channel:
        for rpc in PUBLIC_RPCS:
            for name, metadata, reason in _bad_credentials(secure):
                try:
                    rpc.call(channel, rpc.request(), metadata)
                    failures.append(f"{rpc.name} with {name}: answered")
                except grpc.RpcError as exc:
                    code, domain, got, _ = status_details(exc)
                    if (code, domain, got) != (
                        grpc.StatusCode.UNAUTHENTICATED,
                        ERROR_DOMAIN,
                        reason,
                    ):
                        failures.append(f"{rpc.name} with {name}: {code} {got}")
    assert failures == []
    # RunService 6, ThreadService 9, GraphService 3, AssistantService 11, StoreService 5
    assert len(PUBLIC_RPCS) == 34
    assert store_counts(secure.mesh) == before


def test_health_and_reflection_stay_open(secure: SecureMesh) -> None:
    with secure.channel() as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        [reply] = list(
            stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
        )
        names = {s.name for s in reply.list_services_response.service}
        assert "graphmesh.v1.RunService" in names


def _refused(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(GraphmeshError) as exc:
        call()
    return exc.value.code, exc.value.reason


def _acme_events(secure: SecureMesh) -> str:
    return secure.mesh.postgres.query(
        "SELECT count(*), coalesce(max(position), 0) FROM events WHERE thread_id LIKE 'acme/%'"
    ).strip()


def test_tenants_cannot_reach_or_learn_of_each_others_objects(secure: SecureMesh) -> None:
    not_found = grpc.StatusCode.NOT_FOUND
    with secure.client("acme") as acme, secure.client(token=secure.jwt("globex")) as globex:
        # acme: a thread with two turns, an interrupted thread, a labelled one.
        first = acme.wait_run(
            acme.create_run("chain3", CHAIN3, thread_id="shared", request_id="req-1").run_id
        )
        second = acme.wait_run(acme.create_run("chain3", {"n": 5}, thread_id="shared").run_id)
        assert second.output["trail"] == ["s0", "s1", "s2"] * 2
        assert first.thread_id == "shared"  # acme sees its own ids, never the scoped ones
        waiting = acme.wait_run(acme.create_run("hitl", {"trail": []}, thread_id="waiting").run_id)
        assert waiting.status is RunStatus.INTERRUPTED
        acme.create_thread("labelled", {"team": "a"})
        _, acme_page = acme.list_runs(page_size=1)
        assert acme_page
        acme_cursor = next(iter(acme.stream_run(first.run_id))).cursor
        with secure.channel() as channel:
            stream = run_service_pb2_grpc.RunServiceStub(channel).StreamRun(
                run_service_pb2.StreamRunRequest(run_id=first.run_id),
                metadata=[("authorization", f"Bearer {API_KEYS['acme']}")],
                timeout=10,
            )
            assert {answer.event.thread_id for answer in stream} == {"shared"}
        acme_before = _acme_events(secure)

        # globex can do nothing with acme's runs, and learns nothing of them.
        for run_id in (first.run_id, waiting.run_id):
            assert _refused(lambda r=run_id: globex.get_run(r)) == (not_found, "RUN_NOT_FOUND")
            assert _refused(lambda r=run_id: globex.wait_run(r, 10)) == (not_found, "RUN_NOT_FOUND")
            assert _refused(lambda r=run_id: list(globex.stream_run(r, timeout=10))) == (
                not_found,
                "RUN_NOT_FOUND",
            )
            assert _refused(lambda r=run_id: globex.cancel_run(r)) == (not_found, "RUN_NOT_FOUND")
        for thread in ("shared", "waiting", "labelled"):
            for call in (
                lambda t=thread: globex.get_thread(t),
                lambda t=thread: globex.get_thread_state(t),
                lambda t=thread: globex.get_thread_history(t),
                lambda t=thread: globex.update_thread_state(t, {"n": 99}),
                lambda t=thread: globex.delete_thread(t),
            ):
                assert _refused(call) == (not_found, "THREAD_NOT_FOUND")
        runs, _ = globex.list_runs(page_size=1000)
        assert {first.run_id, second.run_id, waiting.run_id}.isdisjoint(r.run_id for r in runs)
        assert globex.list_runs(thread_id="shared")[0] == []
        threads, _ = globex.list_threads(page_size=1000)
        assert {"shared", "waiting", "labelled"}.isdisjoint(t.thread_id for t in threads)
        assert _refused(lambda: globex.list_runs(page_token=acme_page)) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "PAGE_TOKEN_FILTER_MISMATCH",
        )
        # A resume of acme's interrupt is a resume of globex's own (empty) thread.
        assert _refused(
            lambda: globex.create_run("hitl", None, thread_id="waiting", resume="yes")
        ) == (grpc.StatusCode.FAILED_PRECONDITION, "NO_PENDING_INTERRUPT")

        # The same names are globex's own: another thread, another run.
        mine = globex.wait_run(
            globex.create_run("chain3", CHAIN3, thread_id="shared", request_id="req-1").run_id
        )
        assert mine.run_id != first.run_id and mine.thread_id == "shared"
        assert mine.output["trail"] == ["s0", "s1", "s2"]  # not acme's six
        assert globex.create_thread("labelled").thread_id == "labelled"
        assert _refused(lambda: list(globex.stream_run(mine.run_id, acme_cursor, 10))) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "CURSOR_FOREIGN",
        )

        # acme's objects are as they were.
        assert _acme_events(secure) == acme_before
        assert acme.wait_run(waiting.run_id, 10).status is RunStatus.INTERRUPTED  # the store
        assert acme.get_thread_state("shared").values["trail"] == ["s0", "s1", "s2"] * 2
        assert acme.get_thread("labelled").metadata == {"team": "a"}
        assert len(acme.list_runs(thread_id="shared")[0]) == 2


def test_queue_depth_counts_the_callers_runs_only(secure: SecureMesh) -> None:
    with secure.client("acme") as acme, secure.client("globex") as globex:
        slow = acme.create_run("sleeper", {"seconds": 30}, thread_id="q-depth")
        try:
            deadline = time.monotonic() + 30
            while acme.queue_depth("sleeper").get("sleeper", {}).get("running", 0) < 1:
                assert time.monotonic() < deadline, acme.queue_depth("sleeper")
                time.sleep(0.2)
            theirs = globex.queue_depth("sleeper").get("sleeper", {})
            assert theirs.get("running", 0) == 0 and theirs.get("pending", 0) == 0
        finally:
            acme.cancel_run(slow.run_id)


def test_a_tenant_over_its_quota_or_rate_is_refused(secure: SecureMesh) -> None:
    exhausted = grpc.StatusCode.RESOURCE_EXHAUSTED
    with secure.client("quotaco") as quotaco, secure.client("ratedco") as ratedco:
        held = quotaco.create_run("sleeper", {"seconds": 30}, thread_id="quota-1")
        try:
            deadline = time.monotonic() + 30
            while quotaco.get_run(held.run_id).status is not RunStatus.RUNNING:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            # The read model counts it now: one more is over the quota of 1.
            before = store_counts(secure.mesh)
            assert _refused(lambda: quotaco.create_run("chain3", CHAIN3, thread_id="quota-2")) == (
                exhausted,
                "TENANT_QUOTA_EXCEEDED",
            )
            assert store_counts(secure.mesh)["run_heads"] == before["run_heads"]
        finally:
            quotaco.cancel_run(held.run_id)
        # Another tenant is not held back by quotaco's quota.
        with secure.client("globex") as globex:
            assert globex.create_run("chain3", CHAIN3).status is RunStatus.PENDING
        # ratedco: bursts of 2, then refused until a token comes back.
        outcomes = []
        for i in range(4):
            try:
                ratedco.create_run("chain3", CHAIN3, thread_id=f"rated-{i}")
                outcomes.append("ok")
            except GraphmeshError as exc:
                outcomes.append(exc.reason)
        assert outcomes[:2] == ["ok", "ok"] and "TENANT_RATE_LIMITED" in outcomes[2:]
    # Operators see both refusals, by tenant.
    text = urllib.request.urlopen(secure.mesh.service("gateway").metrics_url, timeout=5).read()
    refused = {
        (sample.labels["tenant"], sample.labels["reason"]): sample.value
        for family in text_string_to_metric_families(text.decode())
        if family.name == "graphmesh_tenant_runs_refused"
        for sample in family.samples
        if sample.name.endswith("_total")
    }
    assert refused[("quotaco", "quota")] >= 1 and refused[("ratedco", "rate")] >= 1


def test_tenants_do_not_see_each_others_assistants_or_store_items(secure: SecureMesh) -> None:
    with secure.client("acme") as acme, secure.client(token=secure.jwt("globex")) as globex:
        mine = acme.create_assistant("chain3", name="acme's", metadata={"owner": "acme"})
        acme.put_item(("secrets", "plan"), "k", {"text": "acme's plan"})
        assert acme.get_item(("secrets", "plan"), "k").value == {"text": "acme's plan"}
        for call in (
            lambda: globex.get_assistant(mine.assistant_id),
            lambda: globex.update_assistant(mine.assistant_id, name="taken"),
            lambda: globex.delete_assistant(mine.assistant_id),
            lambda: globex.list_assistant_versions(mine.assistant_id),
            lambda: globex.create_run(mine.assistant_id, {"n": 0, "trail": []}),
            lambda: globex.get_item(("secrets", "plan"), "k"),
        ):
            code, reason = _refused(call)
            assert code is grpc.StatusCode.NOT_FOUND, reason
        assert globex.search_assistants(metadata={"owner": "acme"})[0] == []
        assert globex.count_assistants(metadata={"owner": "acme"}) == 0
        assert globex.search_items(("secrets",)) == []
        assert globex.list_namespaces(("secrets",)) == []
        # globex's own item under the same names is its own.
        globex.put_item(("secrets", "plan"), "k", {"text": "globex's"})
        assert acme.get_item(("secrets", "plan"), "k").value == {"text": "acme's plan"}
        assert acme.get_assistant(mine.assistant_id).name == "acme's"
