"""Assistants: named, versioned configurations of a graph, per tenant.

`assistant_versions` holds every version as written; `assistants` holds
each assistant's latest version (the one runs use), for lookups and search.
Default assistants (one per registered graph, shared by every tenant) have
the tenant "" and are written by the gateways from their registry.

Revision ID: 0009
Revises: 0008
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("graph_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("config", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        # SQL NULL: no context (a JSON null is the JSONB value 'null').
        sa.Column("context", JSONB(), nullable=True),
        sa.Column("metadata", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
    ]


def upgrade() -> None:
    op.create_table(
        "assistants",
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("assistant_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_columns(),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "assistant_id"),
    )
    op.create_index(
        "assistants_listing_idx",
        "assistants",
        ["tenant", sa.text("created_at DESC"), sa.text("assistant_id DESC")],
    )
    op.create_table(
        "assistant_versions",
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("assistant_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_columns(),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "assistant_id", "version"),
    )


def downgrade() -> None:
    op.drop_table("assistant_versions")
    op.drop_index("assistants_listing_idx", table_name="assistants")
    op.drop_table("assistants")
