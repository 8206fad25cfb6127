"""What events do to the runs read model: pure logic, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graphmesh.checkpoints import events as cpe
from graphmesh.envelope import Event
from graphmesh.runs import RunView, fold

#: Name of the runs projection in projection_positions.
RUNS_PROJECTION = "runs"


def project(current: Mapping[str, RunView], events: Iterable[Event]) -> dict[str, RunView]:
    """The rows changed by `events` (in store order), given the current rows
    of the runs they touch. Events already reflected in a row are skipped,
    so applying a batch twice changes nothing."""
    changed: dict[str, RunView] = {}
    for event in events:
        if cpe.is_thread_stream(event):
            continue  # a thread's own stream: no run to project
        view = changed.get(event.run_id) or current.get(event.run_id)
        new_view = fold(view, event)
        if new_view is not view:
            changed[event.run_id] = new_view
    return changed
