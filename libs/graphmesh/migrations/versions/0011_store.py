"""The long-term memory store: items per tenant under a namespace (its
labels joined by "."), with an optional time to live, and the embeddings of
their indexed fields for semantic search.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION, JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_items",
        sa.Column("tenant", sa.Text(), nullable=False),
        # Byte order, so that a namespace prefix is a range of the key.
        sa.Column("prefix", sa.Text(collation="C"), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ttl_minutes", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "prefix", "key"),
    )
    op.create_index(
        "store_items_expiry_idx",
        "store_items",
        ["expires_at"],
        postgresql_where=sa.text("expires_at IS NOT NULL"),
    )
    op.create_table(
        "store_vectors",
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(collation="C"), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("embedding", ARRAY(DOUBLE_PRECISION()), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "prefix", "key", "field"),
    )


def downgrade() -> None:
    op.drop_table("store_vectors")
    op.drop_index("store_items_expiry_idx", table_name="store_items")
    op.drop_table("store_items")
