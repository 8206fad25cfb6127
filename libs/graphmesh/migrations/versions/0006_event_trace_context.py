"""Each stored event keeps the W3C trace context of the append that stored
it, so that the projector's work on it joins the run's trace.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "events",
        sa.Column("trace_context", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("events", "trace_context")
