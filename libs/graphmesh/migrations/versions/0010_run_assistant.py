"""Run views keep the assistant (id and version) each run ran with; runs
created before assistants existed have none ("" and 0).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "run_views", sa.Column("assistant_id", sa.Text(), nullable=False, server_default="")
    )
    op.add_column(
        "run_views",
        sa.Column("assistant_version", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("run_views", "assistant_version")
    op.drop_column("run_views", "assistant_id")
