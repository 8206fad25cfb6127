"""Threads, LangGraph checkpoints and their pending writes (kept from the
event store's checkpoint events), run interrupts in the read model, and
cancellation requests on run heads.

Revision ID: 0004
Revises: 0003
"""

import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# graphmesh.envelope.GRAPHMESH_NAMESPACE, fixed here: a migration must not
# change when the code does.
_NAMESPACE = uuid.UUID("6f1e4c2a-93b1-5d0e-8a57-2c4b9e1f7d30")


def upgrade() -> None:
    op.create_table(
        "threads",
        sa.Column("thread_id", sa.Text, primary_key=True),
        sa.Column("stream_id", sa.String(36), nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("metadata", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("graph_id", sa.Text, nullable=False, server_default=""),
        sa.Column("last_run_id", sa.Text, nullable=False, server_default=""),
        sa.Column("last_outcome", sa.Text, nullable=False, server_default=""),
        sa.Column("open_runs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("threads_updated_idx", "threads", ["updated_at", "thread_id"])
    _backfill_threads()
    op.create_table(
        "checkpoints",
        sa.Column("thread_id", sa.Text, primary_key=True),
        sa.Column("checkpoint_ns", sa.Text, primary_key=True),
        sa.Column("checkpoint_id", sa.Text, primary_key=True),
        sa.Column("parent_checkpoint_id", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("checkpoint_type", sa.Text, nullable=False),
        sa.Column("checkpoint", sa.LargeBinary, nullable=False),
        sa.Column("metadata_type", sa.Text, nullable=False),
        sa.Column("metadata", sa.LargeBinary, nullable=False),
        sa.Column("metadata_json", JSONB, nullable=False),
    )
    op.create_index("checkpoints_run_idx", "checkpoints", ["run_id"])
    op.create_table(
        "checkpoint_writes",
        sa.Column("thread_id", sa.Text, primary_key=True),
        sa.Column("checkpoint_ns", sa.Text, primary_key=True),
        sa.Column("checkpoint_id", sa.Text, primary_key=True),
        sa.Column("task_id", sa.Text, primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("value_type", sa.Text, nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("task_path", sa.Text, nullable=False),
    )
    op.add_column(
        "run_views", sa.Column("interrupts_json", sa.Text, nullable=False, server_default="[]")
    )
    op.add_column(
        "run_heads", sa.Column("cancel_action", sa.Text, nullable=False, server_default="")
    )


def _backfill_threads() -> None:
    """Records for the threads of runs stored before this revision, with the
    count of their unfinished runs (the multitask rules rely on it)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT thread_id, count(*) FILTER (WHERE NOT ended) AS open_runs FROM run_heads"
            " GROUP BY thread_id"
        )
    ).fetchall()
    for thread_id, open_runs in rows:
        stream = uuid.uuid5(_NAMESPACE, f"thread-stream:{thread_id}")
        bind.execute(
            sa.text(
                "INSERT INTO threads (thread_id, stream_id, last_seq, metadata, created_at,"
                " updated_at, open_runs) VALUES (:t, :s, 0, '{}'::jsonb, now(), now(), :o)"
            ),
            {"t": thread_id, "s": str(stream), "o": open_runs},
        )


def downgrade() -> None:
    op.drop_column("run_heads", "cancel_action")
    op.drop_column("run_views", "interrupts_json")
    op.drop_table("checkpoint_writes")
    op.drop_index("checkpoints_run_idx", "checkpoints")
    op.drop_table("checkpoints")
    op.drop_index("threads_updated_idx", "threads")
    op.drop_table("threads")
