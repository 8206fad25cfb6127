"""Every public RPC, found from the service descriptors, and a way to call
any of them with any request and metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import descriptor, message_factory

from graphmesh.v1 import (
    assistant_service_pb2,
    graph_service_pb2,
    run_service_pb2,
    store_service_pb2,
    thread_service_pb2,
)

PUBLIC_SERVICES = [
    run_service_pb2.DESCRIPTOR.services_by_name["RunService"],
    thread_service_pb2.DESCRIPTOR.services_by_name["ThreadService"],
    graph_service_pb2.DESCRIPTOR.services_by_name["GraphService"],
    assistant_service_pb2.DESCRIPTOR.services_by_name["AssistantService"],
    store_service_pb2.DESCRIPTOR.services_by_name["StoreService"],
]


@dataclass(frozen=True)
class Rpc:
    """One public method."""

    method: descriptor.MethodDescriptor

    @property
    def path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def name(self) -> str:
        return f"{self.method.containing_service.name}.{self.method.name}"

    def request(self, **fields: Any) -> Any:
        """A request message of this method."""
        return message_factory.GetMessageClass(self.method.input_type)(**fields)

    def call(
        self,
        channel: grpc.Channel,
        request: Any,
        metadata: Sequence[tuple[str, str]] = (),
        timeout: float = 10,
    ) -> list[Any]:
        """Calls it; the answers (one, or a stream's); raises grpc.RpcError."""
        return self.call_raw(channel, request.SerializeToString(), metadata, timeout)

    def call_raw(
        self,
        channel: grpc.Channel,
        body: bytes,
        metadata: Sequence[tuple[str, str]] = (),
        timeout: float = 10,
    ) -> list[Any]:
        """Calls it with `body` as the serialised request."""
        response = message_factory.GetMessageClass(self.method.output_type)
        if self.method.server_streaming:
            stream = channel.unary_stream(
                self.path, request_serializer=None, response_deserializer=response.FromString
            )
            return list(stream(body, metadata=list(metadata), timeout=timeout))
        unary = channel.unary_unary(
            self.path, request_serializer=None, response_deserializer=response.FromString
        )
        return [unary(body, metadata=list(metadata), timeout=timeout)]


PUBLIC_RPCS = [Rpc(m) for service in PUBLIC_SERVICES for m in service.methods]
