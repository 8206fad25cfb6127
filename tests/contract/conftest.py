"""Fixtures of the store contract tests: a private PostgreSQL (no mesh), a
migrated template database, and a fresh database per test cloned from it."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from graphmesh import db
from graphmesh.grpcutil import create_server
from graphmesh.migrations import upgrade
from graphmesh.testing.infra import procs
from graphmesh.testing.infra.postgres import PrivatePostgres, pgvector_bin_dir
from graphmesh_checkpoint.api import add_api
from graphmesh_checkpoint.notifier import RunNotifier

TEMPLATE = "graphmesh_contract_template"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of the contract tests' own."""
    directory = Path(tempfile.mkdtemp(prefix="graphmesh-contract-"))
    directory.chmod(0o755)  # PostgreSQL runs as its own user and must reach it
    cluster = PrivatePostgres(directory / "postgres", procs.free_port(), durable=False)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def pgvector_postgres() -> Iterator[PrivatePostgres]:
    """PostgreSQL 16 with the pgvector extension, from the `pgserver` wheel
    (only its binaries are used): Debian 12's PostgreSQL has no pgvector."""
    bin_dir = pgvector_bin_dir()
    directory = Path(tempfile.mkdtemp(prefix="graphmesh-pgvector-"))
    directory.chmod(0o755)
    cluster = PrivatePostgres(
        directory / "postgres", procs.free_port(), durable=False, bin_dir=bin_dir
    )
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def pgvector_engine(pgvector_postgres: PrivatePostgres) -> AsyncIterator[AsyncEngine]:
    """A fresh migrated database on the pgvector cluster."""
    name = f"vec_{uuid.uuid4().hex[:12]}"
    pgvector_postgres.create_database(name)
    upgrade(pgvector_postgres.url(name))
    engine = db.create_engine(db.DatabaseSettings(pgvector_postgres.url(name), pool_size=4))
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def template_db(postgres: PrivatePostgres) -> str:
    postgres.create_database(TEMPLATE)
    upgrade(postgres.url(TEMPLATE))
    return TEMPLATE


@pytest.fixture
def database(postgres: PrivatePostgres, template_db: str) -> Iterator[db.DatabaseSettings]:
    """A fresh migrated database, dropped after the test."""
    name = f"contract_{uuid.uuid4().hex[:12]}"
    postgres.query(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"', database="postgres")
    try:
        yield db.DatabaseSettings(postgres.url(name), pool_size=4)
    finally:
        postgres.query(f'DROP DATABASE "{name}" WITH (FORCE)', database="postgres")


@pytest.fixture
async def engine(database: db.DatabaseSettings) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(database)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def checkpoint_channel(
    engine: AsyncEngine, database: db.DatabaseSettings
) -> AsyncIterator[grpc.aio.Channel]:
    """A channel to the checkpoint service's API, served in this process
    over a fresh database (no broker: what arrives through Kafka is not
    part of the API)."""
    notifier = RunNotifier(database)
    await notifier.start()
    server = create_server()
    add_api(server, engine, notifier, max_run_attempts=0)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        await server.stop(grace=None)
        await notifier.stop()
