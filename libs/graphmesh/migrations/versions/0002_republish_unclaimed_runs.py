"""Count how often a never-claimed run's command was published again.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "run_heads",
        sa.Column("republished", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index(
        "run_heads_unclaimed_idx",
        "run_heads",
        ["run_id"],
        postgresql_where=sa.text("attempt = 0 AND NOT ended"),
    )


def downgrade() -> None:
    op.drop_index("run_heads_unclaimed_idx", "run_heads")
    op.drop_column("run_heads", "republished")
