"""Items in PostgreSQL (migration 0011): `store_items` holds each item,
`store_vectors` the embeddings of its indexed fields.

A namespace is stored as its labels joined by "." (which labels cannot
hold), so a prefix search is a range on the item's primary key. A filter is
applied as LangGraph's `InMemoryStore` applies it (`filters.matches`), after
the namespace range; a semantic search ranks by cosine similarity over
every vector under the prefix (an exact scan, so no approximate index can
change an answer): with pgvector's `<=>` where the database has the
extension (migration 0012), else computed in plain SQL."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh.db import driver_connection
from graphmesh.store import (
    ItemSearch,
    ItemStore,
    Namespace,
    NamespaceListing,
    StoredItem,
    namespace_of,
    namespace_text,
)
from graphmesh.store.filters import matches

_PUT = """
INSERT INTO store_items (tenant, prefix, key, value, created_at, updated_at, expires_at,
                         ttl_minutes)
VALUES ($1, $2, $3, $4::jsonb, $5, $5, $6, $7)
ON CONFLICT (tenant, prefix, key) DO UPDATE SET
    value = EXCLUDED.value, updated_at = EXCLUDED.updated_at,
    expires_at = EXCLUDED.expires_at, ttl_minutes = EXCLUDED.ttl_minutes
"""
_COLUMNS = "prefix, key, value::text AS value, created_at, updated_at, ttl_minutes"
_LIVE = "(expires_at IS NULL OR expires_at > now())"
# The whole tenant ($2 = ''), or the namespace and those under it (a range:
# the column's collation is "C", byte order).
_UNDER = "($2 = '' OR prefix = $2 OR (prefix >= $3 AND prefix < $4))"
_REFRESH = f"""
UPDATE store_items SET expires_at = now() + make_interval(secs => ttl_minutes * 60)
WHERE tenant = $1 AND (prefix, key) IN (SELECT * FROM unnest($2::text[], $3::text[]))
  AND ttl_minutes IS NOT NULL AND {_LIVE}
"""


# Cosine similarity of a stored embedding and the query ($5), NULL for a
# zero vector: by pgvector (1 - cosine distance), or in plain SQL.
_PGVECTOR_COSINE = (
    "CASE WHEN (v.embedding::vector <=> $5::float8[]::vector) = 'NaN'::float8 THEN NULL"
    " ELSE 1 - (v.embedding::vector <=> $5::float8[]::vector) END"
)
_SQL_COSINE = """(SELECT sum(a * b) FROM unnest(v.embedding, $5::float8[]) AS t(a, b))
    / NULLIF(
        sqrt((SELECT sum(a * a) FROM unnest(v.embedding) AS t(a)))
        * sqrt((SELECT sum(b * b) FROM unnest($5::float8[]) AS t(b))), 0)"""


def _range(prefix: Namespace) -> tuple[str, str, str]:
    """Stored prefixes equal to `prefix` or under it: (exact, from, to)."""
    if not prefix:
        return "", "", ""
    text = namespace_text(prefix)
    # Labels under it start with "text." ; "." + 1 is "/".
    return text, text + ".", text + "/"


def _item(row: Any, score: float | None = None) -> StoredItem:
    return StoredItem(
        namespace=namespace_of(row["prefix"]),
        key=row["key"],
        value=json.loads(row["value"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        score=score,
    )


class PostgresItems(ItemStore):
    """Items in `engine`'s database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pgvector: bool | None = None

    async def uses_pgvector(self) -> bool:
        """True if similarity is computed by pgvector (looked up once)."""
        if self._pgvector is None:
            async with self._driver("store_pgvector") as conn:
                self._pgvector = bool(
                    await conn.fetchval(
                        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')"
                    )
                )
        return self._pgvector

    def _driver(self, what: str) -> AbstractAsyncContextManager[Any]:
        return driver_connection(self._engine, what)

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
        now = datetime.now(UTC)
        expires = now + timedelta(minutes=ttl_minutes) if ttl_minutes is not None else None
        prefix = namespace_text(namespace)
        async with self._driver("store_put") as conn, conn.transaction():
            await conn.execute(
                _PUT, tenant, prefix, key, json.dumps(dict(value)), now, expires, ttl_minutes
            )
            await conn.execute(
                "DELETE FROM store_vectors WHERE tenant = $1 AND prefix = $2 AND key = $3",
                tenant,
                prefix,
                key,
            )
            if vectors:
                await conn.executemany(
                    "INSERT INTO store_vectors (tenant, prefix, key, field, embedding)"
                    " VALUES ($1, $2, $3, $4, $5::float8[])",
                    [(tenant, prefix, key, f, list(v)) for f, v in vectors.items()],
                )

    async def delete(self, tenant: str, namespace: Namespace, key: str) -> None:
        prefix = namespace_text(namespace)
        async with self._driver("store_delete") as conn, conn.transaction():
            for table in ("store_vectors", "store_items"):
                await conn.execute(
                    f"DELETE FROM {table} WHERE tenant = $1 AND prefix = $2 AND key = $3",
                    tenant,
                    prefix,
                    key,
                )

    async def get(
        self, tenant: str, namespace: Namespace, key: str, *, refresh_ttl: bool = True
    ) -> StoredItem | None:
        prefix = namespace_text(namespace)
        async with self._driver("store_get") as conn:
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM store_items"
                f" WHERE tenant = $1 AND prefix = $2 AND key = $3 AND {_LIVE}",
                tenant,
                prefix,
                key,
            )
            if row is not None and refresh_ttl and row["ttl_minutes"] is not None:
                await conn.execute(_REFRESH, tenant, [prefix], [key])
        return _item(row) if row is not None else None

    async def search(self, tenant: str, search: ItemSearch) -> list[StoredItem]:
        exact, low, high = _range(search.prefix)
        async with self._driver("store_search") as conn:
            if search.query_vector is not None:
                found = await self._ranked(conn, tenant, search, exact, low, high)
            else:
                rows = await conn.fetch(
                    f"SELECT {_COLUMNS} FROM store_items WHERE tenant = $1 AND {_UNDER}"
                    f" AND {_LIVE} ORDER BY updated_at DESC, prefix, key",
                    tenant,
                    exact,
                    low,
                    high,
                )
                items = [_item(r) for r in rows]
                kept = [i for i in items if matches(i.value, search.filter)]
                found = kept[search.offset : search.offset + search.limit]
            if search.refresh_ttl and found:
                await conn.execute(
                    _REFRESH,
                    tenant,
                    [namespace_text(i.namespace) for i in found],
                    [i.key for i in found],
                )
        return found

    async def _ranked(
        self, conn: Any, tenant: str, search: ItemSearch, exact: str, low: str, high: str
    ) -> list[StoredItem]:
        """Items ranked by their best field's cosine similarity to the query;
        items without vectors follow, unscored (as LangGraph's stores do).
        Equal scores keep the order items were first stored in, as
        `InMemoryStore`'s stable sort does."""
        similarity = _PGVECTOR_COSINE if await self.uses_pgvector() else _SQL_COSINE
        rows = await conn.fetch(
            f"""
            SELECT {_COLUMNS}, (
                SELECT max({similarity})
                FROM store_vectors v
                WHERE v.tenant = i.tenant AND v.prefix = i.prefix AND v.key = i.key
            ) AS score
            FROM store_items i WHERE tenant = $1 AND {_UNDER} AND {_LIVE}
            ORDER BY score DESC NULLS LAST, created_at, prefix, key
            """,
            tenant,
            exact,
            low,
            high,
            list(search.query_vector or []),
        )
        items = [_item(r, r["score"]) for r in rows]
        kept = [i for i in items if matches(i.value, search.filter)]
        return kept[search.offset : search.offset + search.limit]

    async def list_namespaces(self, tenant: str, listing: NamespaceListing) -> list[Namespace]:
        exact, low, high = _range(listing.prefix if "*" not in listing.prefix else ())
        async with self._driver("store_list_namespaces") as conn:
            rows = await conn.fetch(
                f"SELECT DISTINCT prefix FROM store_items WHERE tenant = $1 AND {_UNDER}"
                f" AND {_LIVE}",
                tenant,
                exact,
                low,
                high,
            )
        spaces = [namespace_of(r["prefix"]) for r in rows]
        spaces = [
            s
            for s in spaces
            if _matches_path(s, listing.prefix, from_end=False)
            and _matches_path(s, listing.suffix, from_end=True)
        ]
        if listing.max_depth is not None:
            spaces = list({s[: listing.max_depth] for s in spaces})
        return sorted(spaces)[listing.offset : listing.offset + listing.limit]

    async def sweep(self) -> int:
        async with self._driver("store_sweep") as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM store_vectors v USING store_items i WHERE v.tenant = i.tenant"
                " AND v.prefix = i.prefix AND v.key = i.key AND i.expires_at <= now()"
            )
            status = await conn.execute("DELETE FROM store_items WHERE expires_at <= now()")
        return int(status.split()[-1])


def _matches_path(namespace: Namespace, path: Namespace, *, from_end: bool) -> bool:
    """LangGraph's namespace match: `path` labels equal the namespace's
    first (or last) labels, `*` matching any."""
    if len(namespace) < len(path):
        return False
    labels, wanted = (namespace[::-1], path[::-1]) if from_end else (namespace, path)
    return all(p in ("*", n) for n, p in zip(labels, wanted, strict=False))
