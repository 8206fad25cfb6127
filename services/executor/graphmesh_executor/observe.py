"""What the executor reports about its runs: a span per run attempt with a
child span per node execution, and the run and node figures Prometheus
scrapes.

Node executions are seen through LangChain callbacks, the hook LangGraph
offers for them: a node's start, end or error, each retry a new start.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langgraph.errors import GraphBubbleUp
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode
from prometheus_client import Counter, Gauge, Histogram

from graphmesh import tracing

_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)

RUNS = Counter(
    "graphmesh_runs",
    "Run attempts ended on this executor, by graph and outcome (the terminal event).",
    ["graph_id", "outcome"],
)
RUN_DURATION = Histogram(
    "graphmesh_run_duration_seconds",
    "Time from a run attempt's start to its terminal event, by graph and outcome.",
    ["graph_id", "outcome"],
    buckets=_DURATION_BUCKETS,
)
NODE_DURATION = Histogram(
    "graphmesh_node_duration_seconds",
    "Time of one node execution (one try), by graph, node and outcome.",
    ["graph_id", "node", "outcome"],
    buckets=_DURATION_BUCKETS,
)
RUNS_IN_FLIGHT = Gauge("graphmesh_runs_in_flight", "Runs executing on this executor.")
RUNS_HANDED_OVER = Counter(
    "graphmesh_runs_handed_over",
    "Runs left unfinished at shutdown after the grace period, for another executor.",
)

#: Terminal event types that mean the run did not do what it was asked.
_FAILED_OUTCOMES = frozenset({"RunFailed", "RunTimedOut"})


def end_run_span(span: Span, outcome: str, error: dict[str, Any] | None) -> None:
    """Records a run attempt's outcome on its span."""
    span.set_attribute("graphmesh.outcome", outcome)
    if outcome in _FAILED_OUTCOMES:
        detail = error or {}
        span.set_status(
            Status(StatusCode.ERROR, f"{detail.get('type', outcome)}: {detail.get('message', '')}")
        )


class NodeObserver(BaseCallbackHandler):
    """Turns LangGraph's callbacks into a span and a duration per node
    execution. The span of a node inside a subgraph is the child of the
    subgraph node's span; top-level nodes are children of the run's span."""

    run_inline = True  # called on the event loop, in order

    def __init__(self, graph_id: str, run_span: Span, attempt: int) -> None:
        self._graph_id = graph_id
        self._run_span = run_span
        self._attempt = attempt
        self._trace = run_span.is_recording()
        #: Every chain LangGraph started and not ended -> the span its
        #: children belong under.
        self._under: dict[UUID, Span] = {}
        self._nodes: dict[UUID, tuple[str, float, Span | None]] = {}
        self._tries: dict[str, int] = {}

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        parent = self._under.get(parent_run_id, self._run_span) if parent_run_id else self._run_span
        node = (metadata or {}).get("langgraph_node")
        if node is None or kwargs.get("name") != node:
            self._under[run_id] = parent
            return
        task = str((metadata or {}).get("langgraph_checkpoint_ns", node))
        tries = self._tries[task] = self._tries.get(task, 0) + 1
        span = None
        if self._trace:
            span = tracing.tracer.start_span(
                f"node {node}",
                context=trace.set_span_in_context(parent),
                attributes={
                    "graphmesh.graph_id": self._graph_id,
                    "graphmesh.node": str(node),
                    "graphmesh.node_try": tries,
                    "graphmesh.attempt": self._attempt,
                    "graphmesh.step": int((metadata or {}).get("langgraph_step", 0)),
                },
            )
        self._under[run_id] = span or parent
        self._nodes[run_id] = (str(node), time.perf_counter(), span)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, "ok", None)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        if isinstance(error, GraphBubbleUp):
            outcome = "interrupted"  # an interrupt or a jump: not a failure
        elif isinstance(error, asyncio.CancelledError):
            outcome = "cancelled"
        else:
            outcome = "error"
        self._end(run_id, outcome, error if outcome == "error" else None)

    def close(self, outcome: str) -> None:
        """Ends the spans of nodes that never reported their end (the run
        was cancelled or timed out while they ran)."""
        for run_id in list(self._nodes):
            self._end(run_id, outcome, None)

    def _end(self, run_id: UUID, outcome: str, error: BaseException | None) -> None:
        self._under.pop(run_id, None)
        started = self._nodes.pop(run_id, None)
        if started is None:
            return
        node, start, span = started
        NODE_DURATION.labels(self._graph_id, node, outcome).observe(time.perf_counter() - start)
        if span is None:
            return
        span.set_attribute("graphmesh.outcome", outcome)
        if error is not None:
            tracing.record_error(span, error)
        span.end()
