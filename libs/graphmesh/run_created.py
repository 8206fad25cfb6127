"""What a run was asked to do: the payload of its RunCreated event.

The gateway builds one `RunCreated` from a CreateRun request (its parser is
the only place that reads the request), the event store reads its multitask
strategy to admit the run, the projector and the gateway fold it into the
run's view, and the executor runs the graph from it. Adding a run option
touches this type, the gateway's parser and the proto, nothing else.

The JSON payload is the stored form (events are kept for ever), so its keys
never change meaning: an option left at its default is left out, and a
payload written before an option existed reads as that option's default.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphmesh import envelope as ev
from graphmesh import streams
from graphmesh.envelope import Event


class MultitaskStrategy(enum.StrEnum):
    """LangGraph Server's answer to a run submitted while its thread is busy."""

    REJECT = "reject"
    ENQUEUE = "enqueue"
    INTERRUPT = "interrupt"
    ROLLBACK = "rollback"


class Durability(enum.StrEnum):
    """When LangGraph persists a run's checkpoints (its `durability`)."""

    SYNC = "sync"
    ASYNC = "async"
    EXIT = "exit"


@dataclass(frozen=True, slots=True)
class Command:
    """LangGraph's `Command` a run starts with: a resume value for the
    thread's interrupt, a state update, nodes to go to. `resume` is
    `has_resume`-guarded because `null` is a resume value of its own."""

    resume: Any = None
    has_resume: bool = False
    update: dict[str, Any] | None = None
    goto: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The command's part of the payload."""
        out: dict[str, Any] = {}
        if self.has_resume:
            out["resume"] = self.resume
        if self.update is not None:
            out["update"] = self.update
        if self.goto:
            out["goto"] = list(self.goto)
        return out

    @classmethod
    def from_json(cls, value: Any) -> Command:
        """The inverse of `to_json`; ValueError when malformed."""
        if not isinstance(value, dict):
            raise ValueError("command must be an object")
        update = value.get("update")
        if update is not None and not isinstance(update, dict):
            raise ValueError("command.update must be an object")
        goto = value.get("goto") or []
        if not isinstance(goto, list) or not all(isinstance(n, str) for n in goto):
            raise ValueError("command.goto must be a list of node names")
        return cls(
            resume=value.get("resume"),
            has_resume="resume" in value,
            update=update,
            goto=tuple(goto),
        )


@dataclass(frozen=True, slots=True)
class RunCreated:
    """The payload of RunCreated: the graph, its input and the run's options."""

    graph_id: str
    #: The graph's input (None when the run goes on from a checkpoint).
    input: Any = None
    request_id: str = ""
    #: The caller's labels.
    metadata: Mapping[str, str] = field(default_factory=dict)
    #: A digest of the request, to tell a retry from a reuse of its id.
    fingerprint: str = ""
    multitask_strategy: MultitaskStrategy = MultitaskStrategy.ENQUEUE
    durability: Durability = Durability.ASYNC
    #: The checkpoint a fork starts from ("": the thread's latest).
    checkpoint_id: str = ""
    command: Command | None = None
    #: The stream modes the run records (empty: `streams.DEFAULT_MODES`).
    stream_modes: tuple[str, ...] = ()
    stream_subgraphs: bool = False
    #: The time limit of each attempt in seconds (0: none).
    timeout_seconds: float = 0.0
    #: LangGraph's run config as the caller gave it (checked: `configurable`,
    #: `tags`, `metadata`, `recursion_limit`, `max_concurrency`).
    config: Mapping[str, Any] = field(default_factory=dict)
    #: LangGraph's runtime context (None: none).
    context: Any = None
    #: Breakpoints: the nodes to pause before / after ("*": all).
    interrupt_before: tuple[str, ...] = ()
    interrupt_after: tuple[str, ...] = ()
    #: The assistant the run runs with, and its version (`config` and
    #: `context` above are the run's own merged over the assistant's).
    assistant_id: str = ""
    assistant_version: int = 0

    @property
    def recorded_modes(self) -> tuple[str, ...]:
        """The stream modes the run records."""
        return self.stream_modes or streams.DEFAULT_MODES

    def options(self) -> dict[str, Any]:
        """The run's options as stored (those left at their default are
        left out, but strategy and durability, which are always written)."""
        out: dict[str, Any] = {
            "multitask_strategy": self.multitask_strategy.value,
            "durability": self.durability.value,
        }
        if self.checkpoint_id:
            out["checkpoint_id"] = self.checkpoint_id
        if self.command is not None:
            out["command"] = self.command.to_json()
        if self.stream_modes:
            out["stream_modes"] = list(self.stream_modes)
        if self.stream_subgraphs:
            out["stream_subgraphs"] = True
        if self.timeout_seconds:
            out["timeout_seconds"] = self.timeout_seconds
        if self.config:
            out["config"] = dict(self.config)
        if self.context is not None:
            out["context"] = self.context
        if self.interrupt_before:
            out["interrupt_before"] = list(self.interrupt_before)
        if self.interrupt_after:
            out["interrupt_after"] = list(self.interrupt_after)
        if self.assistant_id:
            out["assistant_id"] = self.assistant_id
            out["assistant_version"] = self.assistant_version
        return out

    def to_payload(self) -> str:
        """The event's JSON payload."""
        return json.dumps(
            {
                "graph_id": self.graph_id,
                "input": self.input,
                "request_id": self.request_id,
                "metadata": dict(self.metadata),
                "fingerprint": self.fingerprint,
                **self.options(),
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )

    def to_event(self, run_id: str, thread_id: str) -> Event:
        """The run's first event."""
        return ev.new_event(run_id, thread_id, 1, 0, ev.RUN_CREATED, self.to_payload())

    @classmethod
    def from_payload(cls, payload_json: str) -> RunCreated:
        """Parses a stored payload; ValueError when malformed (an unknown
        strategy or durability included)."""
        payload = json.loads(payload_json)
        if not isinstance(payload, dict):
            raise ValueError("a RunCreated payload is an object")
        graph_id = payload.get("graph_id")
        if not isinstance(graph_id, str) or not graph_id:
            raise ValueError("graph_id must be a non-empty string")
        metadata = payload.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise ValueError("metadata must be an object")
        modes = payload.get("stream_modes") or []
        if not isinstance(modes, list) or not all(isinstance(m, str) for m in modes):
            raise ValueError("stream_modes must be a list of mode names")
        command = payload.get("command")
        config = payload.get("config") or {}
        if not isinstance(config, dict):
            raise ValueError("config must be an object")
        return cls(
            graph_id=graph_id,
            input=payload.get("input"),
            request_id=str(payload.get("request_id") or ""),
            metadata={str(k): str(v) for k, v in metadata.items()},
            fingerprint=str(payload.get("fingerprint") or ""),
            multitask_strategy=MultitaskStrategy(payload.get("multitask_strategy") or "enqueue"),
            durability=Durability(payload.get("durability") or "async"),
            checkpoint_id=str(payload.get("checkpoint_id") or ""),
            command=Command.from_json(command) if command else None,
            stream_modes=tuple(modes),
            stream_subgraphs=bool(payload.get("stream_subgraphs")),
            timeout_seconds=float(payload.get("timeout_seconds") or 0.0),
            config=config,
            context=payload.get("context"),
            interrupt_before=_names(payload.get("interrupt_before"), "interrupt_before"),
            interrupt_after=_names(payload.get("interrupt_after"), "interrupt_after"),
            assistant_id=str(payload.get("assistant_id") or ""),
            assistant_version=int(payload.get("assistant_version") or 0),
        )

    @classmethod
    def from_event(cls, event: Event) -> RunCreated:
        """The payload of a RunCreated event; ValueError for another type."""
        if event.type != ev.RUN_CREATED:
            raise ValueError(f"run {event.run_id}: {event.type} is not RunCreated")
        return cls.from_payload(event.payload_json)


def _names(value: Any, key: str) -> tuple[str, ...]:
    if not value:
        return ()
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise ValueError(f"{key} must be a list of node names")
    return tuple(value)
