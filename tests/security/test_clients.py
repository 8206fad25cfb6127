"""The CLI and the Node.js client with credentials, over TLS, against the
secured mesh."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_cli_and_clients import ROOT, node_client
from tests.security.conftest import API_KEYS, SecureMesh

pytestmark = pytest.mark.e2e

CHAIN3 = '{"n": 0, "trail": []}'


def _cli(
    secure: SecureMesh, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "graphmesh_cli.main",
            *args,
            "--target",
            secure.target,
            "--tls-ca",
            str(secure.public_ca),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_the_cli_takes_a_token_a_token_file_or_the_environment(
    secure: SecureMesh, tmp_path: Path
) -> None:
    ran = _cli(secure, "run", "chain3", "--input", CHAIN3, "--token", API_KEYS["acme"])
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"n": 3, "trail": ["s0", "s1", "s2"]}
    token_file = tmp_path / "token"
    token_file.write_text(secure.jwt("acme") + "\n")
    listed = _cli(secure, "runs", "list", "--token-file", str(token_file))
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["runs"]
    by_env = _cli(secure, "graphs", "list", env={"GRAPHMESH_TOKEN": API_KEYS["globex"]})
    assert by_env.returncode == 0, by_env.stderr
    refused = _cli(secure, "runs", "list")
    assert refused.returncode == 1
    assert "UNAUTHENTICATED" in refused.stderr and "CREDENTIALS_MISSING" in refused.stderr
    assert API_KEYS["acme"] not in refused.stderr


def test_the_node_client_takes_a_token_and_a_ca(secure: SecureMesh) -> None:
    events, final = node_client(
        secure.mesh,
        "chain3",
        {"n": 0, "trail": []},
        "--token",
        API_KEYS["acme"],
        "--ca",
        str(secure.public_ca),
    )
    assert final["status"] == "RUN_STATUS_SUCCEEDED"
    assert events[0]["type"] == "RunCreated" and events[-1]["type"] == "RunSucceeded"
    node = shutil.which("node")
    assert node is not None
    refused = subprocess.run(
        [node, "client.js", "--target", secure.target, "--ca", str(secure.public_ca)],
        cwd=ROOT / "examples" / "clients" / "node",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2 and "gRPC 16" in refused.stderr  # UNAUTHENTICATED


def test_the_benchmark_runs_against_a_secured_gateway(secure: SecureMesh) -> None:
    small = ["--runs", "8", "--concurrency", "4", "--sequential", "3", "--fanout-runs", "2",
             "--first-event-runs", "2", "--cancel-runs", "1"]  # fmt: skip
    refused = _cli(secure, "bench", *small)
    assert refused.returncode != 0
    ran = _cli(secure, "bench", *small, "--token", API_KEYS["acme"])
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout.splitlines()[-1])
    assert report["outputs_checked"] and report["graphmesh"]["chain3_runs_per_s"] > 0
