"""Publishing again the commands of runs that no executor is running.

CreateRun stores a run before it publishes its command to Kafka. If the
gateway dies in between, or the publish fails and the client never retries,
the run would stay PENDING for ever. And a run that was claimed can lose its
executor and its command together: a broker that keeps nothing across a
restart (the local one) forgets the command whose offset was never
committed. The event store knows every unfinished run and its lease, so this
loop asks the checkpoint service for the runs unclaimed for longer than
`requeue_after`, and for those whose lease ran out longer than
`requeue_after` ago (both doubling per earlier re-send, so a run waiting
behind a long queue gets at most a few extra copies), and publishes their
commands again. Executors claim a run before they run it, so a second copy
is harmless: a run that is still held is left to its holder, and one whose
lease ran out is taken over as a new attempt that continues from its last
checkpoint (or ends as ExecutorLost once its attempts are spent).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from graphmesh import envelope as ev
from graphmesh.errors import GraphmeshError
from graphmesh.eventstore import RunLeases

log = structlog.get_logger(__name__)

_BATCH = 200


async def requeue_stale_runs(
    store: RunLeases,
    producer: AIOKafkaProducer,
    topic: str,
    requeue_after_ms: int,
    stop: asyncio.Event,
) -> None:
    """Sweeps every half `requeue_after_ms` until `stop` is set."""
    interval = requeue_after_ms / 2000
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval)
            return
        except TimeoutError:
            pass
        try:
            stale = await store.take_stale_commands(
                timedelta(milliseconds=requeue_after_ms), _BATCH
            )
            for created in stale:
                await producer.send_and_wait(
                    topic, ev.encode(created), key=created.thread_id.encode()
                )
                log.warning("run_command_republished", run_id=created.run_id)
        except (GraphmeshError, KafkaError) as exc:
            # Taken runs whose publish failed come back after the next backoff step.
            log.warning("requeue_sweep_failed", error=str(exc))
