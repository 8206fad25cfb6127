"""The migrations and `graphmesh.schema` describe the same tables."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from graphmesh.migrations import alembic_config
from graphmesh.schema import metadata
from graphmesh.stack import LocalStack


async def test_migrated_database_matches_the_schema_module(
    stack: LocalStack, template_db: str
) -> None:
    engine = create_async_engine(stack.postgres.url(template_db))

    def diff(connection: Any) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []


def test_migrations_have_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://unused/db"))
    assert len(script.get_heads()) == 1
