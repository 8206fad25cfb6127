"""`graphmesh threads ...`: create, inspect, update and delete threads."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from graphmesh.client import Client
from graphmesh.tls import ClientTls


def target(args: argparse.Namespace) -> str:
    """The gateway a client command talks to: --target, $GRAPHMESH_TARGET or
    the local default."""
    return str(args.target or os.environ.get("GRAPHMESH_TARGET") or "127.0.0.1:50051")


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """--target and the credentials of a client command."""
    parser.add_argument("--target", help="gateway address host:port ($GRAPHMESH_TARGET)")
    parser.add_argument(
        "--token", help="API key or JWT ($GRAPHMESH_TOKEN); prefer --token-file on shared machines"
    )
    parser.add_argument("--token-file", help="a file holding the API key or JWT")
    parser.add_argument("--tls-ca", help="connect with TLS, trusting this CA ($GRAPHMESH_CA_FILE)")
    parser.add_argument("--tls-cert", help="client certificate, for mutual TLS")
    parser.add_argument("--tls-key", help="client certificate's key, for mutual TLS")


def credentials(args: argparse.Namespace) -> tuple[str | None, ClientTls | None]:
    """The token and TLS settings a client command was given (flags first,
    then $GRAPHMESH_TOKEN and $GRAPHMESH_CA_FILE)."""
    token = getattr(args, "token", None) or os.environ.get("GRAPHMESH_TOKEN") or None
    token_file = getattr(args, "token_file", None)
    if token_file:
        token = Path(token_file).read_text().strip()
    ca = getattr(args, "tls_ca", None) or os.environ.get("GRAPHMESH_CA_FILE") or None
    cert, key = getattr(args, "tls_cert", None), getattr(args, "tls_key", None)
    tls = None
    if ca or cert:
        tls = ClientTls.from_files(
            Path(ca) if ca else None, Path(cert) if cert else None, Path(key) if key else None
        )
    return token, tls


def connect(args: argparse.Namespace) -> Client:
    """A client for the command's gateway, with its credentials."""
    token, tls = credentials(args)
    return Client(target(args), token=token, tls=tls)


def print_json(value: Any) -> None:
    """Prints JSON for people and for `jq`."""
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _thread_dict(thread: Any) -> dict[str, Any]:
    return {
        "thread_id": thread.thread_id,
        "status": thread.status.lower(),
        "metadata": thread.metadata,
        "graph_id": thread.graph_id,
        "last_run_id": thread.last_run_id,
        "created_at": thread.created_at.isoformat() + "Z",
        "updated_at": thread.updated_at.isoformat() + "Z",
    }


def _labels(pairs: list[str] | None) -> dict[str, str]:
    labels = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"error: --metadata takes KEY=VALUE, got {pair!r}")
        labels[key] = value
    return labels


def cmd_create(args: argparse.Namespace) -> int:
    """Creates a thread."""
    with connect(args) as client:
        thread = client.create_thread(args.thread_id or "", _labels(args.metadata))
    print_json(_thread_dict(thread))
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    """Adds labels to a thread."""
    with connect(args) as client:
        thread = client.update_thread(args.thread_id, _labels(args.metadata))
    print_json(_thread_dict(thread))
    return 0


def cmd_copy(args: argparse.Namespace) -> int:
    """Copies a thread."""
    with connect(args) as client:
        print_json(_thread_dict(client.copy_thread(args.thread_id, args.to or "")))
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    """Shows a thread."""
    with connect(args) as client:
        print_json(_thread_dict(client.get_thread(args.thread_id)))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Lists threads."""
    with connect(args) as client:
        threads, token = client.list_threads(
            status=args.status or "",
            graph_id=args.graph or "",
            metadata=_labels(args.metadata),
            page_size=args.page_size,
            page_token=args.page_token or "",
        )
    print_json({"threads": [_thread_dict(t) for t in threads], "next_page_token": token})
    return 0


def cmd_state(args: argparse.Namespace) -> int:
    """Shows a thread's state."""
    with connect(args) as client:
        print_json(client.get_thread_state(args.thread_id, args.checkpoint or "").to_dict())
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """Shows a thread's past states, newest first."""
    with connect(args) as client:
        states, token = client.get_thread_history(
            args.thread_id, page_size=args.page_size, page_token=args.page_token or ""
        )
    print_json({"states": [s.to_dict() for s in states], "next_page_token": token})
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    """Writes a state update."""
    try:
        values = json.loads(args.values)
    except ValueError as exc:
        raise SystemExit(f"error: VALUES is not JSON ({exc})") from None
    with connect(args) as client:
        checkpoint_id = client.update_thread_state(
            args.thread_id, values, as_node=args.as_node or "", checkpoint_id=args.checkpoint or ""
        )
    print_json({"checkpoint_id": checkpoint_id})
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Deletes a thread."""
    with connect(args) as client:
        client.delete_thread(args.thread_id)
    print_json({"deleted": args.thread_id})
    return 0


def add_thread_commands(sub: Any) -> None:
    """Adds `threads` and its subcommands to the CLI."""
    threads = sub.add_parser("threads", help="create, inspect, update and delete threads")
    threads_sub = threads.add_subparsers(dest="threads_command", required=True)

    def command(name: str, help_: str, func: Any) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = threads_sub.add_parser(name, help=help_)
        add_connection_options(p)
        p.set_defaults(func=func)
        return p

    create = command("create", "create a thread", cmd_create)
    create.add_argument("thread_id", nargs="?", help="its id (default: a new UUID)")
    create.add_argument("--metadata", action="append", help="KEY=VALUE label (repeatable)")
    label = command("label", "add labels to a thread (replacing those of a key)", cmd_label)
    label.add_argument("thread_id")
    label.add_argument("--metadata", action="append", required=True, help="KEY=VALUE label")
    copy = command("copy", "copy a thread: a new one going on from the same state", cmd_copy)
    copy.add_argument("thread_id")
    copy.add_argument("--to", help="the copy's id (default: a new UUID)")
    command("get", "show a thread and its status", cmd_get).add_argument("thread_id")
    lst = command("list", "list threads, most recently updated first", cmd_list)
    lst.add_argument("--status", choices=["idle", "busy", "interrupted", "error"])
    lst.add_argument("--graph")
    lst.add_argument("--metadata", action="append", help="KEY=VALUE label (repeatable)")
    lst.add_argument("--page-size", type=int)
    lst.add_argument("--page-token")
    state = command("state", "show the thread's state (values, next, interrupts)", cmd_state)
    state.add_argument("thread_id")
    state.add_argument("--checkpoint", help="at this checkpoint instead of the latest")
    history = command("history", "show the thread's past states, newest first", cmd_history)
    history.add_argument("thread_id")
    history.add_argument("--page-size", type=int)
    history.add_argument("--page-token")
    update = command("update", "write a state update as if a node returned it", cmd_update)
    update.add_argument("thread_id")
    update.add_argument("values", help="JSON object of state keys")
    update.add_argument("--as-node", help="the node the update is attributed to")
    update.add_argument("--checkpoint", help="update this checkpoint instead (forks)")
    command("delete", "delete the thread's state and retire its id", cmd_delete).add_argument(
        "thread_id"
    )
