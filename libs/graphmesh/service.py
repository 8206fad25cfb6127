"""Process life of a service: signals, a stop event, a clean exit."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import structlog
import uvloop

log = structlog.get_logger(__name__)


def run_service(body: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Runs `body(stop)` in a new event loop; SIGTERM or SIGINT sets `stop`,
    and `body` is expected to shut down cleanly and return."""

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await body(stop)

    # uvloop's event loop cuts the per-call cost of gRPC, Kafka and asyncpg I/O.
    uvloop.run(_main())
    log.info("stopped")
