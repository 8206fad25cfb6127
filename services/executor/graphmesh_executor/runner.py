"""Running one graph run and turning what happens into events.

`execute_run` knows nothing of Kafka: it hands each event to `emit`, so it
runs the same against an in-memory sink in unit tests.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel

from graphmesh import envelope as ev
from graphmesh.envelope import Event, new_event
from graphmesh.jsonutil import dumps

Emit = Callable[[Event], None]


class RunEmitter:
    """Numbers a run attempt's events from the store's last seq on."""

    def __init__(self, created: Event, attempt: int, last_seq: int, emit: Emit) -> None:
        self._created = created
        self._attempt = attempt
        self._seq = last_seq
        self._emit = emit

    def __call__(self, type_: str, payload: Any) -> Event:
        self._seq += 1
        event = new_event(
            self._created.run_id,
            self._created.thread_id,
            self._seq,
            self._attempt,
            type_,
            dumps(payload),
        )
        self._emit(event)
        return event


async def execute_run(
    graph: Pregel[Any] | None,
    created: Event,
    attempt: int,
    last_seq: int,
    executor_id: str,
    emit: Emit,
) -> Event:
    """Runs the graph for the run that `created` (its RunCreated event) made,
    emitting RunStarted, node updates, custom events and one terminal event,
    which it returns. `graph` is None when it is not registered here."""
    out = RunEmitter(created, attempt, last_seq, emit)
    payload = json.loads(created.payload_json)
    out(ev.RUN_STARTED, {"executor_id": executor_id, "attempt": attempt})
    if graph is None:
        # The gateway checked the graph exists; this executor's registry
        # differs (a deployment mismatch). Fail the run rather than lose it.
        message = f"graph {payload['graph_id']!r} is not registered on executor {executor_id}"
        return out(ev.RUN_FAILED, {"error": {"type": "GraphNotFound", "message": message}})
    config: RunnableConfig = {
        "configurable": {"thread_id": created.thread_id},
        "run_id": uuid.UUID(created.run_id),
    }
    values: Any = None
    interrupts: list[dict[str, Any]] = []
    try:
        async for mode, chunk in graph.astream(
            payload["input"], config, stream_mode=["updates", "values", "custom"]
        ):
            if mode == "values":
                values = chunk
            elif mode == "custom":
                out(ev.CUSTOM_EVENT, {"data": chunk})
            elif mode == "updates":
                for node, update in cast(dict[str, Any], chunk).items():
                    if node == "__interrupt__":
                        interrupts.extend(
                            {"id": getattr(i, "id", ""), "value": getattr(i, "value", i)}
                            for i in update
                        )
                    else:
                        out(ev.NODE_UPDATED, {"node": node, "update": update})
    except Exception as exc:
        return out(ev.RUN_FAILED, {"error": {"type": type(exc).__name__, "message": str(exc)}})
    if interrupts:
        return out(ev.RUN_INTERRUPTED, {"interrupts": interrupts, "output": values})
    return out(ev.RUN_SUCCEEDED, {"output": values})
