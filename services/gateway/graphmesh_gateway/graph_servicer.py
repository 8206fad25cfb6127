"""GraphService: what the registry holds."""

from __future__ import annotations

import grpc

from graphmesh.grpcutil import handle_errors, translated_rpc_errors
from graphmesh.internal.v1 import projection_service_pb2 as pj_pb2
from graphmesh.internal.v1 import projection_service_pb2_grpc as pj_grpc
from graphmesh.registry import GraphEntry, GraphRegistry
from graphmesh.v1 import graph_service_pb2 as pb
from graphmesh.v1 import graph_service_pb2_grpc as pb_grpc
from graphmesh_gateway import validation
from graphmesh_gateway.caller import Caller


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

    def __init__(self, registry: GraphRegistry, projections: pj_grpc.ProjectionServiceStub) -> None:
        self._graphs = {e.graph_id: _describe(e) for e in registry.entries()}
        self._registry = registry
        self._projections = projections

    @handle_errors
    async def ListGraphs(
        self, request: pb.ListGraphsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListGraphsResponse:
        return pb.ListGraphsResponse(graphs=list(self._graphs.values()))

    @handle_errors
    async def GetGraph(
        self, request: pb.GetGraphRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetGraphResponse:
        entry = self._registry.get(validation.graph_id(request.graph_id))
        return pb.GetGraphResponse(graph=self._graphs[entry.graph_id])

    @handle_errors
    async def GetQueueDepth(
        self, request: pb.GetQueueDepthRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetQueueDepthResponse:
        graph_ids = sorted(self._graphs)
        if request.graph_id:
            graph_ids = [self._registry.get(validation.graph_id(request.graph_id)).graph_id]
        with translated_rpc_errors("counting runs"):
            answer = await self._projections.CountActiveRuns(
                # A tenant sees its own queue; the operators' figures (the
                # Prometheus gauge) count every tenant's.
                pj_pb2.CountActiveRunsRequest(
                    graph_id=request.graph_id, tenant=Caller.current().tenant
                )
            )
        counts = {g.graph_id: g for g in answer.graphs}
        return pb.GetQueueDepthResponse(
            queues=[
                pb.GraphQueue(
                    graph_id=g,
                    pending_runs=counts[g].pending if g in counts else 0,
                    running_runs=counts[g].running if g in counts else 0,
                )
                for g in graph_ids
            ]
        )
