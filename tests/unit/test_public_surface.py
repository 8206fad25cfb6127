"""What `import graphmesh` offers: every name in `__all__` exists, the
client and the services raise the same error classes, and `graphmesh up`
takes every port it uses."""

from __future__ import annotations

from pathlib import Path

import grpc

import graphmesh
import graphmesh.client
import graphmesh.eventstore
import graphmesh.testing
from graphmesh.errors import GraphmeshError, error_class
from graphmesh.testing import LocalStack
from graphmesh.testing.infra.postgres import pgvector_bin_dir
from graphmesh_cli.main import build_parser
from graphmesh_cli.stack_commands import _stack_config


def test_every_public_name_is_there() -> None:
    for module in (graphmesh, graphmesh.client, graphmesh.testing, graphmesh.eventstore):
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert missing == [], module.__name__
    assert "ClientError" not in dir(graphmesh.client)


def test_each_status_code_has_one_error_class() -> None:
    for code in grpc.StatusCode:
        if code is grpc.StatusCode.OK:
            continue
        cls = error_class(code)
        assert issubclass(cls, GraphmeshError)
        assert cls.code in (code, grpc.StatusCode.INTERNAL)
    assert error_class(grpc.StatusCode.NOT_FOUND) is graphmesh.NotFound
    assert error_class(grpc.StatusCode.DATA_LOSS) is graphmesh.DataLoss


def test_up_takes_every_port_it_uses(tmp_path: Path) -> None:
    ports = ["--port", "6100", "--postgres-port", "6200", "--broker-port", "6300"]
    args = build_parser().parse_args(["up", *ports, "--metrics-port", "6400", "--executors", "2"])
    stack = LocalStack(_stack_config(args, tmp_path))
    c = stack.config
    assert (c.gateway_port, c.checkpoint_port, c.projector_port, c.executor_port) == (
        6100,
        6101,
        6102,
        6103,
    )
    assert (c.postgres_port, c.broker_port) == (6200, 6300)
    metrics = [stack.metrics_port_of(n) for n in ("gateway", "checkpoint", "projector")]
    metrics += [stack.metrics_port_of("executor", i) for i in range(2)]
    assert metrics == [6400, 6401, 6402, 6403, 6404]
    off = build_parser().parse_args(["up", "--metrics-port", "0"])
    assert LocalStack(_stack_config(off, tmp_path)).metrics_port_of("gateway") == 0


def test_up_with_pgvector_runs_the_pgserver_postgresql(tmp_path: Path) -> None:
    args = build_parser().parse_args(["up", "--pgvector", "--data-dir", str(tmp_path)])
    config = _stack_config(args, tmp_path)
    assert config.postgres_bin == pgvector_bin_dir()
    assert (pgvector_bin_dir() / "postgres").exists()
    assert _stack_config(build_parser().parse_args(["up"]), tmp_path).postgres_bin is None
