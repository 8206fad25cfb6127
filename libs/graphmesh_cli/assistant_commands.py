"""`graphmesh assistants ...`: create, inspect, version and delete assistants."""

from __future__ import annotations

import argparse
import json
from typing import Any

from graphmesh.client import AssistantFields
from graphmesh_cli.thread_commands import add_connection_options, connect, print_json


def _json_arg(text: str | None, flag: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SystemExit(f"error: {flag} is not JSON ({exc})") from None


def _fields(args: argparse.Namespace) -> AssistantFields:
    """The fields given on the command line (those not given are left out)."""
    fields: AssistantFields = {}
    if args.name is not None:
        fields["name"] = args.name
    if args.description is not None:
        fields["description"] = args.description
    for key, flag in (("config", "--config"), ("metadata", "--metadata")):
        value = _json_arg(getattr(args, key), flag)
        if value is not None:
            fields[key] = value  # type: ignore[literal-required]
    if args.context is not None:
        fields["context"] = _json_arg(args.context, "--context")
    return fields


def cmd_create(args: argparse.Namespace) -> int:
    """Creates an assistant."""
    with connect(args) as client:
        assistant = client.create_assistant(
            args.graph_id,
            assistant_id=args.assistant_id or "",
            if_exists_return=args.if_exists,
            **_fields(args),
        )
    print_json(assistant.to_dict())
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    """Shows an assistant's latest version."""
    with connect(args) as client:
        print_json(client.get_assistant(args.assistant_id).to_dict())
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Lists (searches) assistants."""
    with connect(args) as client:
        found, token = client.search_assistants(
            args.graph or "",
            metadata=_json_arg(args.metadata, "--metadata"),
            name=args.name or "",
            page_size=args.page_size,
            page_token=args.page_token or "",
        )
    print_json({"assistants": [a.to_dict() for a in found], "next_page_token": token})
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    """Writes a new version."""
    with connect(args) as client:
        assistant = client.update_assistant(args.assistant_id, graph_id=args.graph, **_fields(args))
    print_json(assistant.to_dict())
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Deletes an assistant."""
    with connect(args) as client:
        client.delete_assistant(args.assistant_id)
    print_json({"deleted": args.assistant_id})
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    """Lists an assistant's versions, or makes one the latest."""
    with connect(args) as client:
        if args.set_latest is not None:
            latest = client.set_latest_assistant_version(args.assistant_id, args.set_latest)
            print_json(latest.to_dict())
            return 0
        versions, token = client.list_assistant_versions(
            args.assistant_id, page_size=args.page_size, page_token=args.page_token or ""
        )
    print_json({"versions": [v.to_dict() for v in versions], "next_page_token": token})
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    """Shows the JSON schemas of an assistant's graph."""
    with connect(args) as client:
        print_json(client.get_assistant_schemas(args.assistant_id))
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    """Shows an assistant's graph (Mermaid text, or JSON with --json)."""
    with connect(args) as client:
        drawing, mermaid = client.get_assistant_graph(args.assistant_id, xray=args.xray)
    if args.json:
        print_json(drawing)
    else:
        print(mermaid)
    return 0


def _spec_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name")
    parser.add_argument("--description")
    parser.add_argument("--config", help="LangGraph run config for its runs (JSON object)")
    parser.add_argument("--context", help="runtime context for its runs (JSON)")
    parser.add_argument("--metadata", help="metadata (JSON object; merged in by update)")


def add_assistant_commands(sub: Any) -> None:
    """Adds `assistants` and its subcommands to the CLI."""
    assistants = sub.add_parser(
        "assistants", help="create, inspect, version and delete assistants (graph configurations)"
    )
    assistants_sub = assistants.add_subparsers(dest="assistants_command", required=True)

    def command(name: str, help_: str, func: Any) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = assistants_sub.add_parser(name, help=help_)
        add_connection_options(p)
        p.set_defaults(func=func)
        return p

    create = command("create", "create an assistant of a graph (version 1)", cmd_create)
    create.add_argument("graph_id")
    create.add_argument("--assistant-id", help="its id, a UUID (default: a new one)")
    create.add_argument(
        "--if-exists", action="store_true", help="return an existing assistant with the id"
    )
    _spec_options(create)
    get = command("get", "show an assistant (a graph id: its default assistant)", cmd_get)
    get.add_argument("assistant_id")
    lst = command("list", "list assistants, newest first", cmd_list)
    lst.add_argument("--graph")
    lst.add_argument("--name", help="names containing this (any case)")
    lst.add_argument("--metadata", help="metadata containing this JSON object")
    lst.add_argument("--page-size", type=int)
    lst.add_argument("--page-token")
    update = command("update", "write a new version from the latest one", cmd_update)
    update.add_argument("assistant_id")
    update.add_argument("--graph", help="run another graph")
    _spec_options(update)
    command("delete", "delete an assistant and its versions", cmd_delete).add_argument(
        "assistant_id"
    )
    versions = command("versions", "list versions, or --set-latest N", cmd_versions)
    versions.add_argument("assistant_id")
    versions.add_argument("--set-latest", type=int, metavar="N", help="make version N the latest")
    versions.add_argument("--page-size", type=int)
    versions.add_argument("--page-token")
    command("schemas", "JSON schemas of its graph", cmd_schemas).add_argument("assistant_id")
    graph = command("graph", "its graph as Mermaid text (--json: nodes and edges)", cmd_graph)
    graph.add_argument("assistant_id")
    graph.add_argument("--xray", type=int, default=0, help="draw subgraphs this deep")
    graph.add_argument("--json", action="store_true")
