"""GraphService: what the registry holds."""

from __future__ import annotations

import grpc

from graphmesh.grpcutil import handle_errors
from graphmesh.registry import GraphEntry, GraphRegistry
from graphmesh.v1 import graph_service_pb2 as pb
from graphmesh.v1 import graph_service_pb2_grpc as pb_grpc


def _describe(entry: GraphEntry) -> pb.Graph:
    return pb.Graph(
        graph_id=entry.graph_id,
        source=entry.source,
        nodes=entry.nodes,
        input_schema_json=entry.input_schema_json(),
        output_schema_json=entry.output_schema_json(),
    )


class GraphServicer(pb_grpc.GraphServiceServicer):
    """Answers from the graph registry loaded at start-up."""

    def __init__(self, registry: GraphRegistry) -> None:
        self._graphs = {e.graph_id: _describe(e) for e in registry.entries()}
        self._registry = registry

    @handle_errors
    async def ListGraphs(
        self, request: pb.ListGraphsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListGraphsResponse:
        return pb.ListGraphsResponse(graphs=list(self._graphs.values()))

    @handle_errors
    async def GetGraph(
        self, request: pb.GetGraphRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetGraphResponse:
        entry = self._registry.get(request.graph_id)
        return pb.GetGraphResponse(graph=self._graphs[entry.graph_id])
