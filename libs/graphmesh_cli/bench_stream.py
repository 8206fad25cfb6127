"""The `stream` workload of `graphmesh bench`: live token streaming at scale.

N runs of the `streamer` graph at once (its fake chat model streams
`--tokens` tokens `--token-interval-ms` apart on a fixed schedule, each
token reading "i@t", t being when the model emitted it), each watched by
its own client in `messages` mode; the same graph run bare in-process
beside it, N `astream(stream_mode="messages")` at once. Figures for each N:

- token_delay_p50_ms / _p99_ms / _max_ms: from the model emitting a token
  to the client receiving it (one machine, one clock);
- tokens_per_s: tokens delivered over the phase's wall time;
- first_token_p50_ms: from asking for the run to receiving its first token;
- model_slowdown_p50 / _max: the wall time of a run's tokens over the
  ideal ((tokens - 1) x interval): 1.0 is a model never kept waiting;
- cpu_s_per_1000_tokens: CPU seconds of the mesh's processes (a mesh the
  command started) or of this process (bare) per 1000 tokens.

Correctness is checked, not sampled: every stream must get every token, in
order, exactly once; every `--reconnect-every`-th stream is dropped by its
client halfway and resumed from the last event's cursor, and must then get
exactly the rest. A wrong stream fails the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from graphmesh.client import AsyncClient
from graphmesh.registry import DEFAULT_REGISTRY, load_registry
from graphmesh_cli.bench import BenchmarkError, ProcessCpu, Target, percentile
from graphmesh_cli.thread_commands import credentials

_TOKEN = re.compile(r"(\d+)@(\d+\.\d+) ")

#: Issue 15's targets for the `stream` workload, judged at 50 streams.
STREAM_TARGETS = (
    Target("token_delay_p50_ms", "<= 25 ms", lambda m, b: 25.0),
    Target("token_delay_p99_ms", "<= 100 ms", lambda m, b: 100.0),
    Target("model_slowdown_p50", "<= 1.2 (the model slowed 20 % at most)", lambda m, b: 1.2),
    Target("first_token_p50_ms", "<= 2 x bare", lambda m, b: 2 * b["first_token_p50_ms"]),
    Target("cpu_s_per_1000_tokens", "<= 0.6 s", lambda m, b: 0.6),
)
#: The number of streams the targets are judged at.
JUDGED_AT = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The stream workload's options."""
    parser.add_argument(
        "--streams",
        default="10,50,100",
        help="stream workload: concurrent streamed runs, one phase per number",
    )
    parser.add_argument("--tokens", type=int, default=200, help="stream workload: tokens a run")
    parser.add_argument(
        "--token-interval-ms", type=float, default=10.0, help="stream workload: token spacing"
    )
    parser.add_argument(
        "--reconnect-every",
        type=int,
        default=5,
        help="stream workload: every k-th stream is dropped halfway and resumed (0: none)",
    )


def stream_counts(text: str) -> list[int]:
    """`--streams` as numbers ("10,50,100")."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise BenchmarkError(f"--streams takes numbers separated by commas, not {text!r}") from None
    if not counts or min(counts) < 1:
        raise BenchmarkError("--streams needs one or more positive numbers")
    return counts


@dataclass
class Received:
    """What one client got from one run."""

    #: time.time() when the client asked for the run.
    asked: float
    #: (token index, emitted at, received at), in arrival order.
    tokens: list[tuple[int, float, float]] = field(default_factory=list)

    def take(self, content: Any, now: float) -> None:
        """Records the tokens in a message chunk's content."""
        if isinstance(content, str):
            for index, emitted in _TOKEN.findall(content):
                self.tokens.append((int(index), float(emitted), now))


def check(runs: list[Received], tokens: int, where: str) -> None:
    """Every run got every token, in order, exactly once."""
    expected = list(range(tokens))
    for number, run in enumerate(runs):
        got = [index for index, _, _ in run.tokens]
        if got != expected:
            missing = sorted(set(expected) - set(got))
            repeated = len(got) - len(set(got))
            raise BenchmarkError(
                f"{where}: stream {number} got {len(got)} tokens of {tokens}"
                f" ({len(missing)} missing, {repeated} repeated, in order: {got == sorted(got)})"
            )


def summarize(
    runs: list[Received], tokens: int, interval_ms: float, wall: float, cpu_seconds: float
) -> dict[str, float]:
    """One phase's figures (see the module's docstring)."""
    delays = [(received - emitted) * 1000 for run in runs for _, emitted, received in run.tokens]
    firsts = [(run.tokens[0][2] - run.asked) * 1000 for run in runs]
    ideal = max(tokens - 1, 1) * interval_ms / 1000
    slowdowns = [(run.tokens[-1][1] - run.tokens[0][1]) / ideal for run in runs]
    delivered = sum(len(run.tokens) for run in runs)
    return {
        "token_delay_p50_ms": statistics.median(delays),
        "token_delay_p99_ms": percentile(delays, 0.99),
        "token_delay_max_ms": max(delays),
        "tokens_per_s": delivered / wall,
        "first_token_p50_ms": statistics.median(firsts),
        "model_slowdown_p50": statistics.median(slowdowns),
        "model_slowdown_max": max(slowdowns),
        "cpu_s_per_1000_tokens": cpu_seconds / (delivered / 1000),
    }


def _input(args: argparse.Namespace) -> dict[str, Any]:
    return {"messages": [], "tokens": args.tokens, "interval_ms": args.token_interval_ms}


async def _phase(
    n: int, one: Callable[[int], Awaitable[Received]], cpu: Callable[[], dict[str, float]]
) -> tuple[list[Received], float, dict[str, float]]:
    """Runs `one` for streams 0..n-1 at once: what they got, wall time and
    the CPU seconds each process used meanwhile."""
    cpu_before, started = cpu(), time.perf_counter()
    runs = await asyncio.gather(*(one(i) for i in range(n)))
    wall, cpu_after = time.perf_counter() - started, cpu()
    return list(runs), wall, {k: v - cpu_before[k] for k, v in cpu_after.items()}


async def bench_bare_streams(args: argparse.Namespace, n: int) -> dict[str, float]:
    """The figures of `n` streams of bare LangGraph in this process."""
    streamer = load_registry(DEFAULT_REGISTRY).get("streamer").graph

    async def one(_: int) -> Received:
        got = Received(time.time())
        async for chunk, _meta in streamer.astream(_input(args), stream_mode="messages"):
            got.take(getattr(chunk, "content", None), time.time())
        return got

    runs, wall, cpu_seconds = await _phase(n, one, lambda: {"bench": time.process_time()})
    check(runs, args.tokens, f"bare LangGraph at {n} streams")
    return summarize(runs, args.tokens, args.token_interval_ms, wall, cpu_seconds["bench"])


async def bench_mesh_streams(
    target: str,
    args: argparse.Namespace,
    n: int,
    cpu: ProcessCpu | None,
    by_process: dict[str, float],
) -> dict[str, float]:
    """The figures of `n` streamed runs on graphmesh at `target`, each
    watched by its own StreamRun in `messages` mode; `by_process` gets each
    mesh process's CPU seconds per 1000 tokens (a mesh we started)."""
    token, tls = credentials(args)
    half = args.tokens // 2
    async with AsyncClient(target, timeout=120, token=token, tls=tls) as client:

        async def watch(run_id: str, got: Received, cursor: str, stop_at: int) -> str:
            """Takes the run's tokens until it ends, or until `stop_at` tokens
            are in (then drops the stream): the cursor to resume from."""
            async with contextlib.aclosing(
                client.stream_run(run_id, cursor, timeout=300, stream_modes=["messages"])
            ) as events:
                async for event in events:
                    if event.mode == "messages":
                        now = time.time()
                        for chunk, _metadata in event.items:
                            got.take(chunk.get("content"), now)
                    elif event.type not in ("RunCreated", "RunStarted"):
                        if event.type != "RunSucceeded":
                            raise BenchmarkError(f"run {run_id} ended {event.type}")
                        return ""
                    if len(got.tokens) >= stop_at:
                        return event.cursor
            raise BenchmarkError(f"the stream of run {run_id} ended before the run did")

        async def one(i: int) -> Received:
            got = Received(time.time())
            created = await client.create_run("streamer", _input(args), stream_modes=["messages"])
            reconnects = args.reconnect_every and i % args.reconnect_every == 0
            cursor = await watch(created.run_id, got, "", half if reconnects else args.tokens + 1)
            if cursor:
                await watch(created.run_id, got, cursor, args.tokens + 1)
            return got

        def used() -> dict[str, float]:
            return {**(cpu.read() if cpu else {}), "clients": time.process_time()}

        await one(1)  # warm-up
        runs, wall, cpu_seconds = await _phase(n, one, used)
    check(runs, args.tokens, f"graphmesh at {n} streams")
    clients = cpu_seconds.pop("clients")
    figures = summarize(runs, args.tokens, args.token_interval_ms, wall, sum(cpu_seconds.values()))
    if cpu is None:
        del figures["cpu_s_per_1000_tokens"]  # not measured: the mesh is not ours
    thousands = sum(len(run.tokens) for run in runs) / 1000
    by_process.update({name: round(used / thousands, 3) for name, used in cpu_seconds.items()})
    # This process's own share (the N clients), not counted in the mesh's.
    by_process["bench_clients"] = round(clients / thousands, 3)
    return figures


def run(args: argparse.Namespace, target: str, cpu: ProcessCpu | None) -> dict[str, Any]:
    """Every phase of the stream workload on both sides, and the verdicts."""
    phases: dict[str, Any] = {}
    judged: dict[str, dict[str, Any]] = {}
    for n in stream_counts(args.streams):
        by_process: dict[str, float] = {}
        mesh = asyncio.run(bench_mesh_streams(target, args, n, cpu, by_process))
        bare = asyncio.run(bench_bare_streams(args, n))
        phases[str(n)] = {
            "graphmesh": {k: round(v, 3) for k, v in mesh.items()},
            "bare_langgraph": {k: round(v, 3) for k, v in bare.items()},
            # CPU seconds per 1000 tokens, per process of a mesh the command
            # started, and of the benchmark's own clients (not the mesh's).
            "cpu_s_per_1000_tokens_by_process": by_process,
        }
        if n == JUDGED_AT:
            judged = {t.figure: t.judge(mesh, bare) for t in STREAM_TARGETS if t.figure in mesh}
    return {
        "workload": "stream",
        "streams": phases,
        "targets_at_streams": JUDGED_AT if judged else None,
        "targets": judged,
        "targets_met": sum(t["met"] for t in judged.values()),
        "targets_total": len(judged),
        "tokens_per_run": args.tokens,
        "token_interval_ms": args.token_interval_ms,
        "reconnect_every": args.reconnect_every,
        "streams_checked": True,
    }
