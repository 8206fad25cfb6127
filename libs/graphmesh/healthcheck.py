"""`python -m graphmesh.healthcheck HOST:PORT [SERVICE]`: exits 0 when the
server reports SERVING, 1 otherwise (for container health checks; Kubernetes
probes speak gRPC health themselves)."""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main(argv: list[str]) -> int:
    """Checks one server's health once."""
    if not 1 <= len(argv) <= 2:
        print("usage: python -m graphmesh.healthcheck HOST:PORT [SERVICE]", file=sys.stderr)
        return 2
    with grpc.insecure_channel(argv[0]) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=argv[1] if len(argv) > 1 else ""), timeout=2
            )
        except grpc.RpcError as exc:
            print(f"{argv[0]}: {exc.code().name}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    print(f"{argv[0]}: {status}")
    return 0 if answer.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
