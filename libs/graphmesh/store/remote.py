"""Items over the checkpoint service's internal ItemStoreService, and the
conversions between `StoredItem` and its proto (both sides use them)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from graphmesh.grpcutil import call_patiently, translated_rpc_errors
from graphmesh.internal.v1 import item_store_service_pb2 as pb
from graphmesh.internal.v1 import item_store_service_pb2_grpc as pb_grpc
from graphmesh.store import ItemSearch, ItemStore, Namespace, NamespaceListing, StoredItem
from graphmesh.v1 import store_service_pb2 as public_pb


def item_to_proto(item: StoredItem) -> public_pb.StoreItem:
    """An item as the APIs carry it."""
    message = public_pb.StoreItem(
        namespace=list(item.namespace),
        key=item.key,
        value_json=json.dumps(dict(item.value), separators=(",", ":"), ensure_ascii=False),
    )
    message.created_at.FromDatetime(item.created_at)
    message.updated_at.FromDatetime(item.updated_at)
    if item.score is not None:
        message.score = item.score
    return message


def item_from_proto(message: public_pb.StoreItem) -> StoredItem:
    """The inverse of `item_to_proto`."""
    return StoredItem(
        namespace=tuple(message.namespace),
        key=message.key,
        value=json.loads(message.value_json),
        created_at=message.created_at.ToDatetime(tzinfo=UTC),
        updated_at=message.updated_at.ToDatetime(tzinfo=UTC),
        score=message.score if message.HasField("score") else None,
    )


class RemoteItems(ItemStore):
    """The checkpoint service's items; reads are retried while it is
    unavailable, writes are not (the caller decides)."""

    def __init__(self, stub: pb_grpc.ItemStoreServiceStub) -> None:
        self._stub = stub

    async def put(
        self,
        tenant: str,
        namespace: Namespace,
        key: str,
        value: Mapping[str, Any],
        *,
        ttl_minutes: float | None = None,
        vectors: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        request = pb.PutStoreItemRequest(
            tenant=tenant,
            namespace=list(namespace),
            key=key,
            value_json=json.dumps(dict(value), separators=(",", ":"), ensure_ascii=False),
            vectors=[pb.FieldVector(field=f, values=list(v)) for f, v in (vectors or {}).items()],
        )
        if ttl_minutes is not None:
            request.ttl_minutes = ttl_minutes
        with translated_rpc_errors("storing an item"):
            await self._stub.PutStoreItem(request)

    async def delete(self, tenant: str, namespace: Namespace, key: str) -> None:
        request = pb.DeleteStoreItemRequest(tenant=tenant, namespace=list(namespace), key=key)
        with translated_rpc_errors("deleting an item"):
            await self._stub.DeleteStoreItem(request)

    async def get(
        self, tenant: str, namespace: Namespace, key: str, *, refresh_ttl: bool = True
    ) -> StoredItem | None:
        request = pb.GetStoreItemRequest(
            tenant=tenant, namespace=list(namespace), key=key, refresh_ttl=refresh_ttl
        )
        answer = await call_patiently(lambda: self._stub.GetStoreItem(request), "reading an item")
        return item_from_proto(answer.item) if answer.found else None

    async def search(self, tenant: str, search: ItemSearch) -> list[StoredItem]:
        request = pb.SearchStoreItemsRequest(
            tenant=tenant,
            namespace_prefix=list(search.prefix),
            filter_json=json.dumps(dict(search.filter)) if search.filter else "",
            limit=search.limit,
            offset=search.offset,
            query_vector=list(search.query_vector or []),
            ranked=search.query_vector is not None,
            refresh_ttl=search.refresh_ttl,
        )
        answer = await call_patiently(
            lambda: self._stub.SearchStoreItems(request), "searching items"
        )
        return [item_from_proto(i) for i in answer.items]

    async def list_namespaces(self, tenant: str, listing: NamespaceListing) -> list[Namespace]:
        request = pb.ListStoreNamespacesRequest(
            tenant=tenant,
            prefix=list(listing.prefix),
            suffix=list(listing.suffix),
            max_depth=listing.max_depth or 0,
            limit=listing.limit,
            offset=listing.offset,
        )
        answer = await call_patiently(
            lambda: self._stub.ListStoreNamespaces(request), "listing namespaces"
        )
        return [tuple(n.labels) for n in answer.namespaces]

    async def sweep(self) -> int:
        raise NotImplementedError("the checkpoint service sweeps its own items")
