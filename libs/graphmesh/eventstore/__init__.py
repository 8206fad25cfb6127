"""The event store: interface, append rules and implementations."""

from graphmesh.eventstore.base import (
    AppendOutcome,
    CancelState,
    ClaimOutcome,
    ClaimResult,
    EventStore,
    RunHead,
    judge_append,
    judge_claim,
)

__all__ = [
    "AppendOutcome",
    "CancelState",
    "ClaimOutcome",
    "ClaimResult",
    "EventStore",
    "RunHead",
    "judge_append",
    "judge_claim",
]
