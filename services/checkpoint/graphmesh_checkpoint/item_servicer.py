"""The checkpoint service's ItemStoreService: the long-term memory store's
items in PostgreSQL, for the executors and the gateways (which check what
callers send, compute embeddings and name the tenant); and the sweep of
expired items."""

from __future__ import annotations

import asyncio
import contextlib
import json

import grpc
import structlog

from graphmesh.errors import GraphmeshError
from graphmesh.grpcutil import handle_errors
from graphmesh.internal.v1 import item_store_service_pb2 as pb
from graphmesh.internal.v1 import item_store_service_pb2_grpc as pb_grpc
from graphmesh.store import ItemSearch, ItemStore, NamespaceListing
from graphmesh.store.remote import item_to_proto
from graphmesh.v1 import store_service_pb2 as public_pb

log = structlog.get_logger(__name__)


class ItemStoreServicer(pb_grpc.ItemStoreServiceServicer):
    """Serves an `ItemStore`."""

    def __init__(self, items: ItemStore) -> None:
        self._items = items

    @handle_errors
    async def PutStoreItem(
        self, request: pb.PutStoreItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.PutStoreItemResponse:
        await self._items.put(
            request.tenant,
            tuple(request.namespace),
            request.key,
            json.loads(request.value_json),
            ttl_minutes=request.ttl_minutes if request.HasField("ttl_minutes") else None,
            vectors={v.field: list(v.values) for v in request.vectors},
        )
        return pb.PutStoreItemResponse()

    @handle_errors
    async def DeleteStoreItem(
        self, request: pb.DeleteStoreItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteStoreItemResponse:
        await self._items.delete(request.tenant, tuple(request.namespace), request.key)
        return pb.DeleteStoreItemResponse()

    @handle_errors
    async def GetStoreItem(
        self, request: pb.GetStoreItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetStoreItemResponse:
        item = await self._items.get(
            request.tenant, tuple(request.namespace), request.key, refresh_ttl=request.refresh_ttl
        )
        if item is None:
            return pb.GetStoreItemResponse(found=False)
        return pb.GetStoreItemResponse(item=item_to_proto(item), found=True)

    @handle_errors
    async def SearchStoreItems(
        self, request: pb.SearchStoreItemsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchStoreItemsResponse:
        found = await self._items.search(
            request.tenant,
            ItemSearch(
                prefix=tuple(request.namespace_prefix),
                filter=json.loads(request.filter_json) if request.filter_json else {},
                limit=request.limit,
                offset=request.offset,
                query_vector=list(request.query_vector) if request.ranked else None,
                refresh_ttl=request.refresh_ttl,
            ),
        )
        return pb.SearchStoreItemsResponse(items=[item_to_proto(i) for i in found])

    @handle_errors
    async def ListStoreNamespaces(
        self, request: pb.ListStoreNamespacesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListStoreNamespacesResponse:
        spaces = await self._items.list_namespaces(
            request.tenant,
            NamespaceListing(
                prefix=tuple(request.prefix),
                suffix=tuple(request.suffix),
                max_depth=request.max_depth or None,
                limit=request.limit,
                offset=request.offset,
            ),
        )
        return pb.ListStoreNamespacesResponse(
            namespaces=[public_pb.StoreNamespace(labels=list(s)) for s in spaces]
        )


async def sweep_expired_items(items: ItemStore, interval: float, stop: asyncio.Event) -> None:
    """Removes expired items every `interval` seconds until `stop` (reads
    never return an expired item in between: the sweep only frees space)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        if stop.is_set():
            return
        try:
            swept = await items.sweep()
        except GraphmeshError as exc:
            log.warning("store_sweep_failed", error=str(exc))
            continue
        if swept:
            log.info("store_items_expired", items=swept)
