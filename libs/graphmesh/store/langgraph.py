"""`GraphmeshStore`: LangGraph's `BaseStore` over an `ItemStore`, for one
tenant. Graphs get it as LangGraph Server gives its store (`get_store()`,
`InjectedStore`, `runtime.store`); the gateway's StoreService uses it too,
so both check and embed the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    ensure_embeddings,
    get_text_at_path,
    tokenize_path,
    validate_op_namespace,
)

from graphmesh.store import ItemSearch, ItemStore, NamespaceListing, StoredItem


def _item(stored: StoredItem) -> Item:
    return Item(
        value=dict(stored.value),
        key=stored.key,
        namespace=stored.namespace,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
    )


def _search_item(stored: StoredItem) -> SearchItem:
    return SearchItem(
        namespace=stored.namespace,
        key=stored.key,
        value=dict(stored.value),
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        score=stored.score,
    )


class GraphmeshStore(BaseStore):
    """One tenant's items, as LangGraph's store. `index` (LangGraph's
    `IndexConfig`: `embed`, `dims`, `fields`) turns on semantic search;
    `ttl` (LangGraph's `TTLConfig`) sets the default time to live and
    whether reads refresh it. Sync methods (a sync node's `store.get`) run
    on the event loop the store was first used on."""

    supports_ttl = True

    def __init__(
        self,
        items: ItemStore,
        tenant: str,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._items = items
        self._tenant = tenant
        self.index_config = dict(index) if index else None  # type: ignore[assignment]
        self.embeddings = ensure_embeddings(index["embed"]) if index else None
        self._fields = [
            (path, tokenize_path(path) if path != "$" else path)
            for path in ((index or {}).get("fields") or ["$"])
        ]
        self.ttl_config = ttl
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None  # made outside a loop: it is set by the first async call
        self._loop = loop

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        loop = self._loop
        if loop is None or not loop.is_running():
            return asyncio.run(self.abatch(ops))
        if _on(loop):
            raise RuntimeError(
                "the store's sync methods cannot run on its event loop; use the async"
                " ones (aget, aput, asearch...) in async code"
            )
        return asyncio.run_coroutine_threadsafe(self.abatch(list(ops)), loop).result()

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        results: list[Result] = []
        for op in ops:
            validate_op_namespace(op)
            results.append(await self._apply(op))
        return results

    async def _apply(self, op: Op) -> Result:
        if isinstance(op, GetOp):
            stored = await self._items.get(
                self._tenant, op.namespace, op.key, refresh_ttl=op.refresh_ttl
            )
            return _item(stored) if stored is not None else None
        if isinstance(op, PutOp):
            if op.value is None:
                await self._items.delete(self._tenant, op.namespace, op.key)
                return None
            await self._items.put(
                self._tenant,
                op.namespace,
                op.key,
                op.value,
                ttl_minutes=op.ttl,
                vectors=await self._vectors(op.value, op.index),
            )
            return None
        if isinstance(op, SearchOp):
            vector = None
            if op.query and self.embeddings is not None:
                vector = await self.embeddings.aembed_query(op.query)
            found = await self._items.search(
                self._tenant,
                ItemSearch(
                    prefix=op.namespace_prefix,
                    filter=op.filter or {},
                    limit=op.limit,
                    offset=op.offset,
                    query_vector=vector,
                    refresh_ttl=op.refresh_ttl,
                ),
            )
            return [_search_item(s) for s in found]
        if isinstance(op, ListNamespacesOp):
            prefix: tuple[str, ...] = ()
            suffix: tuple[str, ...] = ()
            for condition in op.match_conditions or ():
                if condition.match_type == "prefix":
                    prefix = tuple(condition.path)
                else:
                    suffix = tuple(condition.path)
            return await self._items.list_namespaces(
                self._tenant,
                NamespaceListing(prefix, suffix, op.max_depth, op.limit, op.offset),
            )
        raise ValueError(f"unknown store operation {type(op).__name__}")

    async def _vectors(
        self, value: Mapping[str, Any], index: Sequence[str] | bool | None
    ) -> dict[str, list[float]] | None:
        """Embeddings of the value's indexed fields (LangGraph's rules: the
        index's fields, or the put's own; none with index=False)."""
        if self.embeddings is None or index is False:
            return None
        fields = (
            self._fields
            if index is None or index is True
            else [(p, tokenize_path(p)) for p in index]
        )
        texts: list[str] = []
        paths: list[str] = []
        for path, tokens in fields:
            found = get_text_at_path(value, tokens)
            for i, text in enumerate(found):
                texts.append(text)
                paths.append(f"{path}.{i}" if len(found) > 1 else path)
        if not texts:
            return None
        embedded = await self.embeddings.aembed_documents(texts)
        return {p: list(v) for p, v in zip(paths, embedded, strict=True)}


def _on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
