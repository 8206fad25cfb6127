"""Alembic migrations of graphmesh's database (linear, append-only)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

_HERE = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    """An alembic config for `database_url` (a SQLAlchemy asyncpg URL)."""
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Brings the database to `revision` (blocking; run it outside an event loop)."""
    command.upgrade(alembic_config(database_url), revision)
