"""`graphmesh run`, `graphmesh runs ...`, `graphmesh queue` and `graphmesh
graphs list`: submit, follow, inspect and stop runs through the gateway."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from graphmesh import streams
from graphmesh.client import Client, RunEvent
from graphmesh.runs import RunStatus
from graphmesh_cli.thread_commands import (
    add_connection_options,
    connect,
    print_json,
)


def describe_event(event: RunEvent) -> str:
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
            None if (command or args.go_on) and args.input is None else (args.input or "{}"),
            thread_id=args.thread or "",
            request_id=args.request_id or "",
            checkpoint_id=args.checkpoint or "",
            multitask_strategy=args.multitask or "",
            durability=args.durability or "",
            stream_modes=args.stream_mode or (),
            stream_subgraphs=args.subgraphs,
            timeout_seconds=args.run_timeout or 0.0,
            config=_json_arg(args.config, "--config") if args.config else None,
            context=_json_arg(args.context, "--context") if args.context else None,
            interrupt_before=args.interrupt_before or (),
            interrupt_after=args.interrupt_after or (),
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
        print(describe_event(event), flush=True)


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


def add_run_commands(sub: Any) -> Any:
    """Adds the run commands to the `graphmesh` parser; returns the `runs`
    subparsers (other modules add to them)."""

    def client_parser(name: str, help_: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_)
        add_connection_options(p)
        return p

    run = client_parser("run", "submit a run and print its progress and result")
    run.add_argument(
        "graph", metavar="ASSISTANT_OR_GRAPH", help="a graph id, or an assistant's id (a UUID)"
    )
    run.add_argument("--input", help="the input as JSON text (default: {})")
    run.add_argument("--thread", help="thread id (default: a new thread)")
    run.add_argument(
        "--config",
        help='LangGraph config as JSON: {"configurable": {...}, "tags": [...], "metadata": {...},'
        ' "recursion_limit": N}',
    )
    run.add_argument("--context", help="LangGraph runtime context as JSON")
    run.add_argument(
        "--continue",
        dest="go_on",
        action="store_true",
        help="no input: continue the thread from its latest checkpoint (after a breakpoint)",
    )
    run.add_argument(
        "--interrupt-before", action="append", help="pause before this node (repeatable; * all)"
    )
    run.add_argument(
        "--interrupt-after", action="append", help="pause after this node (repeatable; * all)"
    )
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

    graphs = sub.add_parser("graphs", help="list the registered graphs")
    graphs_sub = graphs.add_subparsers(dest="graphs_command", required=True)
    glist = graphs_sub.add_parser("list")
    add_connection_options(glist)
    glist.set_defaults(func=cmd_graphs_list)

    return runs_sub
