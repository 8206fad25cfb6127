"""graphmesh's PostgreSQL settings against a real server that accepts only
TLS with a password: the settings that should connect do (and the session
is encrypted), the others are refused."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from graphmesh import db
from graphmesh.errors import Unavailable
from graphmesh.settings import database_from_env
from graphmesh.testing.infra import procs
from graphmesh.testing.infra.postgres import PrivatePostgres
from graphmesh.testing.pki import CertificateAuthority

PASSWORD = "pg-pass-5f2e9c"


@pytest.fixture(scope="module")
def tls_postgres() -> Iterator[tuple[PrivatePostgres, CertificateAuthority, Path]]:
    directory = Path(tempfile.mkdtemp(prefix="graphmesh-pgtls-"))
    directory.chmod(0o755)
    ca = CertificateAuthority(directory / "pki", "db")
    server = ca.issue("postgres", client=False)
    for path in (server.cert, server.key):
        shutil.chown(path, "postgres", "postgres")
    (directory / "pki").chmod(0o755)
    postgres = PrivatePostgres(
        directory / "pg",
        procs.free_port(),
        durable=False,
        server_options=["ssl=on", f"ssl_cert_file={server.cert}", f"ssl_key_file={server.key}"],
        # Local socket (the harness's own psql) trusted; TCP only with TLS and a password.
        hba="local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
    )
    postgres.start()
    postgres.query(f"ALTER USER graphmesh PASSWORD '{PASSWORD}'")
    password_file = directory / "password"
    password_file.write_text(PASSWORD + "\n")
    try:
        yield postgres, ca, password_file
    finally:
        postgres.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _url(postgres: PrivatePostgres) -> str:
    return f"postgresql+asyncpg://graphmesh@127.0.0.1:{postgres.port}/graphmesh"


async def _session_is_encrypted(settings: db.DatabaseSettings) -> bool:
    engine = db.create_engine(settings)
    try:
        async with db.translate_errors("probe"), engine.connect() as conn:
            row = await conn.execute(
                text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            )
            return bool(row.scalar())
    finally:
        await engine.dispose()


async def test_verified_tls_with_a_password_file_connects_encrypted(
    tls_postgres: tuple[PrivatePostgres, CertificateAuthority, Path],
) -> None:
    postgres, ca, password_file = tls_postgres
    settings = database_from_env(
        {
            "GRAPHMESH_DATABASE_URL": _url(postgres),
            "GRAPHMESH_DATABASE_PASSWORD_FILE": str(password_file),
            "GRAPHMESH_DATABASE_SSLMODE": "verify-full",
            "GRAPHMESH_DATABASE_SSL_CA_FILE": str(ca.cert),
        }
    )
    assert PASSWORD not in repr(settings)
    assert await _session_is_encrypted(settings)
    # The LISTEN connection (asyncpg directly) uses the same settings.
    listener = await db.connect_listener(settings)
    try:
        assert await listener.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    finally:
        await listener.close()


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({"mode": "disable"}, id="no TLS"),
        pytest.param({"mode": "verify-full", "wrong_ca": "1"}, id="wrong CA"),
        pytest.param({"mode": "require", "no_password": "1"}, id="no password"),
    ],
)
async def test_connections_the_server_must_not_accept_are_refused(
    tls_postgres: tuple[PrivatePostgres, CertificateAuthority, Path],
    tmp_path: Path,
    env: dict[str, str],
) -> None:
    postgres, _ca, password_file = tls_postgres
    settings_env = {
        "GRAPHMESH_DATABASE_URL": _url(postgres),
        "GRAPHMESH_DATABASE_SSLMODE": env["mode"],
    }
    if "no_password" not in env:
        settings_env["GRAPHMESH_DATABASE_PASSWORD_FILE"] = str(password_file)
    if "wrong_ca" in env:
        other = CertificateAuthority(tmp_path, "other")
        settings_env["GRAPHMESH_DATABASE_SSL_CA_FILE"] = str(other.cert)
    # Refused at the handshake (wrong CA) or by the server's pg_hba rules.
    with pytest.raises((Unavailable, OSError, DBAPIError)):
        await _session_is_encrypted(database_from_env(settings_env))
