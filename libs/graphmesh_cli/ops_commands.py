"""Operator commands: `graphmesh projections rebuild`, `graphmesh runs
events ID` and `graphmesh lag`.

They talk to the parts behind the gateway (PostgreSQL, the checkpoint
service, the brokers). Where those are comes from the flags, else the
environment the services use (GRAPHMESH_DATABASE_URL,
GRAPHMESH_CHECKPOINT_TARGET, GRAPHMESH_KAFKA_BOOTSTRAP), else the mesh that
`graphmesh up` started in --data-dir.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from graphmesh import grpcutil
from graphmesh.errors import GraphmeshError, NotFound
from graphmesh.eventstore.remote import RemoteEventStore
from graphmesh.kafka import KafkaSettings
from graphmesh.settings import SettingsError, database_from_env
from graphmesh.tls import internal_tls_from_env
from graphmesh_cli.thread_commands import add_connection_options, connect, print_json

STATE_FILE = "stack.json"
DEFAULT_DATA_DIR = Path(".graphmesh")


def _local(args: argparse.Namespace, key: str) -> str | None:
    """A value the local mesh recorded when `graphmesh up` started it."""
    path = Path(getattr(args, "data_dir", None) or DEFAULT_DATA_DIR) / STATE_FILE
    try:
        return str(json.loads(path.read_text()).get(key) or "") or None
    except (OSError, ValueError):
        return None


def _where(args: argparse.Namespace, flag: str, env: str, key: str) -> str:
    value = getattr(args, flag, None) or os.environ.get(env) or _local(args, key)
    if not value:
        option = "--" + flag.replace("_", "-")
        raise SystemExit(f"error: give {option} or set {env} (no local mesh found either)")
    return str(value)


def cmd_projections_rebuild(args: argparse.Namespace) -> int:
    """Rebuilds the runs read model from the event store: the projector's
    own rebuild (`python -m graphmesh_projector.rebuild`), run in a process
    of its own with the environment the projector reads (the password and
    TLS settings included), so the CLI imports no service."""
    url = _where(args, "database_url", "GRAPHMESH_DATABASE_URL", "database_url")
    env = {**os.environ, "GRAPHMESH_DATABASE_URL": url}
    try:
        database_from_env(env)  # a bad setting is reported here, plainly
    except SettingsError as exc:
        raise SystemExit(f"error: {exc}") from exc
    done = subprocess.run(
        [sys.executable, "-m", "graphmesh_projector.rebuild"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print("error: the rebuild failed (see above)", file=sys.stderr)
        return 1
    report = argparse.Namespace(**json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        f"rebuilt the runs read model: {report.runs} runs from {report.events} events "
        f"(position {report.position})"
    )
    return 0


def cmd_runs_events(args: argparse.Namespace) -> int:
    """Prints every stored event of a run, checkpoints included."""
    target = _where(args, "store", "GRAPHMESH_CHECKPOINT_TARGET", "checkpoint_target")
    # The internal API: with mutual TLS on, the services' own identity.
    internal = internal_tls_from_env(os.environ)

    async def print_events() -> None:
        async with grpcutil.channel(target, internal.client if internal else None) as channel:
            store = RemoteEventStore(channel)
            after = 0
            while True:
                page = await asyncio.wait_for(store.read(args.run_id, after, 1000), 30)
                for event in page:
                    _print_event(event, args.json, args.full)
                    after = event.seq
                if len(page) < 1000:
                    return

    try:
        asyncio.run(print_events())
    except NotFound:
        print(f"error: no run {args.run_id} in the event store", file=sys.stderr)
        return 1
    except (GraphmeshError, TimeoutError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def _print_event(event: Any, as_json: bool, full: bool) -> None:
    if as_json:
        record = {
            "seq": event.seq,
            "attempt": event.attempt,
            "type": event.type,
            "time": event.time.isoformat(),
            "event_id": event.event_id,
            "position": event.position,
            "payload": json.loads(event.payload_json),
        }
        print(json.dumps(record, ensure_ascii=False))
        return
    payload = event.payload_json if full else _shorten(event.payload_json, 120)
    stamp = event.time.strftime("%H:%M:%S.%f")[:-3]
    print(f"{event.seq:>5}  a{event.attempt}  {stamp}  {event.type:<16} {payload}")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def cmd_lag(args: argparse.Namespace) -> int:
    """Prints each consumer group's lag per partition and the queue depth."""
    from graphmesh.kafka import CHECKPOINT_GROUP, EXECUTOR_GROUP
    from graphmesh.settings import kafka_from_env

    bootstrap = _where(args, "kafka", "GRAPHMESH_KAFKA_BOOTSTRAP", "kafka_bootstrap")
    # The broker's TLS and SASL settings, as the services read them.
    kafka = kafka_from_env({**os.environ, "GRAPHMESH_KAFKA_BOOTSTRAP": bootstrap})
    prefix = args.topic_prefix
    groups = {EXECUTOR_GROUP: f"{prefix}.runs", CHECKPOINT_GROUP: f"{prefix}.events"}
    lags = asyncio.run(consumer_lag(kafka, groups))
    report: dict[str, Any] = {"consumer_lag": lags}
    try:
        with connect(args) as client:
            report["queue_depth"] = client.queue_depth()
    except Exception as exc:  # the gateway may be down: the lag is still worth showing
        report["queue_depth"] = {"error": str(exc)}
    print_json(report)
    return 0


async def consumer_lag(kafka: KafkaSettings, groups: dict[str, str]) -> dict[str, Any]:
    """{group: {"topic": t, "total": n, "partitions": {p: lag}}}: messages
    after each group's committed offset."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    result: dict[str, Any] = {}
    for group, topic in groups.items():
        # A consumer of the group that does not join it: it only reads the
        # group's committed offsets and the partitions' end offsets.
        consumer = AIOKafkaConsumer(
            **kafka.client_options(), group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            await consumer.topics()  # fetches the cluster's metadata
            partitions = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            ends = await consumer.end_offsets(tps) if tps else {}
            per = {}
            for tp in tps:
                done = await consumer.committed(tp)
                per[str(tp.partition)] = max(ends[tp] - (done or 0), 0)
            result[group] = {"topic": topic, "total": sum(per.values()), "partitions": per}
        finally:
            await consumer.stop()
    return result


def add_ops_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    runs_sub: argparse._SubParsersAction,  # type: ignore[type-arg]
) -> None:
    """Adds the operator commands to the `graphmesh` parser."""
    data_dir_help = "the local mesh's data directory (for its addresses)"
    projections = sub.add_parser("projections", help="maintain the read models")
    projections_sub = projections.add_subparsers(dest="projections_command", required=True)
    rebuild = projections_sub.add_parser(
        "rebuild", help="rebuild the runs read model from the event store"
    )
    rebuild.add_argument("--database-url", help="postgresql+asyncpg://... of graphmesh's database")
    rebuild.add_argument("--data-dir", help=data_dir_help)
    rebuild.set_defaults(func=cmd_projections_rebuild)

    events = runs_sub.add_parser("events", help="every stored event of a run, checkpoints too")
    events.add_argument("run_id")
    events.add_argument("--store", help="checkpoint service address host:port")
    events.add_argument("--json", action="store_true", help="one JSON object per line")
    events.add_argument("--full", action="store_true", help="do not shorten payloads")
    events.add_argument("--data-dir", help=data_dir_help)
    events.set_defaults(func=cmd_runs_events)

    lag = sub.add_parser("lag", help="consumer lag per partition and queue depth per graph")
    lag.add_argument("--kafka", help="bootstrap servers host:port")
    lag.add_argument(
        "--topic-prefix", default=os.environ.get("GRAPHMESH_TOPIC_PREFIX", "graphmesh")
    )
    add_connection_options(lag)  # the gateway, for the queue depth
    lag.add_argument("--data-dir", help=data_dir_help)
    lag.set_defaults(func=cmd_lag)
