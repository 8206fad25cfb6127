"""Fixtures of the store contract tests: a migrated template database."""

from __future__ import annotations

import pytest

from graphmesh.migrations import upgrade
from graphmesh.stack import LocalStack

TEMPLATE = "graphmesh_contract_template"


@pytest.fixture(scope="session")
def template_db(stack: LocalStack) -> str:
    stack.postgres.create_database(TEMPLATE)
    upgrade(stack.postgres.url(TEMPLATE))
    return TEMPLATE
