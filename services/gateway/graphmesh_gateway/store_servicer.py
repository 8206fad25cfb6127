"""The public StoreService: the long-term memory store, per tenant.

Requests are checked here (namespaces, keys, values, filters, bounds) and
carried out through the same `GraphmeshStore` graphs get, so the API and
the graphs embed, expire and search alike."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import grpc

from graphmesh.errors import InvalidArgument, NotFound
from graphmesh.grpcutil import handle_errors
from graphmesh.registry import StoreSettings
from graphmesh.store import NAMESPACE_SEPARATOR, ItemStore, StoredItem
from graphmesh.store.filters import OPERATORS
from graphmesh.store.langgraph import GraphmeshStore
from graphmesh.store.remote import item_to_proto
from graphmesh.v1 import store_service_pb2 as pb
from graphmesh.v1 import store_service_pb2_grpc as pb_grpc
from graphmesh_gateway import run_config, validation
from graphmesh_gateway.caller import Caller

MAX_LABELS = 32
MAX_LABEL_CHARS = 256
MAX_KEY_CHARS = 1024
MAX_QUERY_CHARS = 10_000
MAX_LIMIT = 1000
MAX_OFFSET = 100_000
#: Ten years, in minutes.
MAX_TTL_MINUTES = 10 * 365 * 24 * 60.0


def _invalid(message: str, reason: str, field: str) -> InvalidArgument:
    return InvalidArgument(message, reason=reason, field=field)


def namespace(
    labels: Sequence[str], field: str = "namespace", *, empty_ok: bool = False
) -> tuple[str, ...]:
    """Namespace labels as LangGraph's store takes them."""
    if not labels and not empty_ok:
        raise _invalid(f"{field} needs at least one label", "NAMESPACE_EMPTY", field)
    if len(labels) > MAX_LABELS:
        raise _invalid(f"{field} has more than {MAX_LABELS} labels", "NAMESPACE_TOO_DEEP", field)
    for label in labels:
        if not label:
            raise _invalid(f"{field} has an empty label", "NAMESPACE_LABEL_EMPTY", field)
        if len(label) > MAX_LABEL_CHARS:
            raise _invalid(
                f"{field} has a label longer than {MAX_LABEL_CHARS} characters",
                "NAMESPACE_LABEL_TOO_LONG",
                field,
            )
        if NAMESPACE_SEPARATOR in label:
            raise _invalid(
                f"{field} label {label[:64]!r} holds {NAMESPACE_SEPARATOR!r}, which LangGraph's"
                " store refuses in labels",
                "NAMESPACE_LABEL_HAS_SEPARATOR",
                field,
            )
    return tuple(labels)


def _key(value: str) -> str:
    if not value:
        raise _invalid("key must not be empty", "KEY_EMPTY", "key")
    return validation.text(value, "key", MAX_KEY_CHARS)


def _object(text: str, field: str, prefix: str, max_bytes: int) -> dict[str, Any]:
    value = validation.json_value(text, field, max_bytes, reason_prefix=prefix, require_object=True)
    run_config.refuse_nul(value, field)
    return dict(value)


def _check_filter(value: Any, field: str = "filter_json") -> None:
    """Operators are LangGraph's; anything else starting with `$` is refused."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key.startswith("$") and key not in OPERATORS:
                raise _invalid(
                    f"{field} uses {key!r}; operators are {', '.join(sorted(OPERATORS))}",
                    "FILTER_OPERATOR_UNKNOWN",
                    field,
                )
            _check_filter(inner, field)
    elif isinstance(value, list):
        for inner in value:
            _check_filter(inner, field)


def _bounded(value: int, low: int, high: int, field: str, reason: str) -> int:
    if not low <= value <= high:
        raise _invalid(f"{field} must be from {low} to {high}, got {value}", reason, field)
    return value


class StoreServicer(pb_grpc.StoreServiceServicer):
    """Serves each tenant its items."""

    def __init__(self, items: ItemStore, settings: StoreSettings, max_input_bytes: int) -> None:
        self._items = items
        self._settings = settings
        self._max_bytes = max_input_bytes

    def _store(self) -> GraphmeshStore:
        return GraphmeshStore(
            self._items,
            Caller.current().tenant,
            index=cast(Any, self._settings.index),
            ttl=cast(Any, self._settings.ttl),
        )

    def _refresh(self, request: Any) -> bool | None:
        return request.refresh_ttl if request.HasField("refresh_ttl") else None

    @handle_errors
    async def PutItem(
        self, request: pb.PutItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.PutItemResponse:
        labels = namespace(request.namespace)
        if labels[0] == "langgraph":
            raise _invalid(
                'a namespace may not start with "langgraph" (LangGraph keeps it)',
                "NAMESPACE_RESERVED",
                "namespace",
            )
        key = _key(request.key)
        value = _object(request.value_json, "value_json", "VALUE", self._max_bytes)
        ttl: Any = ...
        if request.HasField("ttl_minutes"):
            ttl = request.ttl_minutes
            if not math.isfinite(ttl) or not 0 < ttl <= MAX_TTL_MINUTES:
                raise _invalid(
                    f"ttl_minutes must be above 0 and at most {MAX_TTL_MINUTES:.0f}",
                    "TTL_OUT_OF_RANGE",
                    "ttl_minutes",
                )
        paths = [
            validation.text(p, "index", MAX_LABEL_CHARS)
            for p in validation.items(request.index, "index")
        ]
        index: Any = False if request.no_index else (paths or None)
        store = self._store()
        if ttl is ...:
            await store.aput(labels, key, value, index=index)
        else:
            await store.aput(labels, key, value, index=index, ttl=ttl)
        return pb.PutItemResponse()

    @handle_errors
    async def GetItem(
        self, request: pb.GetItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetItemResponse:
        labels, key = namespace(request.namespace), _key(request.key)
        item = await self._store().aget(labels, key, refresh_ttl=self._refresh(request))
        if item is None:
            raise NotFound(
                f"no item {key[:128]!r} in namespace {'/'.join(labels)[:256]!r}",
                reason="ITEM_NOT_FOUND",
                field="key",
            )
        return pb.GetItemResponse(item=item_to_proto(_stored(item)))

    @handle_errors
    async def DeleteItem(
        self, request: pb.DeleteItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteItemResponse:
        await self._store().adelete(namespace(request.namespace), _key(request.key))
        return pb.DeleteItemResponse()

    @handle_errors
    async def SearchItems(
        self, request: pb.SearchItemsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchItemsResponse:
        prefix = namespace(request.namespace_prefix, "namespace_prefix", empty_ok=True)
        filter_ = None
        if request.filter_json.strip():
            filter_ = _object(request.filter_json, "filter_json", "FILTER", self._max_bytes)
            _check_filter(filter_)
        limit = _bounded(
            request.limit if request.HasField("limit") else 10,
            1,
            MAX_LIMIT,
            "limit",
            "LIMIT_OUT_OF_RANGE",
        )
        offset = _bounded(request.offset, 0, MAX_OFFSET, "offset", "OFFSET_OUT_OF_RANGE")
        query = validation.text(request.query, "query", MAX_QUERY_CHARS) or None
        found = await self._store().asearch(
            prefix,
            query=query,
            filter=filter_,
            limit=limit,
            offset=offset,
            refresh_ttl=self._refresh(request),
        )
        return pb.SearchItemsResponse(items=[item_to_proto(_stored(i)) for i in found])

    @handle_errors
    async def ListNamespaces(
        self, request: pb.ListNamespacesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListNamespacesResponse:
        prefix = _pattern(request.prefix, "prefix")
        suffix = _pattern(request.suffix, "suffix")
        depth = None
        if request.HasField("max_depth"):
            depth = _bounded(
                request.max_depth, 1, MAX_LABELS, "max_depth", "MAX_DEPTH_OUT_OF_RANGE"
            )
        limit = _bounded(
            request.limit if request.HasField("limit") else 100,
            1,
            MAX_LIMIT,
            "limit",
            "LIMIT_OUT_OF_RANGE",
        )
        offset = _bounded(request.offset, 0, MAX_OFFSET, "offset", "OFFSET_OUT_OF_RANGE")
        spaces = await self._store().alist_namespaces(
            prefix=prefix or None,
            suffix=suffix or None,
            max_depth=depth,
            limit=limit,
            offset=offset,
        )
        return pb.ListNamespacesResponse(
            namespaces=[pb.StoreNamespace(labels=list(s)) for s in spaces]
        )


def _pattern(labels: Sequence[str], field: str) -> tuple[str, ...]:
    """A namespace pattern (`*` matches any label)."""
    return namespace(labels, field, empty_ok=True)


def _stored(item: Any) -> StoredItem:
    return StoredItem(
        namespace=tuple(item.namespace),
        key=item.key,
        value=item.value,
        created_at=item.created_at,
        updated_at=item.updated_at,
        score=getattr(item, "score", None),
    )
