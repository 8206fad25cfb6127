"""Run views keep the run's LangGraph config and runtime context (JSON text
as given in CreateRun; empty for none).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("config_json", "context_json"):
        op.add_column("run_views", sa.Column(column, sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    for column in ("context_json", "config_json"):
        op.drop_column("run_views", column)
