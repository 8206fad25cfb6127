"""Process life of a service: signals, a stop event, a clean exit."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import structlog
import uvloop

from graphmesh.telemetry import Telemetry, TelemetrySettings

log = structlog.get_logger(__name__)


class _Failure:
    """Whether a supervised background task died."""

    failed = False


def supervise(task: asyncio.Task[None], stop: asyncio.Event) -> asyncio.Task[None]:
    """Makes the death of a background loop fatal: it is logged and the
    service shuts down and exits non-zero, so that its supervisor restarts
    it, instead of living on without the loop."""

    def on_done(done: asyncio.Task[None]) -> None:
        if done.cancelled() or done.exception() is None:
            return
        log.error("background_task_died", task=done.get_name(), exc_info=done.exception())
        _Failure.failed = True
        stop.set()

    task.add_done_callback(on_done)
    return task


def run_service(
    telemetry: TelemetrySettings, body: Callable[[asyncio.Event], Awaitable[None]]
) -> None:
    """Starts the service's telemetry and runs `body(stop)` in a new event
    loop; SIGTERM or SIGINT sets `stop`, and `body` is expected to shut down
    cleanly and return. Buffered spans are flushed on the way out. Exits
    with status 1 if a supervised task died."""
    running = Telemetry(telemetry)
    running.start()

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await body(stop)

    try:
        # uvloop's event loop cuts the per-call cost of gRPC, Kafka and asyncpg I/O.
        uvloop.run(_main())
    finally:
        running.stop()
    log.info("stopped", failed=_Failure.failed)
    if _Failure.failed:
        raise SystemExit(1)
