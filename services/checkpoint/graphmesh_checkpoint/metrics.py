"""The checkpoint service's figures: what became of the events it was
given, and how long appends take."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter

from graphmesh.eventstore import AppendOutcome

EVENTS = Counter(
    "graphmesh_events",
    "Events given to the event store, by outcome: APPENDED, DUPLICATE (a re-sent "
    "event, absorbed) or a REJECTED_* reason (a gap, a superseded attempt, ...).",
    ["outcome"],
)
UNDECODABLE = Counter(
    "graphmesh_events_undecodable",
    "Messages on the events topic that are not event batches (skipped).",
)


def count_outcomes(outcomes: Iterable[AppendOutcome]) -> None:
    """Counts the outcomes of one append."""
    for outcome in outcomes:
        EVENTS.labels(outcome.name).inc()
