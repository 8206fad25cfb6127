"""The migrations and `graphmesh.schema` describe the same tables."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from graphmesh.migrations import alembic_config
from graphmesh.schema import metadata
from graphmesh.tenancy import tenant_sql
from graphmesh.testing.infra.postgres import PrivatePostgres

#: The expression indexes of migration 0007 (the tenant of a thread id).
TENANT_INDEXES = {
    "run_views_tenant_created_idx",
    "run_views_tenant_active_idx",
    "threads_tenant_updated_idx",
}


async def test_migrated_database_matches_the_schema_module(
    postgres: PrivatePostgres, template_db: str
) -> None:
    engine = create_async_engine(postgres.url(template_db))

    def compared(obj: Any, name: Any, type_: str, reflected: bool, compare_to: Any) -> bool:
        # PostgreSQL rewrites an expression index's text when it stores it
        # (casts, parentheses), so alembic cannot match them: they are
        # checked on their own below.
        return not (type_ == "index" and name in TENANT_INDEXES)

    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"include_object": compared})
        return list(compare_metadata(context, metadata))

    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []
    indexes = postgres.query(
        "SELECT indexname || ' ' || replace(indexdef, chr(10), ' ') FROM pg_indexes"
        " WHERE indexname LIKE '%tenant%'",
        database=template_db,
    )
    found = {line.split()[0]: line for line in indexes.splitlines() if line.strip()}
    assert set(found) == TENANT_INDEXES
    assert all("split_part(thread_id" in d and "strpos(thread_id" in d for d in found.values())
    # The listing's own expression (tenant_sql, verbatim) can use the index.
    plan = postgres.query(
        "SET enable_seqscan = off; EXPLAIN SELECT run_id FROM run_views"
        f" WHERE {tenant_sql('thread_id')} = 'acme' ORDER BY created_at DESC, run_id DESC LIMIT 5",
        database=template_db,
    )
    assert "run_views_tenant_created_idx" in plan, plan


def test_migrations_have_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://unused/db"))
    assert len(script.get_heads()) == 1
