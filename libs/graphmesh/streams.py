"""LangGraph's stream modes as graphmesh records them: pure mapping, no I/O.

A run records the stream modes its creator asked for as events of its own
stream (numbered and stored like every other), so any subscriber can join
or resume it later. Each mode has its own event type, so the gateway can
filter a stream by mode without reading payloads:

    updates      NodeUpdated        {"node", "update"}
    custom       CustomEvent        {"data"}
    values       StateValues        {"data"}
    messages     MessageChunk       {"data": [chunk, metadata]}
                 MessageChunks      {"data": [[chunk, metadata], ...]}
    debug        DebugEvent         {"data"}
    tasks        TaskEvent          {"data"}
    checkpoints  CheckpointEvent    {"data"}
    events       StreamEvent        {"data"}   (LangChain's run events, v2)

Events from a subgraph carry its namespace as "ns" (a list of strings).
A `MessageChunks` event holds several consecutive message chunks of one
namespace (a run's tokens that came while its events were on their way):
each is the item LangGraph's stream gave, in order (`stream_items`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final

from graphmesh import envelope as ev
from graphmesh.checkpoints import events as cpe
from graphmesh.envelope import Event

#: Every stream mode, in the order of graphmesh.v1.StreamMode's numbers (1..8).
STREAM_MODES: Final = (
    "values",
    "updates",
    "messages",
    "custom",
    "debug",
    "tasks",
    "checkpoints",
    "events",
)
#: What a run records when its creator names no mode.
DEFAULT_MODES: Final = ("updates", "custom")

EVENT_TYPE_OF_MODE: Final = {
    "updates": ev.NODE_UPDATED,
    "custom": ev.CUSTOM_EVENT,
    "values": ev.STATE_VALUES,
    "messages": ev.MESSAGE_CHUNK,
    "debug": ev.DEBUG_EVENT,
    "tasks": ev.TASK_EVENT,
    "checkpoints": ev.CHECKPOINT_EVENT,
    "events": ev.STREAM_EVENT,
}
MODE_OF_EVENT_TYPE: Final = {
    **{t: m for m, t in EVENT_TYPE_OF_MODE.items()},
    ev.MESSAGE_CHUNKS: "messages",
}


def mode_name(number: int) -> str:
    """The mode for a graphmesh.v1.StreamMode number (1..8)."""
    return STREAM_MODES[number - 1]


def mode_number(mode: str) -> int:
    """The graphmesh.v1.StreamMode number of a mode name ("" -> 0)."""
    return STREAM_MODES.index(mode) + 1 if mode else 0


def event_mode(event: Event) -> str:
    """The stream mode an event belongs to; "" for lifecycle events."""
    return MODE_OF_EVENT_TYPE.get(event.type, "")


def event_namespace(event: Event) -> list[str]:
    """The subgraph namespace of a stream event (empty for the root graph)."""
    if event.type not in MODE_OF_EVENT_TYPE or '"ns"' not in event.payload_json:
        return []
    ns = json.loads(event.payload_json).get("ns") or []
    return [str(part) for part in ns]


def wanted(event: Event, modes: Iterable[str] | None) -> bool:
    """True if a subscriber asking for `modes` (None: all) gets `event`.
    Lifecycle events always go; checkpoint bookkeeping never does."""
    if event.type in cpe.INTERNAL_TYPES:
        return False
    mode = MODE_OF_EVENT_TYPE.get(event.type)
    return mode is None or modes is None or mode in modes


def stream_items(event_type: str, payload: Any) -> list[Any]:
    """The LangGraph stream items (what `astream` gave in the event's mode)
    a stream event's payload holds: one, or several for MessageChunks; none
    for other events. NodeUpdated's item is LangGraph's {node: update}."""
    if event_type not in MODE_OF_EVENT_TYPE or not isinstance(payload, dict):
        return []
    if event_type == ev.NODE_UPDATED:
        return [{payload.get("node"): payload.get("update")}]
    if event_type == ev.MESSAGE_CHUNKS:
        return list(payload.get("data") or [])
    return [payload.get("data")]
