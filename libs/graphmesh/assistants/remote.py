"""Assistants over the checkpoint service's internal API, and the
conversions between `Assistant` and its proto (both sides use them)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from graphmesh.assistants import (
    Assistant,
    AssistantPatch,
    AssistantQuery,
    AssistantSpec,
    AssistantStore,
    default_assistant_id,
)
from graphmesh.grpcutil import call_patiently, translated_rpc_errors
from graphmesh.internal.v1 import assistant_store_service_pb2 as pb
from graphmesh.internal.v1 import assistant_store_service_pb2_grpc as pb_grpc
from graphmesh.v1 import assistant_service_pb2 as public_pb


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def to_proto(assistant: Assistant) -> public_pb.Assistant:
    """The assistant as the APIs carry it."""
    message = spec_to_proto(assistant.assistant_id, assistant.spec)
    message.version = assistant.version
    message.created_at.FromDatetime(assistant.created_at)
    message.updated_at.FromDatetime(assistant.updated_at)
    return message


def spec_to_proto(assistant_id: str, spec: AssistantSpec) -> public_pb.Assistant:
    """An id and spec as the APIs carry them (no version or times)."""
    return public_pb.Assistant(
        assistant_id=assistant_id,
        graph_id=spec.graph_id,
        name=spec.name,
        description=spec.description,
        config_json=_json(dict(spec.config)),
        context_json="" if spec.context is None else _json(spec.context),
        metadata_json=_json(dict(spec.metadata)),
    )


def spec_from_proto(message: public_pb.Assistant) -> AssistantSpec:
    """The spec a proto carries (its JSON checked by whoever made it)."""
    return AssistantSpec(
        graph_id=message.graph_id,
        name=message.name,
        description=message.description,
        config=json.loads(message.config_json or "{}"),
        context=json.loads(message.context_json) if message.context_json else None,
        metadata=json.loads(message.metadata_json or "{}"),
    )


def from_proto(message: public_pb.Assistant) -> Assistant:
    """The inverse of `to_proto`."""
    return Assistant(
        assistant_id=message.assistant_id,
        spec=spec_from_proto(message),
        version=message.version,
        created_at=message.created_at.ToDatetime(tzinfo=UTC),
        updated_at=message.updated_at.ToDatetime(tzinfo=UTC),
        shared=message.assistant_id == default_assistant_id(message.graph_id),
    )


def patch_to_proto(assistant_id: str, patch: AssistantPatch) -> public_pb.UpdateAssistantRequest:
    """An update as the APIs carry it."""
    message = public_pb.UpdateAssistantRequest(assistant_id=assistant_id)
    if patch.graph_id is not None:
        message.graph_id = patch.graph_id
    if patch.name is not None:
        message.name = patch.name
    if patch.description is not None:
        message.description = patch.description
    if patch.config is not None:
        message.config_json = _json(dict(patch.config))
    if patch.has_context:
        message.context_json = "" if patch.context is None else _json(patch.context)
    if patch.metadata is not None:
        message.metadata_json = _json(dict(patch.metadata))
    return message


def patch_from_proto(message: public_pb.UpdateAssistantRequest) -> AssistantPatch:
    """The inverse of `patch_to_proto` (JSON checked by the gateway)."""
    has_context = message.HasField("context_json")
    return AssistantPatch(
        graph_id=message.graph_id if message.HasField("graph_id") else None,
        name=message.name if message.HasField("name") else None,
        description=message.description if message.HasField("description") else None,
        config=json.loads(message.config_json) if message.HasField("config_json") else None,
        context=json.loads(message.context_json) if has_context and message.context_json else None,
        has_context=has_context,
        metadata=json.loads(message.metadata_json) if message.HasField("metadata_json") else None,
    )


def _before_us(when: datetime) -> int:
    return int(when.timestamp() * 1_000_000)


class RemoteAssistants(AssistantStore):
    """The checkpoint service's assistants; reads are retried while it is
    unavailable, writes are not (the caller decides)."""

    def __init__(self, stub: pb_grpc.AssistantStoreServiceStub) -> None:
        self._stub = stub

    async def create(
        self, tenant: str, assistant_id: str, spec: AssistantSpec, *, if_exists_return: bool
    ) -> tuple[Assistant, bool]:
        request = pb.CreateAssistantRequest(
            tenant=tenant,
            assistant=spec_to_proto(assistant_id, spec),
            if_exists_return=if_exists_return,
        )
        with translated_rpc_errors("creating an assistant"):
            answer = await self._stub.CreateAssistant(request)
        return from_proto(answer.assistant), answer.created

    async def ensure_defaults(self, specs: Mapping[str, AssistantSpec]) -> None:
        request = pb.EnsureDefaultAssistantsRequest(
            assistants=[spec_to_proto(i, s) for i, s in sorted(specs.items())]
        )
        await call_patiently(
            lambda: self._stub.EnsureDefaultAssistants(request), "writing default assistants"
        )

    async def get(self, tenant: str, assistant_id: str) -> Assistant:
        request = pb.GetAssistantRequest(tenant=tenant, assistant_id=assistant_id)
        answer = await call_patiently(
            lambda: self._stub.GetAssistant(request), "reading an assistant"
        )
        return from_proto(answer.assistant)

    async def update(self, tenant: str, assistant_id: str, patch: AssistantPatch) -> Assistant:
        request = pb.UpdateAssistantRequest(
            tenant=tenant, update=patch_to_proto(assistant_id, patch)
        )
        with translated_rpc_errors("updating an assistant"):
            answer = await self._stub.UpdateAssistant(request)
        return from_proto(answer.assistant)

    async def delete(self, tenant: str, assistant_id: str) -> None:
        request = pb.DeleteAssistantRequest(tenant=tenant, assistant_id=assistant_id)
        with translated_rpc_errors("deleting an assistant"):
            await self._stub.DeleteAssistant(request)

    async def search(self, tenant: str, query: AssistantQuery) -> list[Assistant]:
        request = pb.SearchAssistantsRequest(
            tenant=tenant,
            graph_id=query.graph_id,
            metadata_json=_json(dict(query.metadata)) if query.metadata else "",
            name=query.name,
            limit=query.limit,
        )
        if query.before is not None:
            request.before_created_at_us = _before_us(query.before[0])
            request.before_assistant_id = query.before[1]
        answer = await call_patiently(
            lambda: self._stub.SearchAssistants(request), "searching assistants"
        )
        return [from_proto(a) for a in answer.assistants]

    async def count(self, tenant: str, query: AssistantQuery) -> int:
        request = pb.CountAssistantsRequest(
            tenant=tenant,
            graph_id=query.graph_id,
            metadata_json=_json(dict(query.metadata)) if query.metadata else "",
            name=query.name,
        )
        answer = await call_patiently(
            lambda: self._stub.CountAssistants(request), "counting assistants"
        )
        return int(answer.count)

    async def versions(
        self,
        tenant: str,
        assistant_id: str,
        metadata: Mapping[str, Any],
        limit: int,
        before_version: int = 0,
    ) -> list[Assistant]:
        request = pb.ListAssistantVersionsRequest(
            tenant=tenant,
            assistant_id=assistant_id,
            metadata_json=_json(dict(metadata)) if metadata else "",
            limit=limit,
            before_version=before_version,
        )
        answer = await call_patiently(
            lambda: self._stub.ListAssistantVersions(request), "listing assistant versions"
        )
        return [from_proto(a) for a in answer.versions]

    async def set_latest(self, tenant: str, assistant_id: str, version: int) -> Assistant:
        request = pb.SetLatestAssistantVersionRequest(
            tenant=tenant, assistant_id=assistant_id, version=version
        )
        with translated_rpc_errors("setting an assistant's latest version"):
            answer = await self._stub.SetLatestAssistantVersion(request)
        return from_proto(answer.assistant)
