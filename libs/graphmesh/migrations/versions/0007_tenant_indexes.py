"""Listings by tenant: the tenant of a row is derived from its scoped thread
id (graphmesh.tenancy), and these expression indexes let a tenant's runs
(newest first), unfinished runs and threads (most recently updated first)
be read without scanning every tenant's. No data changes: rows stored
before tenants existed belong to tenant "default".

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from graphmesh.tenancy import tenant_sql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TENANT = tenant_sql("thread_id")


def upgrade() -> None:
    op.create_index(
        "run_views_tenant_created_idx",
        "run_views",
        [sa.text(_TENANT), sa.text("created_at DESC"), sa.text("run_id DESC")],
    )
    op.create_index(
        "run_views_tenant_active_idx",
        "run_views",
        [sa.text(_TENANT), "graph_id"],
        postgresql_where=sa.text("status IN (1, 2)"),
    )
    op.create_index(
        "threads_tenant_updated_idx",
        "threads",
        [sa.text(_TENANT), sa.text("updated_at DESC"), sa.text("thread_id DESC")],
        postgresql_where=sa.text("NOT deleted"),
    )


def downgrade() -> None:
    op.drop_index("threads_tenant_updated_idx", "threads")
    op.drop_index("run_views_tenant_active_idx", "run_views")
    op.drop_index("run_views_tenant_created_idx", "run_views")
