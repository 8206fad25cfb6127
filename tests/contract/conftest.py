"""Fixtures of the store contract tests: a migrated template database, and
the event store under test (in memory, and PostgreSQL in a fresh database
per test, cloned from the template)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from graphmesh import db
from graphmesh.eventstore import EventStore
from graphmesh.eventstore.memory import MemoryEventStore
from graphmesh.eventstore.postgres import PostgresEventStore
from graphmesh.migrations import upgrade
from graphmesh.stack import LocalStack

TEMPLATE = "graphmesh_contract_template"


@pytest.fixture(scope="session")
def template_db(stack: LocalStack) -> str:
    stack.postgres.create_database(TEMPLATE)
    upgrade(stack.postgres.url(TEMPLATE))
    return TEMPLATE


@pytest.fixture(params=["memory", "postgres"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[EventStore]:
    if request.param == "memory":
        yield MemoryEventStore()
        return
    stack: LocalStack = request.getfixturevalue("stack")
    template = request.getfixturevalue("template_db")
    name = f"contract_{uuid.uuid4().hex[:12]}"
    stack.postgres.query(f'CREATE DATABASE "{name}" TEMPLATE "{template}"', database="postgres")
    engine = db.create_engine(db.DatabaseSettings(stack.postgres.url(name), pool_size=4))
    try:
        yield PostgresEventStore(engine)
    finally:
        await engine.dispose()
        stack.postgres.query(f'DROP DATABASE "{name}"', database="postgres")
