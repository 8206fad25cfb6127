"""The pgvector extension, where the server has it: the store's semantic
search then ranks with pgvector's cosine distance (`<=>`); without it, the
same ranking is computed in plain SQL. Nothing else in the schema depends
on it, so a database with or without it has the same tables.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    if available is None:
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    except sa.exc.DBAPIError:
        # The migrating role may not create extensions: the plain SQL
        # ranking is used (an operator can create it later).
        return


def downgrade() -> None:
    # Left in place: other schemas of the database may use it.
    return
