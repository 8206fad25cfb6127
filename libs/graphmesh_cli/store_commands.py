"""`graphmesh store ...`: put, get, search, delete items and list namespaces
of the long-term memory store. Namespaces are written with "/" between
their labels (`prefs/u-7`)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from graphmesh_cli.thread_commands import add_connection_options, connect, print_json


def _namespace(text: str | None) -> tuple[str, ...]:
    return tuple(text.split("/")) if text else ()


def _json_object(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SystemExit(f"error: {what} is not JSON ({exc})") from None


def cmd_put(args: argparse.Namespace) -> int:
    """Stores an item."""
    value = _json_object(args.value, "VALUE")
    with connect(args) as client:
        client.put_item(
            _namespace(args.namespace),
            args.key,
            value,
            ttl_minutes=args.ttl,
            index=False if args.no_index else (args.index or None),
        )
    print_json({"namespace": list(_namespace(args.namespace)), "key": args.key, "stored": True})
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    """Shows an item."""
    with connect(args) as client:
        print_json(client.get_item(_namespace(args.namespace), args.key).to_dict())
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Deletes an item."""
    with connect(args) as client:
        client.delete_item(_namespace(args.namespace), args.key)
    print_json({"namespace": list(_namespace(args.namespace)), "key": args.key, "deleted": True})
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Searches items."""
    with connect(args) as client:
        items = client.search_items(
            _namespace(args.prefix),
            filter=_json_object(args.filter, "--filter"),
            query=args.query or "",
            limit=args.limit,
            offset=args.offset,
        )
    print_json({"items": [i.to_dict() for i in items]})
    return 0


def cmd_namespaces(args: argparse.Namespace) -> int:
    """Lists namespaces."""
    with connect(args) as client:
        spaces = client.list_namespaces(
            _namespace(args.prefix),
            suffix=_namespace(args.suffix),
            max_depth=args.max_depth,
            limit=args.limit,
            offset=args.offset,
        )
    print_json({"namespaces": ["/".join(s) for s in spaces]})
    return 0


def add_store_commands(sub: Any) -> None:
    """Adds `store` and its subcommands to the CLI."""
    store = sub.add_parser("store", help="the long-term memory store: items under namespaces")
    store_sub = store.add_subparsers(dest="store_command", required=True)

    def command(name: str, help_: str, func: Any) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = store_sub.add_parser(name, help=help_)
        add_connection_options(p)
        p.set_defaults(func=func)
        return p

    put = command("put", "store (or replace) an item", cmd_put)
    put.add_argument("namespace", help="labels joined by /")
    put.add_argument("key")
    put.add_argument("value", help="a JSON object")
    put.add_argument("--ttl", type=float, help="minutes until it expires")
    put.add_argument("--index", action="append", help="a field to embed (repeatable)")
    put.add_argument("--no-index", action="store_true", help="do not embed it")
    get = command("get", "show an item", cmd_get)
    get.add_argument("namespace")
    get.add_argument("key")
    delete = command("delete", "delete an item", cmd_delete)
    delete.add_argument("namespace")
    delete.add_argument("key")
    search = command("search", "items under a namespace prefix", cmd_search)
    search.add_argument("prefix", nargs="?", help="labels joined by / (default: all)")
    search.add_argument("--filter", help="LangGraph's filter, a JSON object")
    search.add_argument("--query", help="rank by semantic similarity to this text")
    search.add_argument("--limit", type=int)
    search.add_argument("--offset", type=int, default=0)
    spaces = command("namespaces", "namespaces holding items", cmd_namespaces)
    spaces.add_argument("--prefix", help="labels joined by / (* any label)")
    spaces.add_argument("--suffix", help="labels joined by / (* any label)")
    spaces.add_argument("--max-depth", type=int)
    spaces.add_argument("--limit", type=int)
    spaces.add_argument("--offset", type=int, default=0)
