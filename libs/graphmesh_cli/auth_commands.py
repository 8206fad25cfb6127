"""`graphmesh auth ...` and `graphmesh certs`: credentials for a mesh.

The keys file (GRAPHMESH_API_KEYS_FILE) lists keys by their SHA-256 digest,
so it holds no key in plain; a new key is shown once, to hand to its owner.
`graphmesh certs DIR` makes a development PKI: a public CA and the
gateway's certificate, an internal CA and the services' shared identity for
mutual TLS, with the file names the compose file mounts.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

from graphmesh.auth import TENANT_PATTERN, key_digest


def cmd_new_key(args: argparse.Namespace) -> int:
    """Prints a new random API key and its keys-file entry."""
    if not TENANT_PATTERN.match(args.tenant):
        print("error: a tenant is 1-63 lower-case letters, digits or '-'", file=sys.stderr)
        return 2
    key = f"gm_{secrets.token_urlsafe(32)}"
    entry = {
        "sha256": key_digest(key),
        "subject": args.subject or args.tenant,
        "tenant": args.tenant,
    }
    print(json.dumps({"api_key": key, "keys_file_entry": entry}, indent=2))
    print(
        "the key is shown once: hand it to its owner; add the entry to the keys file",
        file=sys.stderr,
    )
    return 0


def cmd_hash_key(args: argparse.Namespace) -> int:
    """Prints the digest of the API key read from standard input."""
    key = sys.stdin.readline().strip()
    if not key:
        print("error: give the key on standard input", file=sys.stderr)
        return 2
    print(key_digest(key))
    return 0


#: The services' host names in the compose file (and on this machine).
DEFAULT_HOSTS = "localhost,gateway,checkpoint,projector,executor"


def cmd_certs(args: argparse.Namespace) -> int:
    """Writes a development PKI into a directory."""
    from graphmesh.testing.pki import CertificateAuthority

    directory = Path(args.directory)
    if any(directory.glob("*.pem")) and not args.force:
        print(
            f"error: {directory} already holds certificates (--force replaces them)",
            file=sys.stderr,
        )
        return 2
    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    public = CertificateAuthority(directory, "public", days=args.days)
    gateway = public.issue("gateway", client=False, hosts=hosts)
    internal = CertificateAuthority(directory, "internal", days=args.days)
    mesh = internal.issue("mesh", hosts=hosts)
    for path in directory.glob("*-key.pem"):
        # Readable by the containers' user (uid 10001) through the bind
        # mount: fine for a development PKI, never for real keys.
        path.chmod(0o644)
    print_files = {
        "GRAPHMESH_TLS_CERT_FILE": gateway.cert,
        "GRAPHMESH_TLS_KEY_FILE": gateway.key,
        "clients' CA (--tls-ca)": public.cert,
        "GRAPHMESH_INTERNAL_TLS_CERT_FILE": mesh.cert,
        "GRAPHMESH_INTERNAL_TLS_KEY_FILE": mesh.key,
        "GRAPHMESH_INTERNAL_TLS_CA_FILE": internal.cert,
    }
    for what, path in print_files.items():
        print(f"{what}: {path}")
    print(
        "development certificates: use your own CA in production (docs/security.md)",
        file=sys.stderr,
    )
    return 0


def add_auth_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Adds `graphmesh auth` to the parser."""
    auth = sub.add_parser("auth", help="make API keys for the keys file")
    auth_sub = auth.add_subparsers(dest="auth_command", required=True)
    new = auth_sub.add_parser("new-key", help="a new API key and its keys-file entry")
    new.add_argument("--tenant", required=True, help="the tenant the key acts for")
    new.add_argument("--subject", help="who holds the key (shown in logs; default: the tenant)")
    new.set_defaults(func=cmd_new_key)
    hashed = auth_sub.add_parser("hash-key", help="the digest of a key read from stdin")
    hashed.set_defaults(func=cmd_hash_key)
    certs = sub.add_parser("certs", help="make a development PKI (TLS and mutual TLS)")
    certs.add_argument("directory", help="where the PEM files go")
    certs.add_argument("--hosts", default=DEFAULT_HOSTS, help="names the certificates are for")
    certs.add_argument("--days", type=int, default=365, help="validity")
    certs.add_argument("--force", action="store_true", help="replace existing files")
    certs.set_defaults(func=cmd_certs)
