"""graphmesh's Python clients: `Client` (blocking) and `AsyncClient`
(asyncio), with the same methods, over the public gRPC API. They return
`Run`, `Thread`, `ThreadState`, `RunEvent` and `Assistant` values and raise the error
classes of `graphmesh.errors`."""

from graphmesh.client._async import AsyncClient
from graphmesh.client._calls import AssistantFields, CreateRunOptions, RunFilters, ThreadFilters
from graphmesh.client._models import (
    Assistant,
    Run,
    RunEvent,
    StoreItem,
    Thread,
    ThreadState,
    ThreadTask,
)
from graphmesh.client._sync import Client
from graphmesh.runs import RunStatus

__all__ = [
    "Assistant",
    "AssistantFields",
    "AsyncClient",
    "Client",
    "CreateRunOptions",
    "Run",
    "RunEvent",
    "RunFilters",
    "RunStatus",
    "StoreItem",
    "Thread",
    "ThreadFilters",
    "ThreadState",
    "ThreadTask",
]
