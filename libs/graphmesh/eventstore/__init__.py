"""The event store: its rules (`rules`), its interface in levels
(`interface`) and its adapters (`memory`, `postgres`, `remote`)."""

from graphmesh.eventstore.interface import (
    EventStore,
    LeaseRenewal,
    RunLeases,
    RunLog,
    RunStore,
    ThreadStreams,
)
from graphmesh.eventstore.rules import (
    AppendOutcome,
    CancelState,
    ClaimOutcome,
    ClaimResult,
    RunHead,
    ThreadEventIn,
    judge_append,
    judge_claim,
)

__all__ = [
    "AppendOutcome",
    "CancelState",
    "ClaimOutcome",
    "ClaimResult",
    "EventStore",
    "LeaseRenewal",
    "RunHead",
    "RunLeases",
    "RunLog",
    "RunStore",
    "ThreadEventIn",
    "ThreadStreams",
    "judge_append",
    "judge_claim",
]
