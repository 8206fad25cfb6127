"""The checkpoint service's AssistantStoreService: assistants in PostgreSQL
for the gateways (which check what callers send and name the tenant)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import grpc

from graphmesh.assistants import AssistantQuery, AssistantStore
from graphmesh.assistants.remote import (
    patch_from_proto,
    spec_from_proto,
    to_proto,
)
from graphmesh.grpcutil import handle_errors
from graphmesh.internal.v1 import assistant_store_service_pb2 as pb
from graphmesh.internal.v1 import assistant_store_service_pb2_grpc as pb_grpc


def _query(request: pb.SearchAssistantsRequest | pb.CountAssistantsRequest) -> AssistantQuery:
    return AssistantQuery(
        graph_id=request.graph_id,
        metadata=json.loads(request.metadata_json) if request.metadata_json else {},
        name=request.name,
    )


class AssistantStoreServicer(pb_grpc.AssistantStoreServiceServicer):
    """Serves an `AssistantStore`."""

    def __init__(self, store: AssistantStore) -> None:
        self._store = store

    @handle_errors
    async def CreateAssistant(
        self, request: pb.CreateAssistantRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateAssistantResponse:
        assistant, created = await self._store.create(
            request.tenant,
            request.assistant.assistant_id,
            spec_from_proto(request.assistant),
            if_exists_return=request.if_exists_return,
        )
        return pb.CreateAssistantResponse(assistant=to_proto(assistant), created=created)

    @handle_errors
    async def EnsureDefaultAssistants(
        self, request: pb.EnsureDefaultAssistantsRequest, context: grpc.aio.ServicerContext
    ) -> pb.EnsureDefaultAssistantsResponse:
        await self._store.ensure_defaults(
            {a.assistant_id: spec_from_proto(a) for a in request.assistants}
        )
        return pb.EnsureDefaultAssistantsResponse()

    @handle_errors
    async def GetAssistant(
        self, request: pb.GetAssistantRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAssistantResponse:
        assistant = await self._store.get(request.tenant, request.assistant_id)
        return pb.GetAssistantResponse(assistant=to_proto(assistant))

    @handle_errors
    async def UpdateAssistant(
        self, request: pb.UpdateAssistantRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateAssistantResponse:
        assistant = await self._store.update(
            request.tenant, request.update.assistant_id, patch_from_proto(request.update)
        )
        return pb.UpdateAssistantResponse(assistant=to_proto(assistant))

    @handle_errors
    async def DeleteAssistant(
        self, request: pb.DeleteAssistantRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteAssistantResponse:
        await self._store.delete(request.tenant, request.assistant_id)
        return pb.DeleteAssistantResponse()

    @handle_errors
    async def SearchAssistants(
        self, request: pb.SearchAssistantsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchAssistantsResponse:
        query = _query(request)
        before = None
        if request.before_created_at_us:
            when = datetime.fromtimestamp(request.before_created_at_us / 1_000_000, UTC)
            before = (when, request.before_assistant_id)
        found = await self._store.search(
            request.tenant,
            AssistantQuery(
                query.graph_id, query.metadata, query.name, limit=request.limit, before=before
            ),
        )
        return pb.SearchAssistantsResponse(assistants=[to_proto(a) for a in found])

    @handle_errors
    async def CountAssistants(
        self, request: pb.CountAssistantsRequest, context: grpc.aio.ServicerContext
    ) -> pb.CountAssistantsResponse:
        return pb.CountAssistantsResponse(
            count=await self._store.count(request.tenant, _query(request))
        )

    @handle_errors
    async def ListAssistantVersions(
        self, request: pb.ListAssistantVersionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAssistantVersionsResponse:
        found = await self._store.versions(
            request.tenant,
            request.assistant_id,
            json.loads(request.metadata_json) if request.metadata_json else {},
            request.limit,
            request.before_version,
        )
        return pb.ListAssistantVersionsResponse(versions=[to_proto(a) for a in found])

    @handle_errors
    async def SetLatestAssistantVersion(
        self, request: pb.SetLatestAssistantVersionRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetLatestAssistantVersionResponse:
        assistant = await self._store.set_latest(
            request.tenant, request.assistant_id, request.version
        )
        return pb.SetLatestAssistantVersionResponse(assistant=to_proto(assistant))
