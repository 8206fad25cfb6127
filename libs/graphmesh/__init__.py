"""graphmesh: run LangGraph graphs as a distributed, event-sourced service.

The public Python surface is the client and what it returns and raises,
re-exported here:

    from graphmesh import Client, NotFound

    with Client("127.0.0.1:50051") as client:
        run = client.create_run("chain3", {"n": 0, "trail": []})
        print(client.wait_run(run.run_id).output)

`graphmesh.testing` starts a whole mesh on one machine for tests. The
services live in the graphmesh_gateway, graphmesh_executor,
graphmesh_checkpoint and graphmesh_projector packages; the `graphmesh`
command in graphmesh_cli.
"""

from graphmesh.client import (
    Assistant,
    AssistantFields,
    AsyncClient,
    Client,
    CreateRunOptions,
    Run,
    RunEvent,
    RunFilters,
    RunStatus,
    StoreItem,
    Thread,
    ThreadFilters,
    ThreadState,
    ThreadTask,
)
from graphmesh.errors import (
    AlreadyExists,
    Cancelled,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    GraphmeshError,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from graphmesh.tls import ClientTls

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "Assistant",
    "AssistantFields",
    "AsyncClient",
    "Cancelled",
    "Client",
    "ClientTls",
    "CreateRunOptions",
    "DataLoss",
    "DeadlineExceeded",
    "FailedPrecondition",
    "GraphmeshError",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "Run",
    "RunEvent",
    "RunFilters",
    "RunStatus",
    "StoreItem",
    "Thread",
    "ThreadFilters",
    "ThreadState",
    "ThreadTask",
    "Unauthenticated",
    "Unavailable",
    "__version__",
]
