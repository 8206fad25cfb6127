"""graphmesh: run LangGraph graphs as a distributed, event-sourced service.

The public Python surface is the client (`graphmesh.client.Client`); the
services live in the graphmesh_gateway, graphmesh_executor,
graphmesh_checkpoint and graphmesh_projector packages.
"""

__version__ = "0.1.0"
