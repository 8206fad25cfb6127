"""Assistants in PostgreSQL (migration 0009): every version in
`assistant_versions`, each assistant's latest in `assistants`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh.assistants import (
    SHARED_TENANT,
    Assistant,
    AssistantPatch,
    AssistantQuery,
    AssistantSpec,
    AssistantStore,
    assistant_not_found,
)
from graphmesh.db import SqlArgs, driver_connection
from graphmesh.errors import AlreadyExists, FailedPrecondition, NotFound

_SPEC_COLUMNS = (
    "graph_id, name, description, config::text AS config, context::text AS context,"
    " metadata::text AS metadata"
)
_LATEST = (
    f"SELECT tenant, assistant_id, version, created_at, updated_at, {_SPEC_COLUMNS} FROM assistants"
)

# A tenant's own assistant or a shared one (the shared one first, should a
# tenant have taken a graph's default id before the graph was registered).
_BY_ID = (
    f"{_LATEST} WHERE assistant_id = $1 AND tenant IN ($2, '{SHARED_TENANT}')"
    f" ORDER BY tenant = '{SHARED_TENANT}' DESC LIMIT 1"
)

_INSERT_LATEST = """
INSERT INTO assistants (tenant, assistant_id, version, graph_id, name, description, config,
                        context, metadata, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10, $10)
"""
_INSERT_VERSION = """
INSERT INTO assistant_versions (tenant, assistant_id, version, graph_id, name, description, config,
                                context, metadata, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10)
ON CONFLICT DO NOTHING
"""
_SET_LATEST = """
UPDATE assistants SET version = $3, graph_id = $4, name = $5, description = $6, config = $7::jsonb,
    context = $8::jsonb, metadata = $9::jsonb, updated_at = $10
WHERE tenant = $1 AND assistant_id = $2
"""


def _spec_args(spec: AssistantSpec) -> list[Any]:
    return [
        spec.graph_id,
        spec.name,
        spec.description,
        json.dumps(dict(spec.config)),
        None if spec.context is None else json.dumps(spec.context),
        json.dumps(dict(spec.metadata)),
    ]


def _from_row(row: Any, updated_at: datetime | None = None) -> Assistant:
    context = row["context"]
    return Assistant(
        assistant_id=row["assistant_id"],
        spec=AssistantSpec(
            graph_id=row["graph_id"],
            name=row["name"],
            description=row["description"],
            config=json.loads(row["config"]),
            context=None if context is None else json.loads(context),
            metadata=json.loads(row["metadata"]),
        ),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=updated_at or row["updated_at"],
        shared=row["tenant"] == SHARED_TENANT,
    )


def _is_default(assistant_id: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"assistant {assistant_id!r} is a graph's default assistant, which cannot be changed;"
        " create an assistant of the graph instead",
        reason="ASSISTANT_IS_DEFAULT",
        field="assistant_id",
    )


def _filters(tenant: str, query: AssistantQuery, args: SqlArgs) -> list[str]:
    clauses = [f"tenant IN ({args(tenant)}, '{SHARED_TENANT}')"]
    if query.graph_id:
        clauses.append(f"graph_id = {args(query.graph_id)}")
    if query.metadata:
        clauses.append(f"metadata @> {args(json.dumps(dict(query.metadata)))}::jsonb")
    if query.name:
        escaped = query.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(f"name ILIKE {args('%' + escaped + '%')}")
    return clauses


class PostgresAssistants(AssistantStore):
    """Assistants in `engine`'s database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def _driver(self, what: str) -> AbstractAsyncContextManager[Any]:
        return driver_connection(self._engine, what)

    async def create(
        self, tenant: str, assistant_id: str, spec: AssistantSpec, *, if_exists_return: bool
    ) -> tuple[Assistant, bool]:
        now = datetime.now(UTC)
        async with self._driver("create_assistant") as conn, conn.transaction():
            # One creator per id at a time (an advisory lock on the id: the
            # row to lock does not exist yet).
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", assistant_id)
            existing = await conn.fetchrow(_BY_ID, assistant_id, tenant)
            if existing is not None:
                if if_exists_return:
                    return _from_row(existing), False
                raise AlreadyExists(
                    f"assistant {assistant_id!r} exists already",
                    reason="ASSISTANT_EXISTS",
                    field="assistant_id",
                )
            args = [tenant, assistant_id, 1, *_spec_args(spec), now]
            await conn.execute(_INSERT_LATEST, *args)
            await conn.execute(_INSERT_VERSION, *args)
            row = await conn.fetchrow(
                f"{_LATEST} WHERE tenant = $1 AND assistant_id = $2", tenant, assistant_id
            )
            return _from_row(row), True

    async def ensure_defaults(self, specs: Mapping[str, AssistantSpec]) -> None:
        now = datetime.now(UTC)
        async with self._driver("ensure_default_assistants") as conn, conn.transaction():
            for assistant_id, spec in sorted(specs.items()):
                args = [SHARED_TENANT, assistant_id, 1, *_spec_args(spec), now]
                await conn.execute(_INSERT_LATEST + " ON CONFLICT DO NOTHING", *args)
                await conn.execute(_INSERT_VERSION, *args)
                # The registry may have renamed the graph's assistant.
                await conn.execute(
                    "UPDATE assistants SET name = $3, description = $4"
                    " WHERE tenant = $1 AND assistant_id = $2"
                    " AND (name <> $3 OR description <> $4)",
                    SHARED_TENANT,
                    assistant_id,
                    spec.name,
                    spec.description,
                )

    async def get(self, tenant: str, assistant_id: str) -> Assistant:
        async with self._driver("get_assistant") as conn:
            row = await conn.fetchrow(_BY_ID, assistant_id, tenant)
        if row is None:
            raise assistant_not_found(assistant_id)
        return _from_row(row)

    async def _own_latest(self, conn: Any, tenant: str, assistant_id: str) -> Assistant:
        """The tenant's own assistant, its row locked."""
        row = await conn.fetchrow(_BY_ID + " FOR UPDATE", assistant_id, tenant)
        if row is None:
            raise assistant_not_found(assistant_id)
        if row["tenant"] == SHARED_TENANT and tenant != SHARED_TENANT:
            raise _is_default(assistant_id)
        return _from_row(row)

    async def update(self, tenant: str, assistant_id: str, patch: AssistantPatch) -> Assistant:
        now = datetime.now(UTC)
        async with self._driver("update_assistant") as conn, conn.transaction():
            latest = await self._own_latest(conn, tenant, assistant_id)
            version = 1 + await conn.fetchval(
                "SELECT max(version) FROM assistant_versions WHERE tenant = $1"
                " AND assistant_id = $2",
                tenant,
                assistant_id,
            )
            spec = patch.apply(latest.spec)
            args = [tenant, assistant_id, version, *_spec_args(spec), now]
            await conn.execute(_INSERT_VERSION, *args)
            await conn.execute(_SET_LATEST, *args)
            return Assistant(assistant_id, spec, version, latest.created_at, now)

    async def delete(self, tenant: str, assistant_id: str) -> None:
        async with self._driver("delete_assistant") as conn, conn.transaction():
            await self._own_latest(conn, tenant, assistant_id)
            for table in ("assistant_versions", "assistants"):
                await conn.execute(
                    f"DELETE FROM {table} WHERE tenant = $1 AND assistant_id = $2",
                    tenant,
                    assistant_id,
                )

    async def search(self, tenant: str, query: AssistantQuery) -> list[Assistant]:
        args = SqlArgs()
        clauses = _filters(tenant, query, args)
        if query.before is not None:
            created_at, before_id = query.before
            clauses.append(f"(created_at, assistant_id) < ({args(created_at)}, {args(before_id)})")
        statement = (
            f"{_LATEST} WHERE {' AND '.join(clauses)}"
            f" ORDER BY created_at DESC, assistant_id DESC LIMIT {args(query.limit)}"
        )
        async with self._driver("search_assistants") as conn:
            return [_from_row(r) for r in await conn.fetch(statement, *args.values)]

    async def count(self, tenant: str, query: AssistantQuery) -> int:
        args = SqlArgs()
        where = " AND ".join(_filters(tenant, query, args))
        statement = f"SELECT count(*) FROM assistants WHERE {where}"
        async with self._driver("count_assistants") as conn:
            return int(await conn.fetchval(statement, *args.values))

    async def versions(
        self,
        tenant: str,
        assistant_id: str,
        metadata: Mapping[str, Any],
        limit: int,
        before_version: int = 0,
    ) -> list[Assistant]:
        latest = await self.get(tenant, assistant_id)
        owner = SHARED_TENANT if latest.shared else tenant
        args = SqlArgs()
        clauses = [f"tenant = {args(owner)}", f"assistant_id = {args(assistant_id)}"]
        if metadata:
            clauses.append(f"metadata @> {args(json.dumps(dict(metadata)))}::jsonb")
        if before_version:
            clauses.append(f"version < {args(before_version)}")
        statement = (
            f"SELECT tenant, assistant_id, version, created_at, created_at AS updated_at,"
            f" {_SPEC_COLUMNS} FROM assistant_versions WHERE {' AND '.join(clauses)}"
            f" ORDER BY version DESC LIMIT {args(limit)}"
        )
        async with self._driver("list_assistant_versions") as conn:
            rows = await conn.fetch(statement, *args.values)
        return [
            Assistant(
                r["assistant_id"],
                _from_row(r).spec,
                r["version"],
                latest.created_at,
                r["updated_at"],
                latest.shared,
            )
            for r in rows
        ]

    async def set_latest(self, tenant: str, assistant_id: str, version: int) -> Assistant:
        now = datetime.now(UTC)
        async with self._driver("set_latest_assistant_version") as conn, conn.transaction():
            latest = await self._own_latest(conn, tenant, assistant_id)
            row = await conn.fetchrow(
                f"SELECT tenant, assistant_id, version, created_at, created_at AS updated_at,"
                f" {_SPEC_COLUMNS} FROM assistant_versions"
                " WHERE tenant = $1 AND assistant_id = $2 AND version = $3",
                tenant,
                assistant_id,
                version,
            )
            if row is None:
                raise NotFound(
                    f"assistant {assistant_id!r} has no version {version}",
                    reason="ASSISTANT_VERSION_NOT_FOUND",
                    field="version",
                )
            spec = _from_row(row).spec
            await conn.execute(_SET_LATEST, tenant, assistant_id, version, *_spec_args(spec), now)
            return Assistant(assistant_id, spec, version, latest.created_at, now)
