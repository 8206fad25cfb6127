"""`python -m graphmesh.healthcheck HOST:PORT [SERVICE] [--internal | --tls-ca FILE]`:
exits 0 when the server reports SERVING, 1 otherwise (for container health
checks and Kubernetes exec probes: Kubernetes' own gRPC probe speaks no TLS).

`--internal` connects with the service's own mutual-TLS identity
(GRAPHMESH_INTERNAL_TLS_* in the environment, as the service reads them);
`--tls-ca` connects with TLS to a listener whose certificate that CA signed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from graphmesh.settings import SettingsError
from graphmesh.tls import ClientTls, internal_tls_from_env


def _channel(args: argparse.Namespace) -> grpc.Channel:
    tls: ClientTls | None = None
    if args.internal:
        internal = internal_tls_from_env(os.environ)
        if internal is None:
            raise SettingsError("--internal: GRAPHMESH_INTERNAL_TLS_* are not set")
        tls = internal.client
    elif args.tls_ca:
        tls = ClientTls.from_files(Path(args.tls_ca))
    if tls is None:
        return grpc.insecure_channel(args.target)
    return grpc.secure_channel(args.target, tls.credentials())


def main(argv: list[str]) -> int:
    """Checks one server's health once."""
    parser = argparse.ArgumentParser(prog="python -m graphmesh.healthcheck")
    parser.add_argument("target", help="HOST:PORT")
    parser.add_argument("service", nargs="?", default="", help="a service name (default: all)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--internal", action="store_true", help="mutual TLS, as the services")
    how.add_argument("--tls-ca", help="TLS, trusting this CA")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    try:
        channel = _channel(args)
    except SettingsError as exc:
        print(f"{args.target}: {exc}", file=sys.stderr)
        return 2
    with channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=args.service), timeout=2
            )
        except grpc.RpcError as exc:
            print(f"{args.target}: {exc.code().name}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    print(f"{args.target}: {status}")
    return 0 if answer.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
