"""Transport security for gRPC: TLS on the public API and mutual TLS
between the services.

- The gateway's public listener serves TLS when GRAPHMESH_TLS_CERT_FILE and
  GRAPHMESH_TLS_KEY_FILE are set; with GRAPHMESH_TLS_CLIENT_CA_FILE it also
  requires client certificates signed by that CA.
- Between services, each process has one identity
  (GRAPHMESH_INTERNAL_TLS_CERT_FILE / _KEY_FILE) and one CA
  (GRAPHMESH_INTERNAL_TLS_CA_FILE): its internal listener requires a client
  certificate signed by that CA, and its channels to other services present
  its own certificate and accept only servers signed by it. With mutual TLS
  on, the internal APIs cannot be called without the internal credentials.
  The certificates must name the addresses the services are called by
  (subjectAltName), e.g. `checkpoint` and `127.0.0.1`.

Files are read once, when the settings are built; a missing or unreadable
file refuses to start the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc

from graphmesh.settings import SettingsError, env_str


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"{what} {path}: {exc.strerror or exc}") from None


@dataclass(frozen=True, slots=True)
class ServerTls:
    """A listener's certificate chain and key, and the CA its clients'
    certificates must be signed by (None: clients need no certificate)."""

    cert_chain: bytes
    private_key: bytes
    client_ca: bytes | None = None

    def credentials(self) -> grpc.ServerCredentials:
        """gRPC server credentials."""
        return grpc.ssl_server_credentials(
            [(self.private_key, self.cert_chain)],
            root_certificates=self.client_ca,
            require_client_auth=self.client_ca is not None,
        )

    def __repr__(self) -> str:  # keys stay out of logs and tracebacks
        return f"ServerTls(client_auth={self.client_ca is not None})"


@dataclass(frozen=True, slots=True)
class ClientTls:
    """What a channel trusts (None: the system's roots) and the certificate
    it presents, if any."""

    root_ca: bytes | None = None
    cert_chain: bytes | None = None
    private_key: bytes | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        """gRPC channel credentials."""
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_ca,
            private_key=self.private_key,
            certificate_chain=self.cert_chain,
        )

    @classmethod
    def from_files(
        cls, ca: Path | None, cert: Path | None = None, key: Path | None = None
    ) -> ClientTls:
        """Reads the files given."""
        return cls(
            root_ca=_read(ca, "CA file") if ca else None,
            cert_chain=_read(cert, "certificate file") if cert else None,
            private_key=_read(key, "key file") if key else None,
        )

    def __repr__(self) -> str:
        return f"ClientTls(client_cert={self.cert_chain is not None})"


@dataclass(frozen=True, slots=True)
class InternalTls:
    """One service's identity and CA for mutual TLS with the others."""

    cert_chain: bytes
    private_key: bytes
    ca: bytes

    @property
    def server(self) -> ServerTls:
        """The internal listener: clients must present a certificate."""
        return ServerTls(self.cert_chain, self.private_key, self.ca)

    @property
    def client(self) -> ClientTls:
        """Channels to other services."""
        return ClientTls(self.ca, self.cert_chain, self.private_key)

    def __repr__(self) -> str:
        return "InternalTls()"


def _files(env: Mapping[str, str], names: tuple[str, ...]) -> list[Path | None]:
    return [Path(v) if (v := env_str(env, name, "")) else None for name in names]


def public_tls_from_env(env: Mapping[str, str]) -> ServerTls | None:
    """GRAPHMESH_TLS_CERT_FILE, GRAPHMESH_TLS_KEY_FILE (both or neither) and
    GRAPHMESH_TLS_CLIENT_CA_FILE: the gateway's public listener."""
    names = ("GRAPHMESH_TLS_CERT_FILE", "GRAPHMESH_TLS_KEY_FILE", "GRAPHMESH_TLS_CLIENT_CA_FILE")
    cert, key, client_ca = _files(env, names)
    if (cert is None) != (key is None):
        raise SettingsError(
            "set both GRAPHMESH_TLS_CERT_FILE and GRAPHMESH_TLS_KEY_FILE, or neither"
        )
    if cert is None or key is None:
        if client_ca is not None:
            raise SettingsError("GRAPHMESH_TLS_CLIENT_CA_FILE needs GRAPHMESH_TLS_CERT_FILE")
        return None
    return ServerTls(
        _read(cert, "GRAPHMESH_TLS_CERT_FILE"),
        _read(key, "GRAPHMESH_TLS_KEY_FILE"),
        _read(client_ca, "GRAPHMESH_TLS_CLIENT_CA_FILE") if client_ca else None,
    )


def internal_tls_from_env(env: Mapping[str, str]) -> InternalTls | None:
    """GRAPHMESH_INTERNAL_TLS_CERT_FILE, _KEY_FILE and _CA_FILE: all three
    (mutual TLS between the services) or none (plaintext)."""
    names = (
        "GRAPHMESH_INTERNAL_TLS_CERT_FILE",
        "GRAPHMESH_INTERNAL_TLS_KEY_FILE",
        "GRAPHMESH_INTERNAL_TLS_CA_FILE",
    )
    paths = _files(env, names)
    if all(p is None for p in paths):
        return None
    if any(p is None for p in paths):
        raise SettingsError(f"set all of {', '.join(names)}, or none")
    cert, key, ca = (_read(p, n) for p, n in zip(paths, names, strict=True) if p is not None)
    return InternalTls(cert, key, ca)
