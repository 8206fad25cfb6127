"""Secrets never reach a log line, a span or an error message: API keys
(right and wrong), JWTs (valid, expired, tampered), the token secret, the
database password and the services' private keys."""

from __future__ import annotations

import time

import pytest

from graphmesh.errors import GraphmeshError
from graphmesh.runs import RunStatus
from tests.security.conftest import API_KEYS, DB_PASSWORD, TOKEN_SECRET, SecureMesh

pytestmark = pytest.mark.e2e


def test_secrets_never_reach_logs_traces_or_errors(secure: SecureMesh) -> None:
    good_jwt = secure.jwt("acme", subject="secrets-test")
    expired_jwt = secure.jwt("acme", exp=int(time.time()) - 3600)
    wrong_key = "gm-acme-wrong-8c7d6e5f"
    errors: list[str] = []
    with secure.client("acme") as acme:
        run = acme.wait_run(acme.create_run("chain3", {"n": 0, "trail": []}).run_id)
        assert run.status is RunStatus.SUCCEEDED
    with secure.client(token=good_jwt) as by_jwt:
        assert by_jwt.list_runs(page_size=1)[0]
    for token in (expired_jwt, wrong_key, good_jwt[:-4] + "AAAA", f"{good_jwt} trailing"):
        with secure.client(token=token) as refused, pytest.raises(GraphmeshError) as exc:
            refused.list_runs()
        errors.append(f"{exc.value} {exc.value.message}")
    time.sleep(1.5)  # spans leave in batches every half second
    with secure.receiver.lock:
        exported = b"".join(secure.receiver.exports).decode("latin-1")
    assert "CreateRun" in exported  # the search covers real exports
    logs = secure.logs()
    # The refusals are logged (for audits), with their reasons.
    for reason in ("TOKEN_EXPIRED", "API_KEY_UNKNOWN", "TOKEN_INVALID"):
        assert f'"reason": "{reason}"' in logs, reason
    key_lines = [
        line
        for line in secure.internal.key.read_text().splitlines()
        if line and not line.startswith("-----")
    ]
    secrets = {
        **{f"API key of {t}": k for t, k in API_KEYS.items()},
        "wrong API key": wrong_key,
        "token secret": TOKEN_SECRET,
        "database password": DB_PASSWORD,
        "valid JWT signature": good_jwt.rsplit(".", 1)[1],
        "expired JWT signature": expired_jwt.rsplit(".", 1)[1],
        **{f"private key line {i}": line for i, line in enumerate(key_lines)},
    }
    found = [
        f"{what} in {where}"
        for what, secret in secrets.items()
        for where, text in (("logs", logs), ("traces", exported), ("errors", " ".join(errors)))
        if secret in text
    ]
    assert found == []
