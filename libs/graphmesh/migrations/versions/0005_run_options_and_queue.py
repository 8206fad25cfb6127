"""Run views keep the run's stream modes and timeout; counting each graph's
pending and running runs (its queue depth) reads a small partial index.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "run_views",
        sa.Column("stream_modes", sa.Text(), nullable=False, server_default="updates,custom"),
    )
    op.add_column(
        "run_views",
        sa.Column("stream_subgraphs", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "run_views",
        sa.Column("timeout_seconds", sa.Float(), nullable=False, server_default="0"),
    )
    op.create_index(
        "run_views_active_graph_idx",
        "run_views",
        ["graph_id", "status"],
        postgresql_where=sa.text("status IN (1, 2)"),
    )


def downgrade() -> None:
    op.drop_index("run_views_active_graph_idx", "run_views")
    for column in ("timeout_seconds", "stream_subgraphs", "stream_modes"):
        op.drop_column("run_views", column)
