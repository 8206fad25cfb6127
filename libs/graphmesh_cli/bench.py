"""The reference benchmark: graphmesh through its public API beside bare
in-process LangGraph running the same graphs, on the same machine, in the
same run. Prints one JSON line.

Figures (DESIGN.md's reference workload):
- chain3_runs_per_s: 2000 chain3 runs at 64 concurrent clients (create + wait)
- chain3_p50_ms / chain3_p99_ms: sequential chain3 runs (create + wait)
- fanout_runs_per_s: 500 fanout runs at 64 concurrent clients
- first_event_ms: p50 time from submitting a run to receiving its first event
  from the executor (RunStarted) on StreamRun; bare: time to the first
  chunk of `astream`.
- cancel_ms / cancel_p99_ms: from asking to cancel a running run (its node
  awaiting a 60 s sleep) to the run's RunCancelled being stored (CancelRun
  with wait); bare: `task.cancel()` of `ainvoke` until the task has ended.
Every output is checked; a wrong output fails the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from graphmesh.client import AsyncClient, RunStatus
from graphmesh.registry import DEFAULT_REGISTRY, load_registry
from graphmesh_cli.thread_commands import credentials

CHAIN3_INPUT = {"n": 0, "trail": []}
CHAIN3_OUTPUT = {"n": 3, "trail": ["s0", "s1", "s2"]}
FANOUT_JOINED = "b0,b1,b2,b3"
SLEEPER_INPUT = {"seconds": 60.0, "slept": 0.0}


class BenchmarkError(RuntimeError):
    """A run gave a wrong result."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--runs", type=int, default=2000, help="chain3 runs at concurrency")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--sequential", type=int, default=200, help="sequential chain3 runs")
    parser.add_argument("--fanout-runs", type=int, default=500)
    parser.add_argument("--first-event-runs", type=int, default=50)
    parser.add_argument("--cancel-runs", type=int, default=30, help="runs cancelled mid-node")
    parser.add_argument("--executors", type=int, default=1, help="executors when starting a stack")


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _at_concurrency(n: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> float:
    """Runs `one` n times with `concurrency` in flight; returns runs/s."""
    remaining = n

    async def client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return n / (time.perf_counter() - started)


async def _sequential(n: int, one: Callable[[], Awaitable[None]]) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await one()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _figures(
    args: argparse.Namespace,
    chain3_once: Callable[[], Awaitable[None]],
    fanout_once: Callable[[], Awaitable[None]],
    first_event: Callable[[], Awaitable[None]],
    cancel_once: Callable[[], Awaitable[float]],
) -> dict[str, float]:
    """The reference figures, given how to do one of each kind of run; the
    same code measures both sides."""
    await _sequential(20, chain3_once)  # warm-up: connections, group assignment
    seq = await _sequential(args.sequential, chain3_once)
    firsts = await _sequential(args.first_event_runs, first_event)
    cancels = [await cancel_once() for _ in range(args.cancel_runs)]
    return {
        "cancel_ms": statistics.median(cancels),
        "cancel_p99_ms": _percentile(cancels, 0.99),
        "chain3_runs_per_s": await _at_concurrency(args.runs, args.concurrency, chain3_once),
        "chain3_p50_ms": statistics.median(seq),
        "chain3_p99_ms": _percentile(seq, 0.99),
        "fanout_runs_per_s": await _at_concurrency(args.fanout_runs, args.concurrency, fanout_once),
        "first_event_ms": statistics.median(firsts),
    }


async def bench_bare(args: argparse.Namespace) -> dict[str, float]:
    """The figures for bare LangGraph in this process."""
    registry = load_registry(DEFAULT_REGISTRY)
    chain3 = registry.get("chain3").graph
    fanout = registry.get("fanout").graph

    async def chain3_once() -> None:
        if await chain3.ainvoke(CHAIN3_INPUT) != CHAIN3_OUTPUT:
            raise BenchmarkError("bare chain3 gave a wrong output")

    async def fanout_once() -> None:
        if (await fanout.ainvoke({"results": []}))["joined"] != FANOUT_JOINED:
            raise BenchmarkError("bare fanout gave a wrong output")

    async def first_chunk() -> None:
        async for _ in chain3.astream(CHAIN3_INPUT, stream_mode="updates"):
            break

    sleeper = registry.get("sleeper").graph

    async def cancel_once() -> float:
        task = asyncio.ensure_future(sleeper.ainvoke(SLEEPER_INPUT))
        await asyncio.sleep(0.02)  # inside the node
        started = time.perf_counter()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return (time.perf_counter() - started) * 1000
        raise BenchmarkError("bare sleeper was not cancelled")

    return await _figures(args, chain3_once, fanout_once, first_chunk, cancel_once)


async def bench_mesh(target: str, args: argparse.Namespace) -> dict[str, float]:
    """The figures for graphmesh at `target`, through the public API with
    the Python client (with the command's token and TLS settings, for a
    secured gateway)."""
    token, tls = credentials(args)
    async with AsyncClient(target, timeout=120, token=token, tls=tls) as client:

        async def run(graph: str, value: dict[str, Any]) -> Any:
            created = await client.create_run(graph, value)
            return (await client.wait_run(created.run_id, timeout=300)).output

        async def chain3_once() -> None:
            if await run("chain3", CHAIN3_INPUT) != CHAIN3_OUTPUT:
                raise BenchmarkError("graphmesh chain3 gave a wrong output")

        async def fanout_once() -> None:
            output = await run("fanout", {"results": []})
            if not output or output.get("joined") != FANOUT_JOINED:
                raise BenchmarkError("graphmesh fanout gave a wrong output")

        async def started(run_id: str) -> None:
            """Returns once the run's RunStarted is stored."""
            async with contextlib.aclosing(client.stream_run(run_id, timeout=120)) as events:
                async for event in events:
                    if event.type == "RunStarted":
                        return
            raise BenchmarkError("stream ended without RunStarted")

        async def first_event() -> None:
            await started((await client.create_run("chain3", CHAIN3_INPUT)).run_id)

        async def cancel_once() -> float:
            run_id = (await client.create_run("sleeper", SLEEPER_INPUT)).run_id
            await started(run_id)
            await asyncio.sleep(0.02)  # inside the node
            begun = time.perf_counter()
            done = await client.cancel_run(run_id, wait=True)
            elapsed = (time.perf_counter() - begun) * 1000
            if done.status is not RunStatus.CANCELLED:
                raise BenchmarkError(f"graphmesh cancel left the run {done.status.name}")
            return elapsed

        return await _figures(args, chain3_once, fanout_once, first_event, cancel_once)


def main(args: argparse.Namespace) -> int:
    """Runs both sides and prints the JSON line."""
    from graphmesh.testing.stack import LocalStack, StackConfig

    stack = None
    tmp = None
    target = args.target
    if not target:
        tmp = tempfile.TemporaryDirectory(prefix="graphmesh-bench-")
        Path(tmp.name).chmod(0o755)
        stack = LocalStack(
            StackConfig.with_free_ports(
                Path(tmp.name), executors=args.executors, log_level="WARNING"
            )
        )
        stack.start()
        target = stack.gateway_target
    try:
        mesh = asyncio.run(bench_mesh(target, args))
        bare = asyncio.run(bench_bare(args))
    finally:
        if stack is not None:
            stack.stop()
        if tmp is not None:
            tmp.cleanup()
    ratio = {k: round(mesh[k] / bare[k], 3) if bare[k] else None for k in mesh}
    print(
        json.dumps(
            {
                "graphmesh": {k: round(v, 2) for k, v in mesh.items()},
                "bare_langgraph": {k: round(v, 2) for k, v in bare.items()},
                "ratio_graphmesh_over_bare": ratio,
                "runs": {
                    "chain3_concurrent": args.runs,
                    "concurrency": args.concurrency,
                    "chain3_sequential": args.sequential,
                    "fanout": args.fanout_runs,
                    "first_event": args.first_event_runs,
                    "cancelled": args.cancel_runs,
                },
                "outputs_checked": True,
                "target": "started" if stack is not None else target,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            }
        ),
        flush=True,
    )
    return 0
