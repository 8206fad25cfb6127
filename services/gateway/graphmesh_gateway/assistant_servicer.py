"""The public AssistantService, and how a run finds its assistant.

The gateway checks what callers send (graph ids against the registry, config
as a run's, context against the graph's schema, sizes) and names the
caller's tenant; the checkpoint service keeps the assistants
(`graphmesh.assistants`). A graph's default assistant is made from the
registry here, without a lookup: a run that names only its graph, the
common case, costs no more than before assistants existed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import grpc
import structlog
from langchain_core.utils.json_schema import dereference_refs
from pydantic import TypeAdapter

from graphmesh.assistants import (
    SHARED_TENANT,
    SYSTEM_METADATA,
    UNTITLED,
    Assistant,
    AssistantPatch,
    AssistantQuery,
    AssistantSpec,
    AssistantStore,
    assistant_not_found,
    default_assistant_id,
)
from graphmesh.assistants.remote import to_proto
from graphmesh.errors import GraphmeshError, InvalidArgument, NotFound
from graphmesh.grpcutil import handle_errors
from graphmesh.registry import GraphEntry, GraphRegistry
from graphmesh.v1 import assistant_service_pb2 as pb
from graphmesh.v1 import assistant_service_pb2_grpc as pb_grpc
from graphmesh_gateway import run_config, validation
from graphmesh_gateway.caller import Caller
from graphmesh_gateway.tokens import PagePosition, Tokens

log = structlog.get_logger(__name__)

MAX_NAME_CHARS = 256
MAX_DESCRIPTION_CHARS = 4096
#: LangGraph Server's page size for assistant searches.
DEFAULT_PAGE_SIZE = 10
#: When the registry's default assistants were made (they are the same
#: version 1 in every gateway and every restart).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DEFAULTS_RETRY_SECONDS = 2.0


def default_spec(entry: GraphEntry) -> AssistantSpec:
    """A graph's default assistant, as LangGraph Server makes it: named after
    the graph (its own name when it has one), no config or context."""
    name = getattr(entry.graph, "name", "") or ""
    return AssistantSpec(
        graph_id=entry.graph_id,
        name=name if name and name != "LangGraph" else entry.graph_id,
        metadata=dict(SYSTEM_METADATA),
    )


class AssistantDirectory:
    """Finds the assistant a request names, for the caller's tenant."""

    def __init__(self, registry: GraphRegistry, store: AssistantStore) -> None:
        self._registry = registry
        self._store = store
        self._defaults = {default_assistant_id(e.graph_id): e for e in registry.entries()}

    @property
    def store(self) -> AssistantStore:
        """Where assistants are kept."""
        return self._store

    def default_specs(self) -> dict[str, AssistantSpec]:
        """The default assistant of every registered graph, by id."""
        return {i: default_spec(e) for i, e in self._defaults.items()}

    def assistant_id(self, value: str, field: str = "assistant_id") -> str:
        """The assistant id a request means: a graph id stands for its
        default assistant; anything else must be a UUID."""
        if value in self._registry:
            return default_assistant_id(value)
        validation.text(value, field, validation.MAX_ID_CHARS)
        try:
            return str(uuid.UUID(value))
        except ValueError:
            # LangGraph Server answers 404 for an id that is neither.
            raise assistant_not_found(value) from None

    async def get(self, tenant: str, value: str) -> Assistant:
        """The latest version of the assistant `value` names."""
        assistant_id = self.assistant_id(value)
        entry = self._defaults.get(assistant_id)
        if entry is not None:
            return self.default(entry)
        return await self._store.get(tenant, assistant_id)

    def default(self, entry: GraphEntry) -> Assistant:
        """A graph's default assistant, made from the registry."""
        return Assistant(
            default_assistant_id(entry.graph_id), default_spec(entry), 1, _EPOCH, _EPOCH, True
        )

    async def for_run(self, tenant: str, assistant_value: str, graph_value: str) -> Assistant:
        """The assistant a CreateRun names (its `assistant_id`, else its
        `graph_id`'s default); its graph must be registered and agree with
        `graph_id` when both are given."""
        validation.graph_id(graph_value)
        if not assistant_value:
            return self.default(self._registry.get(graph_value))
        assistant = await self.get(tenant, assistant_value)
        if graph_value and graph_value != assistant.spec.graph_id:
            raise InvalidArgument(
                f"graph_id {graph_value!r} is not the graph of assistant"
                f" {assistant.assistant_id!r} ({assistant.spec.graph_id!r}); send one of them",
                reason="ASSISTANT_GRAPH_MISMATCH",
                field="graph_id",
            )
        self._registry.get(assistant.spec.graph_id)  # still registered
        return assistant


def _metadata(text: str, max_bytes: int, field: str = "metadata_json") -> dict[str, Any]:
    if not text.strip():
        return {}
    value = validation.json_value(
        text, field, max_bytes, reason_prefix="METADATA", require_object=True
    )
    run_config.refuse_nul(value, field)
    return dict(value)


def _context(text: str, max_bytes: int) -> Any:
    value = run_config.context_value(text, max_bytes)
    run_config.refuse_nul(value, "context_json")
    return value


def _page_size(request: Any) -> int:
    """A request's page size: LangGraph Server's 10 when unset."""
    if not request.HasField("page_size"):
        return DEFAULT_PAGE_SIZE
    return validation.page_size(request.page_size)


def _name(value: str) -> str:
    return validation.text(value, "name", MAX_NAME_CHARS)


def _description(value: str) -> str:
    return validation.text(value, "description", MAX_DESCRIPTION_CHARS)


#: The longest subgraph namespace a request may name.
_MAX_NAMESPACE_CHARS = 1024


def _schema(get: Any) -> str:
    try:
        schema = get()
    except Exception:
        return ""
    return json.dumps(schema, separators=(",", ":"), default=str) if schema else ""


def _schema_fields(graph: Any) -> dict[str, str]:
    """A graph's JSON schemas as the API's `*_schema_json` fields (a graph's
    in GetAssistantSchemas, a subgraph's in GetAssistantSubgraphs)."""
    return {
        "input_schema_json": _schema(graph.get_input_jsonschema),
        "output_schema_json": _schema(graph.get_output_jsonschema),
        "state_schema_json": _schema(lambda: _state_schema(graph)),
        "config_schema_json": _schema(lambda: _config_schema(graph)),
        "context_schema_json": _schema(graph.get_context_jsonschema),
    }


class AssistantServicer(pb_grpc.AssistantServiceServicer):
    """Serves assistants to callers, each in its tenant."""

    def __init__(
        self,
        registry: GraphRegistry,
        directory: AssistantDirectory,
        tokens: Tokens,
        max_input_bytes: int,
    ) -> None:
        self._registry = registry
        self._directory = directory
        self._store = directory.store
        self._tokens = tokens
        self._max_bytes = max_input_bytes

    def _spec(
        self,
        graph_id: str,
        name: str,
        description: str,
        config_json: str,
        context_json: str,
        metadata_json: str,
    ) -> AssistantSpec:
        validation.graph_id(graph_id)
        context = _context(context_json, self._max_bytes)
        spec = AssistantSpec(
            graph_id=graph_id,
            name=_name(name) or UNTITLED,
            description=_description(description),
            config=run_config.config(config_json, self._max_bytes),
            context=context,
            metadata=_metadata(metadata_json, self._max_bytes),
        )
        run_config.check_context(context, self._registry.get(graph_id).graph)
        return spec

    @handle_errors
    async def CreateAssistant(
        self, request: pb.CreateAssistantRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateAssistantResponse:
        caller = Caller.current()
        spec = self._spec(
            request.graph_id,
            request.name,
            request.description,
            request.config_json,
            request.context_json,
            request.metadata_json,
        )
        assistant_id = str(uuid.uuid4())
        if request.assistant_id:
            assistant_id = self._directory.assistant_id(request.assistant_id)
        assistant, created = await self._store.create(
            caller.tenant, assistant_id, spec, if_exists_return=request.if_exists_return
        )
        return pb.CreateAssistantResponse(assistant=to_proto(assistant), created=created)

    @handle_errors
    async def GetAssistant(
        self, request: pb.GetAssistantRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAssistantResponse:
        assistant = await self._directory.get(Caller.current().tenant, request.assistant_id)
        if assistant.shared:
            # A default assistant as searches show it: with the times it was
            # written at (the registry's own has none).
            with contextlib.suppress(NotFound):
                assistant = await self._directory.store.get(SHARED_TENANT, assistant.assistant_id)
        return pb.GetAssistantResponse(assistant=to_proto(assistant))

    @handle_errors
    async def UpdateAssistant(
        self, request: pb.UpdateAssistantRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateAssistantResponse:
        caller = Caller.current()
        # Every field is checked before anything is looked up.
        graph_id = request.graph_id if request.HasField("graph_id") else None
        if graph_id is not None:
            validation.graph_id(graph_id)
        has_context = request.HasField("context_json")
        context_value = _context(request.context_json, self._max_bytes) if has_context else None
        patch = AssistantPatch(
            graph_id=graph_id,
            name=_name(request.name) if request.HasField("name") else None,
            description=(
                _description(request.description) if request.HasField("description") else None
            ),
            config=(
                run_config.config(request.config_json, self._max_bytes)
                if request.HasField("config_json")
                else None
            ),
            context=context_value,
            has_context=has_context,
            metadata=(
                _metadata(request.metadata_json, self._max_bytes)
                if request.HasField("metadata_json")
                else None
            ),
        )
        assistant_id = self._directory.assistant_id(request.assistant_id)
        if graph_id is not None:
            self._registry.get(graph_id)
        if graph_id is not None or has_context:
            # The new version's context must suit its graph.
            latest = await self._directory.get(caller.tenant, assistant_id)
            spec = patch.apply(latest.spec)
            run_config.check_context(spec.context, self._registry.get(spec.graph_id).graph)
        assistant = await self._store.update(caller.tenant, assistant_id, patch)
        return pb.UpdateAssistantResponse(assistant=to_proto(assistant))

    @handle_errors
    async def DeleteAssistant(
        self, request: pb.DeleteAssistantRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteAssistantResponse:
        assistant_id = self._directory.assistant_id(request.assistant_id)
        await self._store.delete(Caller.current().tenant, assistant_id)
        return pb.DeleteAssistantResponse()

    def _query(self, graph_id: str, metadata_json: str, name: str) -> AssistantQuery:
        return AssistantQuery(
            graph_id=validation.graph_id(graph_id),
            metadata=_metadata(metadata_json, self._max_bytes),
            name=_name(name),
        )

    @handle_errors
    async def SearchAssistants(
        self, request: pb.SearchAssistantsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchAssistantsResponse:
        caller = Caller.current()
        size = _page_size(request)
        query = self._query(request.graph_id, request.metadata_json, request.name)
        scope = ("assistants", caller.tenant, request.graph_id, request.metadata_json, request.name)
        position = self._tokens.page_position(request.page_token, scope)
        before = None
        if position is not None:
            when = datetime.fromtimestamp(position.created_at_us / 1_000_000, UTC)
            before = (when, position.run_id)
        found = await self._store.search(
            caller.tenant,
            AssistantQuery(query.graph_id, query.metadata, query.name, size + 1, before),
        )
        page, more = found[:size], len(found) > size
        token = ""
        if more:
            last = page[-1]
            token = self._tokens.page_token(
                PagePosition(int(last.created_at.timestamp() * 1_000_000), last.assistant_id),
                scope,
            )
        return pb.SearchAssistantsResponse(
            assistants=[to_proto(a) for a in page], next_page_token=token
        )

    @handle_errors
    async def CountAssistants(
        self, request: pb.CountAssistantsRequest, context: grpc.aio.ServicerContext
    ) -> pb.CountAssistantsResponse:
        query = self._query(request.graph_id, request.metadata_json, request.name)
        return pb.CountAssistantsResponse(
            count=await self._store.count(Caller.current().tenant, query)
        )

    @handle_errors
    async def ListAssistantVersions(
        self, request: pb.ListAssistantVersionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAssistantVersionsResponse:
        caller = Caller.current()
        size = _page_size(request)
        metadata = _metadata(request.metadata_json, self._max_bytes)
        scope = ("assistant_versions", caller.tenant, request.assistant_id, request.metadata_json)
        position = self._tokens.page_position(request.page_token, scope)
        assistant_id = self._directory.assistant_id(request.assistant_id)
        before = position.created_at_us if position is not None else 0
        found = await self._store.versions(caller.tenant, assistant_id, metadata, size + 1, before)
        page, more = found[:size], len(found) > size
        token = ""
        if more:
            token = self._tokens.page_token(PagePosition(page[-1].version, assistant_id), scope)
        return pb.ListAssistantVersionsResponse(
            versions=[to_proto(a) for a in page], next_page_token=token
        )

    @handle_errors
    async def SetLatestAssistantVersion(
        self, request: pb.SetLatestAssistantVersionRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetLatestAssistantVersionResponse:
        if request.version < 1:
            raise InvalidArgument(
                f"version must be 1 or more, got {request.version}",
                reason="VERSION_OUT_OF_RANGE",
                field="version",
            )
        assistant_id = self._directory.assistant_id(request.assistant_id)
        assistant = await self._store.set_latest(
            Caller.current().tenant, assistant_id, request.version
        )
        return pb.SetLatestAssistantVersionResponse(assistant=to_proto(assistant))

    @handle_errors
    async def GetAssistantSchemas(
        self, request: pb.GetAssistantSchemasRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAssistantSchemasResponse:
        assistant = await self._directory.get(Caller.current().tenant, request.assistant_id)
        graph = self._registry.get(assistant.spec.graph_id).graph
        return pb.GetAssistantSchemasResponse(
            graph_id=assistant.spec.graph_id, **_schema_fields(graph)
        )

    @handle_errors
    async def GetAssistantSubgraphs(
        self, request: pb.GetAssistantSubgraphsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAssistantSubgraphsResponse:
        namespace = validation.text(request.namespace, "namespace", _MAX_NAMESPACE_CHARS)
        assistant = await self._directory.get(Caller.current().tenant, request.assistant_id)
        graph = self._registry.get(assistant.spec.graph_id).graph
        found = graph.get_subgraphs(namespace=namespace or None, recurse=request.recurse)
        return pb.GetAssistantSubgraphsResponse(
            subgraphs=[pb.SubgraphSchemas(namespace=ns, **_schema_fields(sub)) for ns, sub in found]
        )

    @handle_errors
    async def GetAssistantGraph(
        self, request: pb.GetAssistantGraphRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAssistantGraphResponse:
        if request.xray < 0 or request.xray > 10:
            raise InvalidArgument(
                f"xray must be from 0 to 10, got {request.xray}",
                reason="XRAY_OUT_OF_RANGE",
                field="xray",
            )
        assistant = await self._directory.get(Caller.current().tenant, request.assistant_id)
        graph = self._registry.get(assistant.spec.graph_id).graph
        drawing = graph.get_graph(xray=request.xray or False)
        return pb.GetAssistantGraphResponse(
            graph_json=json.dumps(drawing.to_json(), separators=(",", ":"), default=str),
            mermaid=drawing.draw_mermaid(),
        )


def _state_schema(graph: Any) -> Mapping[str, Any] | None:
    """The JSON schema of the graph's state: its channels' (LangGraph
    Server's `state_schema`)."""
    builder = getattr(graph, "builder", None)
    schema = getattr(builder, "state_schema", None)
    if schema is None:
        return None
    return dict(dereference_refs(TypeAdapter(schema).json_schema()))


def _config_schema(graph: Any) -> Mapping[str, Any] | None:
    """The JSON schema of the graph's config (LangGraph deprecates the
    method for the context schema, but LangGraph Server still serves it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = graph.get_config_jsonschema()
    return dict(schema) if schema else None


async def write_default_assistants(directory: AssistantDirectory, stop: asyncio.Event) -> None:
    """Writes the registry's default assistants to the store (so searches
    find them), retrying until it is reachable or `stop` is set."""
    while not stop.is_set():
        try:
            await directory.store.ensure_defaults(directory.default_specs())
            return
        except GraphmeshError as exc:
            log.warning("default_assistants_not_written", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _DEFAULTS_RETRY_SECONDS)
