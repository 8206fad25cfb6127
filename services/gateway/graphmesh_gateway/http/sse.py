"""A run's stored events as LangGraph Server's SSE events: pure, no I/O.

LangGraph Server names each event after its stream mode (`values`,
`updates`, `custom`, `debug`, `tasks`, `checkpoints`; `messages` for the
`messages-tuple` mode; `messages/metadata`, `messages/partial` and
`messages/complete` for the `messages` mode, which sends each message
whole as far as it has come), with `|` and the namespace after it for a
subgraph's events, `metadata` first and `error` for a run that failed.

Each graphmesh event (each chunk of a grouped one) carries a cursor that
resumes the stream exactly after it; it is the SSE event's `id`, so a
client that sends it back as `Last-Event-ID` gets exactly the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Final

from graphmesh import envelope as ev
from graphmesh.client import RunEvent

#: Stream modes a client may ask for, and the graphmesh mode recording each.
RECORDED_MODE: Final = {
    "values": "values",
    "updates": "updates",
    "messages": "messages",
    "messages-tuple": "messages",
    "custom": "custom",
    "debug": "debug",
    "tasks": "tasks",
    "checkpoints": "checkpoints",
    "events": "events",
}
#: What LangGraph Server streams when a client names no mode.
DEFAULT_MODES: Final = ("values",)


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One SSE event: its name, its JSON data and its id (None: none)."""

    event: str
    data: Any
    id: str | None = None


def recorded_modes(modes: Iterable[str]) -> list[str]:
    """The graphmesh modes a run records for a client asking for `modes`.
    (An interrupt reaches a `values` client in the values themselves, as
    LangGraph gives them: `__interrupt__` beside the state.)"""
    return sorted({RECORDED_MODE[mode] for mode in modes})


@dataclass
class SseTranslator:
    """Turns one run's events, in order, into the SSE events a client that
    asked for `modes` (LangGraph's names) gets."""

    modes: tuple[str, ...]
    subgraphs: bool = False
    #: The messages seen so far by id (the `messages` mode sends each whole).
    _messages: dict[str, Any] = field(default_factory=dict)

    @property
    def replays(self) -> bool:
        """Whether resuming needs the stream from its start: the `messages`
        mode sends each message whole as far as it has come, so what it
        sends after a cursor depends on the chunks before it."""
        return "messages" in self.modes

    def translate(self, event: RunEvent) -> list[SseEvent]:
        """The SSE events for `event` (none for bookkeeping events)."""
        if event.type in (ev.RUN_FAILED, ev.RUN_TIMED_OUT):
            error = (event.payload or {}).get("error") or {}
            return [
                SseEvent(
                    "error",
                    {"error": error.get("type", "Error"), "message": error.get("message", "")},
                    event.cursor,
                )
            ]
        if event.type == ev.RUN_INTERRUPTED:
            return self._interrupted(event)
        if not event.mode or (event.namespace and not self.subgraphs):
            return []
        out: list[SseEvent] = []
        for item in event.items:  # one (a grouped event reaches here split)
            if event.mode == "messages":
                out += self._message(item, event)
            elif event.mode in self.modes:
                data = debug_item(item) if event.mode == "debug" else item
                out.append(SseEvent(self._name(event.mode, event.namespace), data, event.cursor))
        # Only the last carries the cursor: a client resuming from it has
        # had every SSE event this stored event gave.
        return [replace(e, id=None) for e in out[:-1]] + out[-1:]

    def _interrupted(self, event: RunEvent) -> list[SseEvent]:
        """LangGraph's `updates` stream gives an interrupt as an update of
        its own ({"__interrupt__": [...]}); graphmesh keeps the interrupts
        with the run's end, so that is where an `updates` client gets it
        (after the run's last values, where LangGraph gives it just before)."""
        interrupts = (event.payload or {}).get("interrupts") or []
        if "updates" not in self.modes or not interrupts:
            return []
        return [SseEvent("updates", {"__interrupt__": interrupts}, event.cursor)]

    def _name(self, mode: str, namespace: tuple[str, ...]) -> str:
        return f"{mode}|{'|'.join(namespace)}" if namespace else mode

    def _message(self, item: Any, event: RunEvent) -> list[SseEvent]:
        out = []
        if "messages-tuple" in self.modes:
            out.append(SseEvent(self._name("messages", event.namespace), item, event.cursor))
        if "messages" not in self.modes or not isinstance(item, list) or len(item) != 2:
            return out
        message, metadata = item
        if not isinstance(message, dict):
            return out
        key = str(message.get("id"))
        if key not in self._messages:
            self._messages[key] = message
            out.append(SseEvent("messages/metadata", {key: {"metadata": metadata}}))
        else:
            self._messages[key] = merge_chunks(self._messages[key], message)
        whole = self._messages[key]
        name = "messages/partial" if _is_chunk(whole) else "messages/complete"
        out.append(SseEvent(name, [whole], event.cursor))
        return out


def _is_chunk(message: dict[str, Any]) -> bool:
    return str(message.get("type", "")).endswith("Chunk")


def merge_chunks(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Two chunks of one message added as LangChain adds them (its content
    joined, tool call chunks merged); `right` when either is not a chunk."""
    a, b = _chunk_object(left), _chunk_object(right)
    if a is None or b is None:
        return right
    return dict((a + b).model_dump(mode="json"))


def _chunk_object(message: dict[str, Any]) -> Any:
    """A message chunk's JSON as a LangChain chunk (None: not a chunk)."""
    from langchain_core import messages

    cls = getattr(messages, str(message.get("type", "")), None)
    if not (isinstance(cls, type) and issubclass(cls, messages.BaseMessageChunk)):
        return None
    try:
        return cls(**{k: v for k, v in message.items() if k != "type"})
    except (TypeError, ValueError):
        return None


def debug_item(item: Any) -> Any:
    """A `debug` item as LangGraph Server sends it: a checkpoint's payload
    also names its checkpoint and its parent as the API names checkpoints
    (`checkpoint`, `parent_checkpoint`), and each task's subgraph state by
    its checkpoint."""
    if not isinstance(item, dict) or item.get("type") != "checkpoint":
        return item
    payload = item.get("payload")
    if not isinstance(payload, dict):
        return item
    tasks = [_debug_task(t) for t in payload.get("tasks") or []]
    return {
        **item,
        "payload": {
            **payload,
            "checkpoint": _checkpoint_of(payload.get("config")),
            "parent_checkpoint": _checkpoint_of(payload.get("parent_config")),
            "tasks": tasks,
        },
    }


def _debug_task(task: Any) -> Any:
    if not isinstance(task, dict) or not isinstance(task.get("state"), dict):
        return task
    configurable = task["state"].get("configurable")
    if not configurable:
        return task
    return {**{k: v for k, v in task.items() if k != "state"}, "checkpoint": configurable}


def _checkpoint_of(config: Any) -> dict[str, Any] | None:
    """A LangGraph config as the API's checkpoint address (None: none)."""
    configurable = config.get("configurable") if isinstance(config, dict) else None
    if (
        not configurable
        or not configurable.get("thread_id")
        or not configurable.get("checkpoint_id")
    ):
        return None
    checkpoint = {
        "checkpoint_id": configurable["checkpoint_id"],
        "thread_id": configurable["thread_id"],
    }
    if "checkpoint_ns" in configurable:
        checkpoint["checkpoint_ns"] = configurable["checkpoint_ns"] or ""
    if "checkpoint_map" in configurable:
        checkpoint["checkpoint_map"] = configurable["checkpoint_map"]
    return checkpoint
