"""Database helpers: engines, raw listener connections, driver errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from graphmesh.errors import Unavailable

#: Channel on which the event store announces committed appends; the payload
#: lists the run ids that got events (comma-separated).
EVENTS_CHANNEL = "graphmesh_events"


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """Where PostgreSQL is and how big the pool is."""

    url: str
    pool_size: int = 10

    @property
    def asyncpg_dsn(self) -> str:
        """The URL as a plain libpq DSN for asyncpg."""
        return self.url.replace("postgresql+asyncpg://", "postgresql://", 1)


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """An async engine over asyncpg."""
    return create_async_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=False,  # translate_errors turns a dead connection into Unavailable
    )


@asynccontextmanager
async def translate_errors(what: str) -> AsyncIterator[None]:
    """Turns driver connection errors into `Unavailable`."""
    try:
        yield
    except (OperationalError, OSError, asyncpg.exceptions.ConnectionDoesNotExistError) as exc:
        raise Unavailable(
            f"database unavailable during {what}: {exc}", reason="DATABASE_UNAVAILABLE"
        ) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise Unavailable(
                f"database connection lost during {what}", reason="DATABASE_UNAVAILABLE"
            ) from exc
        raise


@asynccontextmanager
async def driver_connection(engine: AsyncEngine, what: str) -> AsyncIterator[Any]:
    """A pooled connection's asyncpg driver connection, for hot statements
    written in SQL (SQLAlchemy still owns the pool and the schema)."""
    async with translate_errors(what), engine.connect() as conn:
        raw = await conn.get_raw_connection()
        yield raw.driver_connection


async def connect_listener(settings: DatabaseSettings) -> Any:
    """A raw asyncpg connection for LISTEN (SQLAlchemy pools do not fit it)."""
    return await asyncpg.connect(settings.asyncpg_dsn)
