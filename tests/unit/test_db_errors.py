"""What the driver raises while PostgreSQL is away or starting up becomes
`Unavailable`, which every service retries; anything else is left alone."""

from __future__ import annotations

import asyncio
import struct

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from graphmesh.db import translate_errors
from graphmesh.errors import Unavailable


async def _starting_up_server() -> asyncio.Server:
    """A listener that answers a client's startup as PostgreSQL does in the
    moments after `pg_ctl start`: FATAL 57P03, "the database system is
    starting up"."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            (length,) = struct.unpack("!i", await reader.readexactly(4))
            body = await reader.readexactly(length - 4)
            if struct.unpack("!i", body[:4])[0] == 80877103:  # SSLRequest
                writer.write(b"N")
                continue
            break
        fields = b"SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0"
        writer.write(b"E" + struct.pack("!i", len(fields) + 4) + fields)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


async def test_a_server_starting_up_is_unavailable_not_an_error() -> None:
    server = await _starting_up_server()
    port = server.sockets[0].getsockname()[1]
    engine = create_async_engine(f"postgresql+asyncpg://u:p@127.0.0.1:{port}/db")
    try:
        # Unwrapped, SQLAlchemy's pool raises a plain DBAPIError, which the
        # projector's loop did not retry (it stopped projecting for good).
        with pytest.raises(DBAPIError) as raw:
            async with engine.connect():
                pass
        assert "starting up" in str(raw.value)
        with pytest.raises(Unavailable) as translated:
            async with translate_errors("a test"), engine.connect():
                pass
        assert translated.value.reason == "DATABASE_UNAVAILABLE"
        assert "starting up" in str(translated.value)
    finally:
        await engine.dispose()
        server.close()
        await server.wait_closed()


async def test_a_statement_error_is_not_unavailable() -> None:
    error = DBAPIError("SELECT 1/0", None, ZeroDivisionError("division by zero"))
    with pytest.raises(DBAPIError):
        async with translate_errors("a test"):
            raise error
