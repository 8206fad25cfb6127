"""TLS on the public API and mutual TLS between the services, with right
and wrong certificates, against the real secured mesh (and, for client
certificates on the public API, a server built the way the gateway is)."""

from __future__ import annotations

import uuid
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from graphmesh import grpcutil
from graphmesh.internal.v1 import event_store_service_pb2 as es_pb2
from graphmesh.internal.v1 import event_store_service_pb2_grpc as es_grpc
from graphmesh.testing.infra.procs import free_port
from graphmesh.testing.pki import CertificateAuthority
from graphmesh.tls import ClientTls, ServerTls
from graphmesh_cli.main import main
from tests.security.conftest import SecureMesh

pytestmark = pytest.mark.e2e


def _health(channel: grpc.Channel) -> int:
    answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return int(answer.status)


def _refused(channel: grpc.Channel) -> grpc.StatusCode:
    with channel, pytest.raises(grpc.RpcError) as exc:
        _health(channel)
    return exc.value.code()  # type: ignore[no-any-return, attr-defined]


def test_the_public_api_speaks_tls_only_with_a_trusted_certificate(
    secure: SecureMesh, tmp_path: Path
) -> None:
    target = secure.target
    assert _refused(grpc.insecure_channel(target)) is grpc.StatusCode.UNAVAILABLE
    stranger = CertificateAuthority(tmp_path, "stranger")
    wrong = ClientTls.from_files(stranger.cert).credentials()
    assert _refused(grpc.secure_channel(target, wrong)) is grpc.StatusCode.UNAVAILABLE
    with secure.channel() as channel:
        assert _health(channel) == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("name", ["checkpoint", "projector", "executor"])
def test_internal_services_need_the_internal_client_certificate(
    secure: SecureMesh, tmp_path: Path, name: str
) -> None:
    target = f"127.0.0.1:{secure.mesh.service(name).port}"
    ca = secure.internal_ca.cert
    assert _refused(grpc.insecure_channel(target)) is grpc.StatusCode.UNAVAILABLE
    # TLS that trusts the server, but presents no client certificate.
    anonymous = ClientTls.from_files(ca).credentials()
    assert _refused(grpc.secure_channel(target, anonymous)) is grpc.StatusCode.UNAVAILABLE
    # A client certificate from another CA.
    stranger = CertificateAuthority(tmp_path, "stranger").issue("intruder")
    foreign = ClientTls.from_files(ca, stranger.cert, stranger.key).credentials()
    assert _refused(grpc.secure_channel(target, foreign)) is grpc.StatusCode.UNAVAILABLE
    # The public CA's certificates are no internal credentials either.
    public = ClientTls.from_files(
        ca, secure.pki / "public-gateway.pem", secure.pki / "public-gateway-key.pem"
    ).credentials()
    assert _refused(grpc.secure_channel(target, public)) is grpc.StatusCode.UNAVAILABLE
    internal = ClientTls.from_files(ca, secure.internal.cert, secure.internal.key)
    with grpc.secure_channel(target, internal.credentials()) as channel:
        assert _health(channel) == health_pb2.HealthCheckResponse.SERVING


def test_the_internal_api_answers_with_the_internal_credentials(secure: SecureMesh) -> None:
    target = f"127.0.0.1:{secure.mesh.service('checkpoint').port}"
    internal = ClientTls.from_files(
        secure.internal_ca.cert, secure.internal.cert, secure.internal.key
    )
    with grpc.secure_channel(target, internal.credentials()) as channel:
        answer = es_grpc.EventStoreServiceStub(channel).ReadEvents(
            es_pb2.ReadEventsRequest(run_id=str(uuid.uuid4()), limit=1), timeout=10
        )
    assert not answer.run_exists


async def _health_over(tls: ServerTls, client: ClientTls) -> grpc.StatusCode:
    """Serves health with `tls` in process; what a `client` call gets."""
    server = grpcutil.create_server()
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    address = f"127.0.0.1:{free_port()}"
    grpcutil.listen(server, address, tls)
    await server.start()
    try:
        async with grpc.aio.secure_channel(address, client.credentials()) as channel:
            try:
                await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=5
                )
            except grpc.aio.AioRpcError as exc:
                return exc.code()
            return grpc.StatusCode.OK
    finally:
        await server.stop(None)


async def test_the_certs_command_makes_a_pki_both_listeners_accept(tmp_path: Path) -> None:
    assert main(["certs", str(tmp_path)]) == 0
    assert main(["certs", str(tmp_path)]) == 2  # never overwrites by accident
    names = ("public-ca", "public-gateway", "internal-ca", "internal-mesh")
    pem = {f"{n}{part}.pem": tmp_path / f"{n}{part}.pem" for n in names for part in ("", "-key")}
    gateway = ServerTls(
        pem["public-gateway.pem"].read_bytes(), pem["public-gateway-key.pem"].read_bytes()
    )
    client = ClientTls.from_files(pem["public-ca.pem"])
    assert await _health_over(gateway, client) is grpc.StatusCode.OK
    internal = ServerTls(
        pem["internal-mesh.pem"].read_bytes(),
        pem["internal-mesh-key.pem"].read_bytes(),
        pem["internal-ca.pem"].read_bytes(),
    )
    peer = ClientTls.from_files(
        pem["internal-ca.pem"], pem["internal-mesh.pem"], pem["internal-mesh-key.pem"]
    )
    assert await _health_over(internal, peer) is grpc.StatusCode.OK
    # The gateway's certificate is no internal identity.
    outsider = ClientTls.from_files(
        pem["internal-ca.pem"], pem["public-gateway.pem"], pem["public-gateway-key.pem"]
    )
    assert await _health_over(internal, outsider) is grpc.StatusCode.UNAVAILABLE


async def test_client_certificates_on_the_public_api_when_a_client_ca_is_set(
    tmp_path: Path,
) -> None:
    """GRAPHMESH_TLS_CLIENT_CA_FILE: the server the gateway builds from it
    (ServerTls through grpcutil.listen) accepts only clients that CA signed."""
    ca = CertificateAuthority(tmp_path, "users")
    server_cert = ca.issue("gateway", client=False)
    client_cert = ca.issue("alice", server=False)
    other = CertificateAuthority(tmp_path / "other", "other").issue("mallory", server=False)
    tls = ServerTls(
        server_cert.cert.read_bytes(), server_cert.key.read_bytes(), ca.cert.read_bytes()
    )
    no_cert = ClientTls.from_files(ca.cert)
    foreign = ClientTls.from_files(ca.cert, other.cert, other.key)
    signed = ClientTls.from_files(ca.cert, client_cert.cert, client_cert.key)
    assert await _health_over(tls, no_cert) is grpc.StatusCode.UNAVAILABLE
    assert await _health_over(tls, foreign) is grpc.StatusCode.UNAVAILABLE
    assert await _health_over(tls, signed) is grpc.StatusCode.OK


async def test_a_bind_that_fails_refuses_to_start() -> None:
    server = grpcutil.create_server()
    with pytest.raises(OSError):
        grpcutil.listen(server, "256.0.0.1:1", None)
