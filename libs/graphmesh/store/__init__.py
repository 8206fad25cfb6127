"""The long-term memory store (LangGraph's `BaseStore`), per tenant.

Items are JSON objects under a namespace (a tuple of labels) and a key.
`ItemStore` is where they are kept: PostgreSQL in the checkpoint service
(`postgres.PostgresItems`), reached over its internal API by the executors
and the gateways (`remote.RemoteItems`). `langgraph.GraphmeshStore` is the
`BaseStore` a graph gets (`get_store()`, `InjectedStore`, `runtime.store`):
it checks namespaces as LangGraph does, computes embeddings for semantic
search (the embedding function is user code: it runs in the executor or
gateway, never in the checkpoint service) and turns LangGraph's operations
into `ItemStore` calls. tests/contract/test_store.py gives every `ItemStore`
and LangGraph's `InMemoryStore` the same operations and compares answers.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Joins a namespace's labels in storage; LangGraph refuses it in a label.
NAMESPACE_SEPARATOR = "."

Namespace = tuple[str, ...]


def namespace_text(namespace: Sequence[str]) -> str:
    """A namespace as stored."""
    return NAMESPACE_SEPARATOR.join(namespace)


def namespace_of(text: str) -> Namespace:
    """The inverse of `namespace_text`."""
    return tuple(text.split(NAMESPACE_SEPARATOR))


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as stored; `score` is set by a semantic search."""

    namespace: Namespace
    key: str
    value: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime
    score: float | None = None


@dataclass(frozen=True, slots=True)
class ItemSearch:
    """A search: items under `prefix`, whose value matches `filter`
    (LangGraph's filter: equality, nested objects, `$eq`/`$ne`/`$gt`/`$gte`/
    `$lt`/`$lte`), ranked by similarity to `query_vector` when it is given
    (else most recently updated first), `offset` skipped, `limit` kept."""

    prefix: Namespace = ()
    filter: Mapping[str, Any] = field(default_factory=dict)
    limit: int = 10
    offset: int = 0
    query_vector: Sequence[float] | None = None
    refresh_ttl: bool = True


@dataclass(frozen=True, slots=True)
class NamespaceListing:
    """Which namespaces to list: those starting with `prefix` and ending
    with `suffix` (`*` matches any label), cut to `max_depth` labels."""

    prefix: Namespace = ()
    suffix: Namespace = ()
    max_depth: int | None = None
    limit: int = 100
    offset: int = 0


class ItemStore(abc.ABC):
    """Where items are kept, for every tenant."""

    @abc.abstractmethod
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
        """Stores (or replaces) an item, durably before it returns; `vectors`
        (field path: embedding) replace the item's old ones."""

    @abc.abstractmethod
    async def delete(self, tenant: str, namespace: Namespace, key: str) -> None:
        """Removes an item (nothing if there is none)."""

    @abc.abstractmethod
    async def get(
        self, tenant: str, namespace: Namespace, key: str, *, refresh_ttl: bool = True
    ) -> StoredItem | None:
        """The item, if it exists and has not expired; its time to live
        starts again when `refresh_ttl`."""

    @abc.abstractmethod
    async def search(self, tenant: str, search: ItemSearch) -> list[StoredItem]:
        """Items as `search` says."""

    @abc.abstractmethod
    async def list_namespaces(self, tenant: str, listing: NamespaceListing) -> list[Namespace]:
        """Namespaces holding items, sorted."""

    @abc.abstractmethod
    async def sweep(self) -> int:
        """Removes expired items; how many."""
