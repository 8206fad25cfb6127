"""The reference benchmark through LangGraph Server's HTTP API (`graphmesh
bench --api http`): the same figures as through the gRPC API, measured the
way a client written for LangGraph Server does its runs, with LangGraph's
own Python client (`langgraph-sdk`):

- chain3 and fanout: `runs.wait(None, graph, input=...)` (a stateless run,
  its thread deleted when it ends, as LangGraph Server does);
- first event: from `runs.stream(None, "chain3", stream_mode="updates")`
  being called to its first event after `metadata` (the first node's
  update: LangGraph Server's stream has no run-started event);
- cancel: `runs.cancel(thread, run, wait=True)` of a run inside its node.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any, cast

from graphmesh_cli.bench import (
    CHAIN3_INPUT,
    CHAIN3_OUTPUT,
    FANOUT_JOINED,
    SLEEPER_INPUT,
    BenchmarkError,
    ProcessCpu,
    reference_figures,
)


async def bench_http(
    url: str,
    args: argparse.Namespace,
    cpu: ProcessCpu | None = None,
    cpu_per_run: dict[str, float] | None = None,
) -> dict[str, float]:
    """The figures for graphmesh's HTTP API at `url`."""
    import httpx
    from langgraph_sdk.client import LangGraphClient

    token = getattr(args, "token", None)
    headers = {"x-api-key": token} if token else {}
    limits = httpx.Limits(max_connections=args.concurrency + 8)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300, limits=limits) as http:
        sdk = LangGraphClient(http)

        async def wait(graph: str, value: dict[str, Any]) -> Any:
            return await sdk.runs.wait(None, graph, input=value)

        async def chain3_once() -> None:
            if await wait("chain3", CHAIN3_INPUT) != CHAIN3_OUTPUT:
                raise BenchmarkError("graphmesh (HTTP) chain3 gave a wrong output")

        async def fanout_once() -> None:
            output = await wait("fanout", {"results": []})
            if not isinstance(output, dict) or output.get("joined") != FANOUT_JOINED:
                raise BenchmarkError("graphmesh (HTTP) fanout gave a wrong output")

        async def first_event() -> None:
            async for part in sdk.runs.stream(
                None, "chain3", input=cast(Any, CHAIN3_INPUT), stream_mode="updates"
            ):
                if part.event != "metadata":
                    return
            raise BenchmarkError("the stream ended without an update")

        async def cancel_once() -> float:
            thread = (await sdk.threads.create())["thread_id"]
            run = await sdk.runs.create(thread, "sleeper", input=SLEEPER_INPUT)
            for _ in range(6000):  # until it runs (30 s at most)
                if (await sdk.runs.get(thread, run["run_id"]))["status"] == "running":
                    break
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.02)  # inside the node
            begun = time.perf_counter()
            await sdk.runs.cancel(thread, run["run_id"], wait=True)
            elapsed = (time.perf_counter() - begun) * 1000
            status = (await sdk.runs.get(thread, run["run_id"]))["status"]
            if status != "interrupted":
                raise BenchmarkError(f"graphmesh (HTTP) cancel left the run {status}")
            await sdk.threads.delete(thread)
            return elapsed

        return await reference_figures(
            args, chain3_once, fanout_once, first_event, cancel_once, cpu, cpu_per_run
        )
