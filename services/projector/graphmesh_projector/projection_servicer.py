"""The projector's internal gRPC API (ProjectionService)."""

from __future__ import annotations

import grpc

from graphmesh.grpcutil import handle_errors
from graphmesh.internal.v1 import projection_service_pb2 as pb
from graphmesh.internal.v1 import projection_service_pb2_grpc as pb_grpc
from graphmesh.runs import RunStatus, to_proto
from graphmesh_projector.readmodel import RunFilter, RunViewStore, micros_to_datetime


class ProjectionServicer(pb_grpc.ProjectionServiceServicer):
    """Answers queries from the read models."""

    def __init__(self, views: RunViewStore) -> None:
        self._views = views

    @handle_errors
    async def GetRunView(
        self, request: pb.GetRunViewRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetRunViewResponse:
        view = await self._views.get(request.run_id)
        if view is None:
            return pb.GetRunViewResponse(found=False)
        return pb.GetRunViewResponse(found=True, run=to_proto(view))

    @handle_errors
    async def ListRunViews(
        self, request: pb.ListRunViewsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRunViewsResponse:
        limit = max(1, min(request.limit or 50, 1000))
        before = None
        if request.before_run_id:
            before = (micros_to_datetime(request.before_created_at_us), request.before_run_id)
        where = RunFilter(
            request.graph_id, request.thread_id, RunStatus(request.status), request.tenant
        )
        views = await self._views.list(where, limit + 1, before)
        return pb.ListRunViewsResponse(
            runs=[to_proto(v) for v in views[:limit]], has_more=len(views) > limit
        )

    @handle_errors
    async def CountActiveRuns(
        self, request: pb.CountActiveRunsRequest, context: grpc.aio.ServicerContext
    ) -> pb.CountActiveRunsResponse:
        counts = await self._views.count_active(request.graph_id, request.tenant)
        return pb.CountActiveRunsResponse(
            graphs=[pb.ActiveRuns(graph_id=g, pending=p, running=r) for g, p, r in counts]
        )
