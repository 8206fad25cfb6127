"""`graphmesh up` / `down` as a user runs them, and `graphmesh bench`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from graphmesh.testing.infra.procs import free_port
from graphmesh.testing.stack import LocalStack

pytestmark = pytest.mark.e2e


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def test_up_serves_the_api_and_down_stops_every_process() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="graphmesh-up-"))
    data_dir.chmod(0o755)
    port, http_port = free_port(), free_port()
    cli = [sys.executable, "-m", "graphmesh_cli.main"]
    up = subprocess.Popen(
        [
            *cli,
            "up",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--postgres-port",
            str(free_port()),
            "--broker-port",
            str(free_port()),
            "--http-port",
            str(http_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert up.stdout is not None
        deadline = time.monotonic() + 120
        banner = ""
        while time.monotonic() < deadline and "graphmesh is up" not in banner:
            banner = up.stdout.readline()
            assert banner or up.poll() is None, "graphmesh up exited early"
        assert f"API on 127.0.0.1:{port}" in banner
        assert f"HTTP API: http://127.0.0.1:{http_port}" in up.stdout.readline()
        state = json.loads((data_dir / "stack.json").read_text())
        assert len(state["pids"]) == 6  # four services, the broker, PostgreSQL
        run = subprocess.run(
            [
                *cli,
                "run",
                "chain3",
                "--input",
                '{"n": 0, "trail": []}',
                "--target",
                f"127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout) == {"n": 3, "trail": ["s0", "s1", "s2"]}
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/ok", timeout=30) as ok:
            assert json.loads(ok.read()) == {"ok": True}
        down = subprocess.run(
            [*cli, "down", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert down.returncode == 0, down.stderr
        assert up.wait(timeout=60) == 0
        assert not (data_dir / "stack.json").exists()
        assert [pid for pid in state["pids"] if _alive(pid)] == []
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
            up.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)


def test_down_without_a_running_mesh_says_so() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "graphmesh_cli.main", "down", "--data-dir", tempfile.mkdtemp()],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1 and "no running graphmesh" in result.stderr


def _bench(stack: LocalStack, *args: str) -> Any:
    """`graphmesh bench` against the stack: its JSON line (it must succeed)."""
    cli = [sys.executable, "-m", "graphmesh_cli.main", "bench", "--target", stack.gateway_target]
    result = subprocess.run(
        [*cli, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_bench_checks_outputs_and_prints_both_sides_with_ratios(stack: LocalStack) -> None:
    figures = _bench(
        stack,
        "--runs",
        "40",
        "--concurrency",
        "8",
        "--sequential",
        "5",
        "--fanout-runs",
        "8",
        "--first-event-runs",
        "3",
        "--cancel-runs",
        "3",
    )
    names = {
        "chain3_runs_per_s",
        "chain3_p50_ms",
        "chain3_p99_ms",
        "fanout_runs_per_s",
        "first_event_ms",
        "cancel_ms",
        "cancel_p99_ms",
    }
    assert set(figures["graphmesh"]) == set(figures["bare_langgraph"]) == names
    assert set(figures["ratio_graphmesh_over_bare"]) == names
    assert figures["outputs_checked"] is True
    assert all(v > 0 for v in figures["graphmesh"].values())
    # Every target is judged from this run's own figures.
    mesh, bare, targets = figures["graphmesh"], figures["bare_langgraph"], figures["targets"]
    assert set(targets) == names - {"cancel_p99_ms"}
    assert targets["chain3_p50_ms"]["limit"] == pytest.approx(4 * bare["chain3_p50_ms"] + 8, 0.01)
    assert targets["chain3_p99_ms"]["limit"] == pytest.approx(3 * mesh["chain3_p50_ms"], 0.01)
    for name, verdict in targets.items():
        assert verdict["value"] == mesh[name]
        wanted = verdict["value"] >= verdict["limit"] if "runs_per_s" in name else None
        if wanted is None:
            wanted = verdict["value"] <= verdict["limit"]
        assert verdict["met"] is wanted, name
    assert figures["targets_met"] == sum(v["met"] for v in targets.values())
    # A mesh it did not start: no processes to read.
    assert figures["cpu_ms_per_run"] == {} and figures["executors"] is None


def test_bench_measures_the_http_api_with_langgraphs_client(stack: LocalStack) -> None:
    small = ["--runs", "24", "--concurrency", "6", "--sequential", "4", "--fanout-runs", "6"]
    small += ["--first-event-runs", "3", "--cancel-runs", "2"]
    figures = _bench(stack, "--api", "http", "--http-url", stack.http_url, *small)
    assert figures["api"] == "http" and figures["outputs_checked"] is True
    assert set(figures["graphmesh"]) == set(figures["bare_langgraph"])
    assert all(v > 0 for v in figures["graphmesh"].values())
    refused = subprocess.run(
        [*CLI, "bench", "--target", stack.gateway_target, "--api", "http", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode != 0 and "--http-url" in refused.stderr


def test_bench_stream_workload_checks_every_token_through_reconnects(stack: LocalStack) -> None:
    figures = _bench(
        stack,
        "--workload",
        "stream",
        "--streams",
        "1,4",
        "--tokens",
        "30",
        "--token-interval-ms",
        "5",
        "--reconnect-every",
        "2",
    )
    assert figures["workload"] == "stream" and figures["streams_checked"] is True
    assert set(figures["streams"]) == {"1", "4"}
    for phase in figures["streams"].values():
        mesh, bare = phase["graphmesh"], phase["bare_langgraph"]
        # A mesh it did not start: its CPU is not read.
        assert set(bare) - set(mesh) == {"cpu_s_per_1000_tokens"}
        assert mesh["token_delay_p50_ms"] > 0 and mesh["first_token_p50_ms"] > 0
        assert mesh["model_slowdown_p50"] >= 0.95 and bare["model_slowdown_p50"] >= 0.95
        assert mesh["token_delay_max_ms"] >= mesh["token_delay_p99_ms"] >= 0
    # Judged at 50 streams only.
    assert figures["targets"] == {} and figures["targets_at_streams"] is None


def test_demo_runs_the_examples_with_streamed_progress_and_cleans_up() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "graphmesh_cli.main", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.count("RunSucceeded") == 3 and out.count("RunInterrupted") == 1
    assert '"approved:yes"' in out
    nodes = re.findall(r"\[\s*\d+\] NodeUpdated\s+(s\d):", out)
    assert nodes == ["s0", "s1", "s2"]
    assert '"trail": [\n    "s0",\n    "s1",\n    "s2"\n  ]' in out
    assert "The answer is 5." in out
    tokens = re.findall(r"\] MessageChunk\s+model: \"([^\"]*)\"", out)
    assert "".join(tokens) == "The answer is 5."
    assert re.search(r"\] RunCancelled\s+.*\"started\": true", out)
    assert "CANCELLED" in out


def test_up_refuses_ports_that_are_in_use(stack: LocalStack) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "graphmesh_cli.main",
            "up",
            "--data-dir",
            tempfile.mkdtemp(),
            "--port",
            str(stack.config.gateway_port),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert f"gateway {stack.config.gateway_port}" in result.stderr and "in use" in result.stderr


class Up:
    """`graphmesh up` on free ports in a fresh directory, its output read as
    it comes (stdout and stderr together)."""

    def __init__(self, *args: str) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="graphmesh-up-"))
        self.data_dir.chmod(0o755)
        self.port = free_port()
        ports = ["--port", str(self.port), "--postgres-port", str(free_port())]
        ports += ["--broker-port", str(free_port()), "--http-port", str(free_port())]
        command = [*CLI, "up", "--data-dir", str(self.data_dir), *ports, *args]
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for("graphmesh is up", 120)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if text in line]
            if found:
                return found[-1]
            assert self.proc.poll() is None or self._reader.is_alive(), "".join(self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} in graphmesh up's output:\n{''.join(self.lines)}")

    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.data_dir / "stack.json").read_text()))

    def executor_pid(self) -> int:
        return int(self.state()["pids"][2])  # checkpoint, projector, executor, gateway

    def run_chain3(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, "run", "chain3", "--input", '{"n": 0, "trail": []}'],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "GRAPHMESH_TARGET": f"127.0.0.1:{self.port}"},
        )

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        shutil.rmtree(self.data_dir, ignore_errors=True)


CLI = [sys.executable, "-m", "graphmesh_cli.main"]


def test_up_starts_a_crashed_service_again_and_keeps_serving() -> None:
    up = Up()
    try:
        first = up.executor_pid()
        gateway = up.state()["pids"][3]
        os.kill(first, signal.SIGKILL)
        up.wait_for("executor exited (-9); starting it again in 0.5 s", 30)
        up.wait_for("executor started again", 30)
        state = up.state()
        assert state["restarts"] == {"executor": 1}
        assert up.executor_pid() != first and state["pids"][3] == gateway  # the rest kept serving
        run = up.run_chain3()
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout) == {"n": 3, "trail": ["s0", "s1", "s2"]}
        assert up.proc.poll() is None
    finally:
        up.close()
    assert up.proc.returncode == 0


def test_up_gives_up_on_a_crash_loop_and_says_why() -> None:
    up = Up()
    try:
        pids = []
        for _ in range(5):  # the policy gives up at the fifth crash within 60 s
            pid = up.executor_pid()
            assert "graphmesh_executor" in Path(f"/proc/{pid}/cmdline").read_text()
            pids.append(pid)
            os.kill(pid, signal.SIGKILL)
            if len(pids) < 5:
                deadline = time.monotonic() + 60
                while up.executor_pid() == pid or not _alive(up.executor_pid()):
                    assert time.monotonic() < deadline, "".join(up.lines)
                    time.sleep(0.05)
        assert up.proc.wait(timeout=120) == 1
        reason = up.wait_for("giving up", 5)
        assert "executor crashed 5 times within 60 s (a crash loop)" in reason
        assert "last exit code was -9" in reason
        assert not (up.data_dir / "stack.json").exists()
    finally:
        up.close()
