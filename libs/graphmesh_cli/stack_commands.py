"""`graphmesh up`, `down` and `demo`: the whole mesh on this machine."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphmesh.client import Client
from graphmesh_cli.ops_commands import DEFAULT_DATA_DIR, STATE_FILE
from graphmesh_cli.run_commands import describe_event
from graphmesh_cli.thread_commands import (
    print_json,
)


def _stack_config(args: argparse.Namespace, data_dir: Path) -> Any:
    from graphmesh.testing.stack import StackConfig

    graphs = Path(args.graphs).resolve() if args.graphs else None
    base = args.port
    kwargs: dict[str, Any] = {
        "executors": args.executors,
        "partitions": args.partitions,
        "log_level": args.log_level,
    }
    if graphs is not None:
        kwargs["graphs"] = graphs
    if getattr(args, "pgvector", False):
        from graphmesh.testing.infra.postgres import pgvector_bin_dir

        kwargs["postgres_bin"] = pgvector_bin_dir()
    return StackConfig(
        data_dir=data_dir,
        gateway_port=base,
        checkpoint_port=base + 1,
        projector_port=base + 2,
        executor_port=base + 3,
        http_port=args.http_port,
        postgres_port=args.postgres_port,
        broker_port=args.broker_port,
        metrics_port=args.metrics_port,
        **kwargs,
    )


def cmd_up(args: argparse.Namespace) -> int:
    """Starts the mesh and keeps it up until Ctrl-C or `graphmesh down`."""
    from graphmesh.testing.stack import LocalStack, StackError
    from graphmesh_cli.supervisor import CrashLoop, Supervisor

    data_dir = Path(args.data_dir).resolve()
    stack = LocalStack(_stack_config(args, data_dir))
    stop = _install_stop_handlers()
    print(f"starting graphmesh in {data_dir} ...", file=sys.stderr)
    try:
        stack.check_ports_free()
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    status = 0
    try:
        stack.start()
        supervisor = Supervisor(
            stack,
            say=lambda line: print(line, file=sys.stderr, flush=True),
            on_restart=lambda: _write_state(stack, supervisor),
        )
        _write_state(stack, supervisor)
        print(
            f"graphmesh is up: API on {stack.gateway_target} (Ctrl-C or `graphmesh down` stops it)"
        )
        if stack.http_url:
            print(
                f"  LangGraph Server's HTTP API: {stack.http_url} (for langgraph-sdk's get_client)"
            )
        metrics = [s.metrics_url for s in stack.services if s.metrics_url]
        if metrics:
            print(f"  metrics: {', '.join(metrics)}")
        print('  try: graphmesh run chain3 --input \'{"n": 0, "trail": []}\' --stream', flush=True)
        # A service that dies is started again (the others keep serving);
        # only a crash loop stops the mesh.
        while not stop["set"]:
            try:
                supervisor.check()
            except CrashLoop as exc:
                print(f"error: {exc}: giving up", file=sys.stderr)
                status = 1
                break
            time.sleep(0.2)
    finally:
        print("stopping graphmesh ...", file=sys.stderr)
        stack.stop()
        with contextlib.suppress(FileNotFoundError):
            (data_dir / STATE_FILE).unlink()
        print("stopped", file=sys.stderr)
    return status


def _write_state(stack: Any, supervisor: Any) -> None:
    """What `graphmesh down` and operators read: the processes (kept current
    as services are started again) and how often each was restarted."""
    state = {
        "pid": os.getpid(),
        "target": stack.gateway_target,
        "http_url": stack.http_url,
        "database_url": stack.database_url,
        "checkpoint_target": f"127.0.0.1:{stack.config.checkpoint_port}",
        "kafka_bootstrap": stack.broker.bootstrap,
        "pids": [s.proc.pid for s in stack.services]
        + [p for p in (stack.broker.pid, stack.postgres.pid) if p],
        "restarts": dict(supervisor.restarts),
    }
    path = stack.config.data_dir / STATE_FILE
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(state))
    scratch.replace(path)  # readers never see half a file


def _install_stop_handlers() -> dict[str, bool]:
    flag = {"set": False}

    def handler(signum: int, frame: Any) -> None:
        flag["set"] = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return flag


def cmd_down(args: argparse.Namespace) -> int:
    """Stops a mesh started by `graphmesh up` in the same data directory."""
    state_path = Path(args.data_dir).resolve() / STATE_FILE
    if not state_path.exists():
        print(f"no running graphmesh found ({state_path} does not exist)", file=sys.stderr)
        return 1
    state = json.loads(state_path.read_text())
    with contextlib.suppress(ProcessLookupError):
        os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _alive(state["pid"]):
        time.sleep(0.2)
    if _alive(state["pid"]):
        print("graphmesh did not stop within 60s", file=sys.stderr)
        return 1
    for pid in state.get("pids", []):  # left behind if `up` itself was killed
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    with contextlib.suppress(FileNotFoundError):
        state_path.unlink()
    print("graphmesh stopped")
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # An exited process that its parent has not reaped yet still answers
    # kill(pid, 0); it has stopped all the same.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def cmd_demo(args: argparse.Namespace) -> int:
    """Starts the mesh on free ports in a fresh directory, runs chain3, the
    agent example (its model's tokens streamed), an interrupt answered by a
    second run and a run cancelled mid-node, with streamed progress, and
    stops."""
    from graphmesh.testing.stack import LocalStack, StackConfig

    with tempfile.TemporaryDirectory(prefix="graphmesh-demo-") as tmp:
        data_dir = Path(tmp)
        data_dir.chmod(0o755)
        stack = LocalStack(StackConfig.with_free_ports(data_dir))
        print(
            "starting PostgreSQL, the broker, and the gateway, executor, checkpoint and "
            "projector services ...",
            flush=True,
        )
        started = time.monotonic()
        try:
            stack.start()
            print(f"mesh up in {time.monotonic() - started:.1f}s; API on {stack.gateway_target}\n")
            with Client(stack.gateway_target) as client:
                agent_in = {"messages": [{"role": "user", "content": "what is 2 + 3?"}]}
                _demo_run(client, "chain3", {"n": 0, "trail": []})
                _demo_run(client, "agent", agent_in, modes=("updates", "messages"))
                # A human in the loop: the run stops at interrupt(), a later
                # run on the same thread answers it.
                _demo_run(client, "hitl", {"trail": []}, thread="demo-approval")
                _demo_run(client, "hitl", None, thread="demo-approval", resume="yes")
                _demo_cancel(client)
        finally:
            stack.stop()
    return 0


def _demo_run(
    client: Client,
    graph: str,
    value: Any,
    thread: str = "",
    resume: Any = None,
    modes: Sequence[str] = (),
) -> None:
    shown = (
        f"--resume '{json.dumps(resume)}'"
        if resume is not None
        else (f"--input '{json.dumps(value)}'")
    )
    on_thread = f" --thread {thread}" if thread else ""
    streamed = "".join(f" --stream-mode {m}" for m in modes) or " --stream"
    print(f"$ graphmesh run {graph}{on_thread} {shown}{streamed}")
    extra: dict[str, Any] = {"resume": resume} if resume is not None else {}
    run = client.create_run(graph, value, thread_id=thread, stream_modes=modes, **extra)
    for event in client.stream_run(run.run_id):
        print(describe_event(event), flush=True)
    final = client.wait_run(run.run_id)
    print(f"run {final.run_id}: {final.status.name}")
    print_json(final.output)
    print()


def _demo_cancel(client: Client) -> None:
    value = {"seconds": 600}
    print(f"$ graphmesh run sleeper --input '{json.dumps(value)}' --stream   # in one terminal")
    run = client.create_run("sleeper", value)
    events = client.stream_run(run.run_id)
    for event in events:
        print(describe_event(event), flush=True)
        if event.type == "RunStarted":
            break
    print(f"$ graphmesh runs cancel {run.run_id}   # in another, while its node sleeps")
    cancelled = client.cancel_run(run.run_id)
    for event in events:
        print(describe_event(event), flush=True)
    print(f"run {cancelled.run_id}: {cancelled.status.name}")
    print()


def add_stack_commands(sub: Any) -> None:
    """Adds `up`, `down` and `demo` to the `graphmesh` parser."""

    def stack_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="where data and logs go")
        p.add_argument("--graphs", help="a langgraph.json-style registry (default: the examples)")
        p.add_argument(
            "--port", type=int, default=50051, help="gateway port; services use the next three"
        )
        p.add_argument(
            "--http-port",
            type=int,
            default=8123,
            help="LangGraph Server's HTTP API (0: not served)",
        )
        p.add_argument("--postgres-port", type=int, default=55432)
        p.add_argument("--broker-port", type=int, default=59092)
        p.add_argument(
            "--metrics-port",
            type=int,
            default=9464,
            help="the gateway's Prometheus endpoint; the checkpoint service, the projector"
            " and the executors use the next ones (0: no metrics)",
        )
        p.add_argument("--executors", type=int, default=1, help="executor processes")
        p.add_argument("--partitions", type=int, default=8, help="partitions per topic")
        p.add_argument("--log-level", default="INFO")
        p.add_argument(
            "--pgvector",
            action="store_true",
            help="run PostgreSQL 16 with pgvector (from the pgserver wheel) so that the"
            " store's semantic search uses it; needs a --data-dir of its own",
        )

    up = sub.add_parser("up", help="start the mesh on this machine")
    stack_options(up)
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop the mesh started by `up`")
    down.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    down.set_defaults(func=cmd_down)
    demo = sub.add_parser("demo", help="start the mesh, run examples with streamed progress, stop")
    demo.set_defaults(func=cmd_demo)
