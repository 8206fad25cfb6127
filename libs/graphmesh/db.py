"""Database helpers: engines, raw listener connections, driver errors."""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from graphmesh.errors import Unavailable

#: Channel on which the event store announces committed appends; the payload
#: lists the run ids that got events, comma-separated, each followed by "!"
#: if the run ended or "+" if it was created.
EVENTS_CHANNEL = "graphmesh_events"
#: NOTIFY channel for cancellation requests: "executor_id run_id action".
CANCELS_CHANNEL = "graphmesh_cancels"


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """Where PostgreSQL is and how big the pool is."""

    url: str = field(repr=False)  # may hold a password
    pool_size: int = 30
    #: The password, when kept out of the URL.
    password: str | None = field(default=None, repr=False)
    #: "" (the URL's own ssl= parameter, if any), disable, require,
    #: verify-ca or verify-full.
    sslmode: str = ""
    ssl_ca_file: str | None = None
    ssl_cert_file: str | None = None
    ssl_key_file: str | None = None

    def connect_args(self) -> dict[str, Any]:
        """asyncpg's connect() arguments for the password and TLS settings."""
        args: dict[str, Any] = {}
        if self.password is not None:
            args["password"] = self.password
        if self.sslmode == "disable":
            args["ssl"] = False
        elif self.sslmode:
            context = ssl.create_default_context(cafile=self.ssl_ca_file)
            context.check_hostname = self.sslmode == "verify-full"
            if self.sslmode == "require":
                context.verify_mode = ssl.CERT_NONE
            if self.ssl_cert_file:
                context.load_cert_chain(self.ssl_cert_file, self.ssl_key_file)
            args["ssl"] = context
        return args

    @property
    def asyncpg_dsn(self) -> str:
        """The URL as a plain libpq DSN for asyncpg (SQLAlchemy's `ssl=`
        query parameter is libpq's `sslmode=`)."""
        parts = urlsplit(self.url.replace("postgresql+asyncpg://", "postgresql://", 1))
        query = [("sslmode" if k == "ssl" else k, v) for k, v in parse_qsl(parts.query)]
        return urlunsplit(parts._replace(query=urlencode(query)))


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """An async engine over asyncpg."""
    return create_async_engine(
        settings.url,
        connect_args=settings.connect_args(),
        # Connections past the pool size are opened and closed per use, which
        # under load costs more than the queries: size the pool for the peak.
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size // 2,
        pool_pre_ping=False,  # translate_errors turns a dead connection into Unavailable
    )


#: What the driver raises while PostgreSQL is away, shutting down or starting:
#: class 08 (connection exceptions), 57P01-57P03 (shutdown, cannot connect
#: now) and a connection closed under a call.
_CONNECTION_ERRORS = (
    OperationalError,
    OSError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    # A connection the server dropped mid-operation can be left in a state
    # the driver refuses ("another operation is in progress").
    asyncpg.exceptions.InternalClientError,
)


@asynccontextmanager
async def translate_errors(what: str) -> AsyncIterator[None]:
    """Turns driver connection errors into `Unavailable`."""
    try:
        yield
    except _CONNECTION_ERRORS as exc:
        raise Unavailable(
            f"database unavailable during {what}: {exc}", reason="DATABASE_UNAVAILABLE"
        ) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated or _is_connection_error(exc):
            raise Unavailable(
                f"database unavailable during {what}: {exc.orig or exc}",
                reason="DATABASE_UNAVAILABLE",
            ) from exc
        raise


#: SQLSTATEs of a server that is away, shutting down or starting up: class 08
#: (connection exceptions) and 57P01-57P03.
_CONNECTION_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def _is_connection_error(exc: BaseException) -> bool:
    """True if a wrapped driver error says the server is away: SQLAlchemy
    wraps what asyncpg raises while opening a pooled connection (such as
    "the database system is starting up", 57P03) in a plain DBAPIError."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if error is not exc and isinstance(error, _CONNECTION_ERRORS):
            return True
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_CONNECTION_SQLSTATES):
            return True
        pending += [getattr(error, "orig", None), error.__cause__, error.__context__]
    return False


@asynccontextmanager
async def driver_connection(engine: AsyncEngine, what: str) -> AsyncIterator[Any]:
    """A pooled connection's asyncpg driver connection, for hot statements
    written in SQL (SQLAlchemy still owns the pool and the schema)."""
    async with translate_errors(what), engine.connect() as conn:
        raw = await conn.get_raw_connection()
        try:
            yield raw.driver_connection
        except _CONNECTION_ERRORS:
            # The pool never saw this error (it came from the driver, not
            # through SQLAlchemy): discard the connection rather than hand
            # it out again.
            await conn.invalidate()
            raise


def json_object(value: Any) -> dict[str, Any]:
    """A JSONB value as a dict: SQLAlchemy's pooled asyncpg connections
    decode JSON, plain ones give text."""
    return dict(json.loads(value) if isinstance(value, str | bytes) else value)


class SqlArgs:
    """Numbered parameters ($1, $2...) for a statement built from optional
    filters."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        """Adds a value; returns its placeholder."""
        self.values.append(value)
        return f"${len(self.values)}"


async def connect_listener(settings: DatabaseSettings) -> Any:
    """A raw asyncpg connection for LISTEN (SQLAlchemy pools do not fit it)."""
    return await asyncpg.connect(settings.asyncpg_dsn, **settings.connect_args())
