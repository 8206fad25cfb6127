"""The `graphmesh` command.

    graphmesh up                      start the whole mesh on this machine
    graphmesh down                    stop it
    graphmesh demo                    start, run an example with streamed progress, stop
    graphmesh run GRAPH --input JSON [--thread ID] [--stream]
    graphmesh runs get ID | runs list [--graph G] [--thread T] [--status S]
    graphmesh runs stream ID | runs cancel ID | runs events ID   (stored events, checkpoints too)
    graphmesh threads ...             create, inspect, update, delete threads
    graphmesh queue [GRAPH] | lag     queue depth; consumer lag per partition
    graphmesh projections rebuild     rebuild the read models from the event store
    graphmesh graphs list
    graphmesh bench                   the reference benchmark beside bare LangGraph
    graphmesh migrate                 apply database migrations
    graphmesh auth new-key --tenant T | auth hash-key   API keys for the keys file
    graphmesh certs DIR               a development PKI (TLS, mutual TLS)

Client commands talk to --target (default $GRAPHMESH_TARGET or 127.0.0.1:50051),
with --token / --token-file ($GRAPHMESH_TOKEN) and --tls-ca ($GRAPHMESH_CA_FILE)
for a secured gateway.
"""

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

from graphmesh import streams
from graphmesh.client import Client, RunEvent
from graphmesh.errors import GraphmeshError
from graphmesh.runs import RunStatus
from graphmesh_cli.auth_commands import add_auth_commands
from graphmesh_cli.ops_commands import DEFAULT_DATA_DIR, STATE_FILE, add_ops_commands
from graphmesh_cli.thread_commands import (
    add_connection_options,
    add_thread_commands,
    connect,
    print_json,
)


def _describe_event(event: RunEvent) -> str:
    payload = event.payload or {}
    where = f" ({'/'.join(event.namespace)})" if event.namespace else ""
    if event.type == "MessageChunk":
        chunk, meta = (payload.get("data") or [{}, {}])[:2]
        node = (meta or {}).get("langgraph_node", "")
        detail = f"{node}: {json.dumps((chunk or {}).get('content'), ensure_ascii=False)}"
    elif event.type == "NodeUpdated":
        detail = f"{payload.get('node')}: {json.dumps(payload.get('update'), ensure_ascii=False)}"
    elif event.type == "RunCreated":
        detail = f"graph={payload.get('graph_id')} input={json.dumps(payload.get('input'))}"
    elif event.type in ("RunSucceeded", "RunInterrupted"):
        detail = json.dumps(payload.get("output"), ensure_ascii=False)
        if event.type == "RunInterrupted":
            detail = f"interrupts={json.dumps(payload.get('interrupts'))} state={detail}"
    elif event.type in ("RunFailed", "RunTimedOut"):
        error = payload.get("error") or {}
        detail = f"{error.get('type')}: {error.get('message')}"
    else:
        detail = json.dumps(payload, ensure_ascii=False)
    return f"[{event.seq:>3}] {event.type:<15}{where} {detail}"


def cmd_run(args: argparse.Namespace) -> int:
    """Submits a run and prints its progress and final state."""
    command: dict[str, Any] = {}
    if args.resume is not None:
        command["resume"] = _json_arg(args.resume, "--resume")
    if args.update is not None:
        command["update"] = _json_arg(args.update, "--update")
    if args.goto:
        command["goto"] = args.goto
    with connect(args) as client:
        run = client.create_run(
            args.graph,
            None if command and args.input is None else (args.input or "{}"),
            thread_id=args.thread or "",
            request_id=args.request_id or "",
            checkpoint_id=args.checkpoint or "",
            multitask_strategy=args.multitask or "",
            durability=args.durability or "",
            stream_modes=args.stream_mode or (),
            stream_subgraphs=args.subgraphs,
            timeout_seconds=args.run_timeout or 0.0,
            **command,
        )
        print(f"run {run.run_id} on thread {run.thread_id}: {run.status.name}", file=sys.stderr)
        if args.stream or args.stream_mode:
            _print_stream(client, run.run_id, "", args.timeout)
        final = client.wait_run(run.run_id, timeout=args.timeout)
        print(f"run {final.run_id}: {final.status.name}", file=sys.stderr)
        if final.status in (RunStatus.FAILED, RunStatus.TIMED_OUT):
            print_json(final.error)
            return 1
        if final.status is RunStatus.INTERRUPTED:
            for interrupt in final.interrupts:
                value = json.dumps(interrupt["value"], ensure_ascii=False)
                print(f"interrupt {interrupt['id']}: {value}", file=sys.stderr)
            print(
                f"continue with: graphmesh run {args.graph} --thread {final.thread_id}"
                " --resume JSON",
                file=sys.stderr,
            )
        print_json(final.output)
        return 0


def _print_stream(
    client: Client, run_id: str, cursor: str, timeout: float, modes: Sequence[str] = ()
) -> None:
    for event in client.stream_run(run_id, cursor, timeout=timeout, stream_modes=modes):
        print(_describe_event(event), flush=True)


def cmd_runs_stream(args: argparse.Namespace) -> int:
    """Joins a run's stream (from the start or after a cursor) to its end."""
    with connect(args) as client:
        _print_stream(client, args.run_id, args.cursor or "", args.timeout, args.stream_mode or ())
    return 0


def cmd_runs_cancel(args: argparse.Namespace) -> int:
    """Cancels a run and prints it."""
    with connect(args) as client:
        before = client.get_run(args.run_id)
        run = client.cancel_run(args.run_id, rollback=args.rollback, wait=not args.no_wait)
    if before.status.is_terminal:
        print(
            f"run {run.run_id} had already ended ({run.status.name}); nothing changed",
            file=sys.stderr,
        )
    else:
        print(f"run {run.run_id}: {run.status.name}", file=sys.stderr)
    print_json(run.to_dict())
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    """Prints pending (queued) and running runs per graph."""
    with connect(args) as client:
        print_json(client.queue_depth(args.graph or ""))
    return 0


def _json_arg(text: str, flag: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SystemExit(f"error: {flag} is not JSON ({exc}); quote strings: '\"yes\"'") from None


def cmd_runs_get(args: argparse.Namespace) -> int:
    """Prints one run."""
    with connect(args) as client:
        print_json(client.get_run(args.run_id).to_dict())
    return 0


def cmd_runs_list(args: argparse.Namespace) -> int:
    """Prints a page of runs."""
    status = RunStatus[args.status.upper()] if args.status else RunStatus.UNSPECIFIED
    with connect(args) as client:
        runs, token = client.list_runs(
            graph_id=args.graph or "",
            thread_id=args.thread or "",
            status=status,
            page_size=args.page_size,
            page_token=args.page_token or "",
        )
    print_json({"runs": [r.to_dict() for r in runs], "next_page_token": token})
    return 0


def cmd_graphs_list(args: argparse.Namespace) -> int:
    """Prints the registered graphs."""
    with connect(args) as client:
        graphs = client.list_graphs()
    print_json(
        [{"graph_id": g.graph_id, "source": g.source, "nodes": list(g.nodes)} for g in graphs]
    )
    return 0


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
    return StackConfig(
        data_dir=data_dir,
        gateway_port=base,
        checkpoint_port=base + 1,
        projector_port=base + 2,
        executor_port=base + 3,
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
        print(_describe_event(event), flush=True)
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
        print(_describe_event(event), flush=True)
        if event.type == "RunStarted":
            break
    print(f"$ graphmesh runs cancel {run.run_id}   # in another, while its node sleeps")
    cancelled = client.cancel_run(run.run_id)
    for event in events:
        print(_describe_event(event), flush=True)
    print(f"run {cancelled.run_id}: {cancelled.status.name}")
    print()


def cmd_migrate(args: argparse.Namespace) -> int:
    """Applies the database migrations to $GRAPHMESH_DATABASE_URL."""
    from graphmesh.migrations import upgrade

    url = os.environ.get("GRAPHMESH_DATABASE_URL")
    if not url:
        print("set GRAPHMESH_DATABASE_URL (postgresql+asyncpg://...)", file=sys.stderr)
        return 2
    upgrade(url)
    print("database is at the latest revision")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Runs the reference benchmark (see graphmesh_cli.bench)."""
    from graphmesh_cli.bench import main as bench_main

    return bench_main(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="graphmesh", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def client_parser(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        add_connection_options(p)
        return p

    def stack_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="where data and logs go")
        p.add_argument("--graphs", help="a langgraph.json-style registry (default: the examples)")
        p.add_argument(
            "--port", type=int, default=50051, help="gateway port; services use the next three"
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

    up = sub.add_parser("up", help="start the mesh on this machine")
    stack_options(up)
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop the mesh started by `up`")
    down.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    down.set_defaults(func=cmd_down)
    demo = sub.add_parser("demo", help="start the mesh, run examples with streamed progress, stop")
    demo.set_defaults(func=cmd_demo)
    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=cmd_migrate)

    run = client_parser("run", "submit a run and print its progress and result")
    run.add_argument("graph")
    run.add_argument("--input", help="the input as JSON text (default: {})")
    run.add_argument("--thread", help="thread id (default: a new thread)")
    run.add_argument("--request-id", help="idempotency key")
    run.add_argument("--resume", help="continue the thread's interrupt with this JSON value")
    run.add_argument("--update", help="a state update (JSON object) sent with the command")
    run.add_argument("--goto", action="append", help="node to go to next (repeatable)")
    run.add_argument("--checkpoint", help="start from this checkpoint of the thread (fork)")
    run.add_argument(
        "--multitask",
        choices=["reject", "enqueue", "interrupt", "rollback"],
        help="what to do if the thread is busy (default: enqueue)",
    )
    run.add_argument(
        "--durability", choices=["sync", "async", "exit"], help="when checkpoints are written"
    )
    run.add_argument("--stream", action="store_true", help="print each event as it is stored")
    run.add_argument(
        "--stream-mode",
        action="append",
        choices=streams.STREAM_MODES,
        help="record and print this stream mode (repeatable; default: updates and custom)",
    )
    run.add_argument("--subgraphs", action="store_true", help="also stream subgraphs")
    run.add_argument(
        "--run-timeout", type=float, help="stop the run after this many seconds (TIMED_OUT)"
    )
    run.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the end")
    run.set_defaults(func=cmd_run)

    runs = sub.add_parser("runs", help="query runs")
    runs_sub = runs.add_subparsers(dest="runs_command", required=True)
    get = runs_sub.add_parser("get", help="show one run")
    get.add_argument("run_id")
    add_connection_options(get)
    get.set_defaults(func=cmd_runs_get)
    lst = runs_sub.add_parser("list", help="list runs, newest first")
    lst.add_argument("--graph")
    lst.add_argument("--thread")
    lst.add_argument("--status", choices=[s.name.lower() for s in RunStatus if s.value])
    lst.add_argument("--page-size", type=int)
    lst.add_argument("--page-token")
    add_connection_options(lst)
    lst.set_defaults(func=cmd_runs_list)
    stream = runs_sub.add_parser("stream", help="join a run's stream, to its end")
    stream.add_argument("run_id")
    stream.add_argument("--cursor", help="start after the event with this cursor")
    stream.add_argument(
        "--stream-mode", action="append", choices=streams.STREAM_MODES, help="only this mode"
    )
    stream.add_argument("--timeout", type=float, default=300.0)
    add_connection_options(stream)
    stream.set_defaults(func=cmd_runs_stream)
    cancel = runs_sub.add_parser("cancel", help="stop a run")
    cancel.add_argument("run_id")
    cancel.add_argument(
        "--rollback", action="store_true", help="also remove the checkpoints it wrote"
    )
    cancel.add_argument(
        "--no-wait", action="store_true", help="answer once asked, not once stopped"
    )
    add_connection_options(cancel)
    cancel.set_defaults(func=cmd_runs_cancel)
    queue = client_parser("queue", "pending and running runs per graph")
    queue.add_argument("graph", nargs="?")
    queue.set_defaults(func=cmd_queue)

    add_thread_commands(sub)
    add_ops_commands(sub, runs_sub)
    add_auth_commands(sub)

    graphs = sub.add_parser("graphs", help="list the registered graphs")
    graphs_sub = graphs.add_subparsers(dest="graphs_command", required=True)
    glist = graphs_sub.add_parser("list")
    add_connection_options(glist)
    glist.set_defaults(func=cmd_graphs_list)

    bench = client_parser("bench", "reference benchmark beside bare in-process LangGraph")
    from graphmesh_cli.bench import add_arguments

    add_arguments(bench)
    bench.set_defaults(func=cmd_bench)
    return parser


def _described(exc: GraphmeshError) -> str:
    """An error as the command line shows it: code, message, reason."""
    return f"{exc.code.name}: {exc.message}" + (f" [{exc.reason}]" if exc.reason else "")


def main(argv: list[str] | None = None) -> int:
    """Runs the command line."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except GraphmeshError as exc:
        print(f"error: {_described(exc)}", file=sys.stderr)
        if exc.field:
            print(f"  field: {exc.field}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
