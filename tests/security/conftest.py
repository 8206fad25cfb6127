"""A secured mesh for the security tests: TLS on the public API, mutual TLS
between the services, API keys and JWTs (RS256, from a JWKS file) for four
tenants, per-tenant limits, spans exported to a real OTLP receiver."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from graphmesh.auth import key_digest
from graphmesh.client import Client
from graphmesh.testing.pki import CertificateAuthority, Issued
from graphmesh.testing.stack import LocalStack
from graphmesh.tls import ClientTls
from tests.conftest import TEST_GRAPHS, running_mesh
from tests.otlp import OtlpReceiver

#: API keys by tenant (each listed in the keys file by its digest only).
API_KEYS = {
    "acme": "gm-acme-7c1d0e5b9a",
    "globex": "gm-globex-3f8a21d6c4",
    "quotaco": "gm-quotaco-0b9e4d7a12",
    "ratedco": "gm-ratedco-5e6f7a8b9c",
    "fuzzco": "gm-fuzzco-1a2b3c4d5e",
}
TOKEN_SECRET = "token-secret-for-the-secure-mesh-91e3"
DB_PASSWORD = "db-password-6d4c2b1a0f"


@dataclass
class SecureMesh:
    """The secured mesh and what its clients need."""

    mesh: LocalStack
    pki: Path
    public_ca: Path
    internal_ca: CertificateAuthority
    internal: Issued
    jwt_key: rsa.RSAPrivateKey
    receiver: OtlpReceiver

    @property
    def target(self) -> str:
        return self.mesh.gateway_target

    def tls(self) -> ClientTls:
        """What a public client trusts."""
        return ClientTls.from_files(self.public_ca)

    def client(self, tenant: str | None = None, token: str | None = None) -> Client:
        """A Python client of `tenant` (its API key), or with `token`."""
        return Client(self.target, token=token or API_KEYS.get(tenant or ""), tls=self.tls())

    def jwt(self, tenant: str, subject: str = "alice", **claims: Any) -> str:
        """A JWT for `tenant`, signed with the key the mesh trusts."""
        body = {"sub": subject, "tenant": tenant, "exp": int(time.time()) + 600, **claims}
        return jwt.encode(body, self.jwt_key, algorithm="RS256", headers={"kid": "mesh-1"})

    def channel(self) -> grpc.Channel:
        """A raw TLS channel to the gateway (no credentials)."""
        return grpc.secure_channel(self.target, self.tls().credentials())

    def logs(self) -> str:
        """Every service's log so far."""
        return "".join(
            p.read_text(errors="replace")
            for p in sorted((self.mesh.config.data_dir / "logs").glob("*.log"))
        )


@pytest.fixture(scope="session")
def secure(request: pytest.FixtureRequest) -> Iterator[SecureMesh]:
    pki = Path(tempfile.mkdtemp(prefix="graphmesh-pki-"))
    public_ca = CertificateAuthority(pki, "public")
    gateway = public_ca.issue("gateway", client=False)
    internal_ca = CertificateAuthority(pki, "internal")
    internal = internal_ca.issue("mesh")
    keys = pki / "api-keys.json"
    keys.write_text(
        json.dumps({"keys": [{"sha256": key_digest(k), "tenant": t} for t, k in API_KEYS.items()]})
    )
    jwt_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(jwt_key.public_key()))
    jwks = pki / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "mesh-1", "alg": "RS256"}]}))
    receiver = OtlpReceiver()
    receiver.start()
    env = {
        "GRAPHMESH_AUTH_REQUIRED": "true",
        "GRAPHMESH_API_KEYS_FILE": str(keys),
        "GRAPHMESH_JWT_JWKS_FILE": str(jwks),
        "GRAPHMESH_TLS_CERT_FILE": str(gateway.cert),
        "GRAPHMESH_TLS_KEY_FILE": str(gateway.key),
        "GRAPHMESH_INTERNAL_TLS_CERT_FILE": str(internal.cert),
        "GRAPHMESH_INTERNAL_TLS_KEY_FILE": str(internal.key),
        "GRAPHMESH_INTERNAL_TLS_CA_FILE": str(internal_ca.cert),
        "GRAPHMESH_TOKEN_SECRET": TOKEN_SECRET,
        # Trust authentication ignores it; it must still never be shown.
        "GRAPHMESH_DATABASE_PASSWORD": DB_PASSWORD,
        "GRAPHMESH_TENANT_MAX_ACTIVE_RUNS": "quotaco=1",
        "GRAPHMESH_TENANT_RATE_LIMITS": "ratedco=0.5:2",
        # A run's state may not outgrow 200 kB here (the `grower` graph).
        "GRAPHMESH_MAX_STATE_BYTES": "200000",
        "GRAPHMESH_OTLP_ENDPOINT": receiver.endpoint,
    }
    try:
        with running_mesh(
            request,
            graphs=TEST_GRAPHS,
            extra_env=env,
            gateway_tls=ClientTls.from_files(public_ca.cert),
            log_level="DEBUG",
        ) as mesh:
            yield SecureMesh(mesh, pki, public_ca.cert, internal_ca, internal, jwt_key, receiver)
    finally:
        receiver.stop()
        shutil.rmtree(pki, ignore_errors=True)
