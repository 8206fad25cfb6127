"""Find a thread's started, unfinished run quickly (one run per thread).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "run_heads_active_thread_idx",
        "run_heads",
        ["thread_id"],
        postgresql_where=sa.text("attempt > 0 AND NOT ended"),
    )


def downgrade() -> None:
    op.drop_index("run_heads_active_thread_idx", "run_heads")
