"""Size limits on what a run may accumulate, and on requests."""

from __future__ import annotations

import json

import grpc
import pytest

from graphmesh.errors import GraphmeshError
from graphmesh.runs import RunStatus
from tests.security.conftest import SecureMesh

pytestmark = pytest.mark.e2e


def test_a_run_whose_state_outgrows_the_limit_fails_and_stores_nothing_larger(
    secure: SecureMesh,
) -> None:
    with secure.client("acme") as acme:
        # 10 steps of 50 kB: the state passes the 200 kB limit within a few.
        run = acme.wait_run(
            acme.create_run("grower", {"blob": [], "size": 50_000, "steps": 10}).run_id
        )
        assert run.status is RunStatus.FAILED
        assert run.error is not None and run.error["type"] == "StateTooLarge", run.error
        largest = secure.mesh.postgres.query(
            f"SELECT max(octet_length(payload)) FROM events WHERE run_id = '{run.run_id}'"
        ).strip()
        assert 100_000 < int(largest) <= 200_000  # it grew, up to the limit
        # The thread keeps the last state within the limit; other runs go on.
        state = acme.get_thread_state(run.thread_id)
        assert 1 <= len(state.values["blob"]) <= 3
        small = acme.wait_run(
            acme.create_run("grower", {"blob": [], "size": 10, "steps": 2}).run_id
        )
        assert small.status is RunStatus.SUCCEEDED


def test_oversized_requests_are_refused_before_they_are_read(secure: SecureMesh) -> None:
    with secure.client("acme") as acme:
        # Over the input limit (1 MiB): a precise status naming the field.
        with pytest.raises(GraphmeshError) as exc:
            acme.create_run("chain3", json.dumps({"blob": "x" * (1 << 20)}))
        assert (exc.value.code, exc.value.reason) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "INPUT_TOO_LARGE",
        )
        # Over the message limit: refused by the transport, unread.
        with pytest.raises(GraphmeshError) as exc:
            acme.create_run("chain3", json.dumps({"blob": "x" * (3 << 20)}))
        assert exc.value.code is grpc.StatusCode.RESOURCE_EXHAUSTED
        # Ids longer than any real one.
        with pytest.raises(GraphmeshError) as exc:
            acme.list_runs(graph_id="g" * 300)
        assert (exc.value.reason, exc.value.field) == ("GRAPH_ID_TOO_LONG", "graph_id")
        with pytest.raises(GraphmeshError) as exc:
            acme.get_thread_state("any-thread", checkpoint_id="c" * 300)
        assert (exc.value.reason, exc.value.field) == ("CHECKPOINT_ID_TOO_LONG", "checkpoint_id")
