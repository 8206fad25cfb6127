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
import os
import sys

from graphmesh.errors import GraphmeshError
from graphmesh_cli.assistant_commands import add_assistant_commands
from graphmesh_cli.auth_commands import add_auth_commands
from graphmesh_cli.ops_commands import add_ops_commands
from graphmesh_cli.run_commands import add_run_commands
from graphmesh_cli.stack_commands import add_stack_commands
from graphmesh_cli.store_commands import add_store_commands
from graphmesh_cli.thread_commands import (
    add_connection_options,
    add_thread_commands,
)


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

    add_stack_commands(sub)
    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=cmd_migrate)

    runs_sub = add_run_commands(sub)
    add_thread_commands(sub)
    add_assistant_commands(sub)
    add_store_commands(sub)
    add_ops_commands(sub, runs_sub)
    add_auth_commands(sub)

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
