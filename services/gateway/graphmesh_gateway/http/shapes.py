"""graphmesh's answers as LangGraph Server's JSON: pure, no I/O.

Names and fields are LangGraph Server's (`langgraph_sdk.schema`): a run's
status is `pending`, `running`, `success`, `error`, `timeout` or
`interrupted`; a thread's `idle`, `busy`, `interrupted` or `error`; times
are ISO 8601 with their offset."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

from graphmesh.client import Assistant, Run, StoreItem, Thread, ThreadState, ThreadTask
from graphmesh.runs import RunStatus

#: A run's status as LangGraph Server names it. A cancelled run is
#: `interrupted`, as LangGraph Server reports a run stopped by a cancel.
RUN_STATUS: Final = {
    RunStatus.PENDING: "pending",
    RunStatus.RUNNING: "running",
    RunStatus.SUCCEEDED: "success",
    RunStatus.FAILED: "error",
    RunStatus.CANCELLED: "interrupted",
    RunStatus.INTERRUPTED: "interrupted",
    RunStatus.TIMED_OUT: "timeout",
}
#: LangGraph Server's names of graphmesh's run statuses (for filters).
STATUS_OF_NAME: Final = {
    "pending": [RunStatus.PENDING],
    "running": [RunStatus.RUNNING],
    "success": [RunStatus.SUCCEEDED],
    "error": [RunStatus.FAILED],
    "timeout": [RunStatus.TIMED_OUT],
    "interrupted": [RunStatus.INTERRUPTED, RunStatus.CANCELLED],
}


def timestamp(moment: datetime) -> str:
    """A stored time (UTC, without its zone) in ISO 8601 with its offset."""
    return moment.isoformat() + "+00:00" if moment.tzinfo is None else moment.isoformat()


def metadata_in(metadata: dict[str, Any]) -> dict[str, str]:
    """LangGraph metadata as graphmesh keeps it: text values. Text is kept
    as it is, any other JSON value as its JSON text (and comes back as
    that text: a documented difference from LangGraph Server)."""
    return {
        str(key): value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        for key, value in metadata.items()
    }


def run_json(run: Run, multitask_strategy: str | None = None) -> dict[str, Any]:
    """A run as LangGraph Server's `Run`."""
    return {
        "run_id": run.run_id,
        "thread_id": run.thread_id,
        "assistant_id": run.assistant_id,
        "created_at": timestamp(run.created_at),
        "updated_at": timestamp(run.updated_at),
        "status": RUN_STATUS[run.status],
        "metadata": dict(run.metadata),
        "multitask_strategy": multitask_strategy,
        "kwargs": {
            "input": run.input,
            "config": run.config,
            "context": run.context,
            "stream_mode": list(run.stream_modes),
        },
    }


def thread_json(thread: Thread, state: ThreadState | None = None) -> dict[str, Any]:
    """A thread as LangGraph Server's `Thread` (with its values and
    interrupts when its state is given)."""
    interrupts: dict[str, Any] = {}
    if state is not None and state.interrupts:
        interrupts = {state.checkpoint_id: state.interrupts}
    metadata: dict[str, Any] = dict(thread.metadata)
    if thread.graph_id:
        metadata.setdefault("graph_id", thread.graph_id)
    return {
        "thread_id": thread.thread_id,
        "created_at": timestamp(thread.created_at),
        "updated_at": timestamp(thread.updated_at),
        "metadata": metadata,
        "status": thread.status.lower(),
        "values": state.values if state is not None else None,
        "interrupts": interrupts,
    }


def checkpoint_json(thread_id: str, checkpoint_id: str, ns: str = "") -> dict[str, Any] | None:
    """A checkpoint's address as LangGraph Server gives it (None: none)."""
    if not checkpoint_id:
        return None
    return {
        "thread_id": thread_id,
        "checkpoint_ns": ns,
        "checkpoint_id": checkpoint_id,
        "checkpoint_map": None,
    }


def state_json(thread_id: str, state: ThreadState) -> dict[str, Any]:
    """A thread's state as LangGraph Server's `ThreadState`."""
    return {
        "values": state.values,
        "next": state.next,
        "tasks": [_task_json(thread_id, task) for task in state.tasks],
        "checkpoint": checkpoint_json(thread_id, state.checkpoint_id, state.checkpoint_ns),
        "metadata": state.metadata,
        "created_at": state.metadata.get("created_at") if state.metadata else None,
        "parent_checkpoint": checkpoint_json(
            thread_id, state.parent_checkpoint_id, state.checkpoint_ns
        ),
        "interrupts": state.interrupts,
    }


def _task_json(thread_id: str, task: ThreadTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "error": task.error or None,
        "interrupts": task.interrupts,
        "checkpoint": None,
        "state": state_json(thread_id, task.state) if task.state is not None else None,
        "result": task.result,
    }


def assistant_json(assistant: Assistant) -> dict[str, Any]:
    """An assistant as LangGraph Server's `Assistant`."""
    return {
        "assistant_id": assistant.assistant_id,
        "graph_id": assistant.graph_id,
        "config": assistant.config,
        "context": assistant.context if assistant.context is not None else {},
        "created_at": timestamp(assistant.created_at),
        "updated_at": timestamp(assistant.updated_at),
        "metadata": assistant.metadata,
        "version": assistant.version,
        "name": assistant.name,
        "description": assistant.description or None,
    }


def item_json(item: StoreItem) -> dict[str, Any]:
    """A store item as LangGraph Server's `Item` (`SearchItem` with a score)."""
    out: dict[str, Any] = {
        "namespace": list(item.namespace),
        "key": item.key,
        "value": item.value,
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
    }
    if item.score is not None:
        out["score"] = item.score
    return out
