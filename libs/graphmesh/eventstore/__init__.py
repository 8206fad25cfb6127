"""The event store: interface, append rules and implementations."""

from graphmesh.eventstore.base import (
    AppendOutcome,
    ClaimOutcome,
    ClaimResult,
    EventStore,
    RunHead,
    judge_append,
    judge_claim,
)

__all__ = [
    "AppendOutcome",
    "ClaimOutcome",
    "ClaimResult",
    "EventStore",
    "RunHead",
    "judge_append",
    "judge_claim",
]
