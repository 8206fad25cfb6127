"""The database tables, as SQLAlchemy Core objects for queries.

The tables are created by the alembic migrations in `graphmesh.migrations`;
this module only describes them. A test checks the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION, JSONB

from graphmesh.tenancy import tenant_sql

_TENANT = tenant_sql("thread_id")

metadata = MetaData()

#: The event store: append-only, one row per stored event. `position` orders
#: every event of every run; the projector tails it.
events = Table(
    "events",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("run_id", String(36), nullable=False),
    Column("thread_id", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("type", Text, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("payload", Text, nullable=False),
    #: W3C traceparent of the append that stored it ("" if untraced).
    Column("trace_context", Text, nullable=False, server_default=""),
    UniqueConstraint("run_id", "seq", name="events_run_seq_key"),
)

#: Per-run bookkeeping of the write side: last seq, attempt fencing, lease.
run_heads = Table(
    "run_heads",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("thread_id", Text, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("ended", Boolean, nullable=False),
    Column("lease_owner", Text, nullable=False, server_default=""),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("republished", Integer, nullable=False, server_default="0"),
    # "interrupt" or "rollback" once the run was asked to stop.
    Column("cancel_action", Text, nullable=False, server_default=""),
    Index(
        "run_heads_unclaimed_idx",
        "run_id",
        postgresql_where=text("attempt = 0 AND NOT ended"),
    ),
    Index(
        "run_heads_active_thread_idx",
        "thread_id",
        postgresql_where=text("attempt > 0 AND NOT ended"),
    ),
)

#: Every append the store refused, so that rejections are counted.
event_rejections = Table(
    "event_rejections",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("run_id", String(36), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Index("event_rejections_run_idx", "run_id"),
)

#: Read model: one row per run, maintained by the projector.
run_views = Table(
    "run_views",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("thread_id", Text, nullable=False),
    Column("graph_id", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("input_json", Text, nullable=False),
    Column("output_json", Text, nullable=False),
    Column("error_type", Text, nullable=False),
    Column("error_message", Text, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("metadata", JSONB, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("interrupts_json", Text, nullable=False, server_default="[]"),
    Column("stream_modes", Text, nullable=False, server_default="updates,custom"),
    Column("stream_subgraphs", Boolean, nullable=False, server_default=false()),
    Column("timeout_seconds", Float, nullable=False, server_default="0"),
    Column("config_json", Text, nullable=False, server_default=""),
    Column("context_json", Text, nullable=False, server_default=""),
    Column("assistant_id", Text, nullable=False, server_default=""),
    Column("assistant_version", Integer, nullable=False, server_default="0"),
    Index("run_views_created_idx", "created_at", "run_id"),
    Index("run_views_graph_idx", "graph_id", "created_at", "run_id"),
    Index("run_views_thread_idx", "thread_id", "created_at", "run_id"),
    Index("run_views_status_idx", "status", "created_at", "run_id"),
    Index(
        "run_views_active_graph_idx",
        "graph_id",
        "status",
        postgresql_where=text("status IN (1, 2)"),
    ),
    # Listings by tenant (migration 0007): the tenant of the scoped thread id.
    Index(
        "run_views_tenant_created_idx",
        text(_TENANT),
        text("created_at DESC"),
        text("run_id DESC"),
    ),
    Index(
        "run_views_tenant_active_idx",
        text(_TENANT),
        "graph_id",
        postgresql_where=text("status IN (1, 2)"),
    ),
)

#: Where each projection is in the event store, updated in the same
#: transaction as the rows it changes.
projection_positions = Table(
    "projection_positions",
    metadata,
    Column("projection", Text, primary_key=True),
    Column("position", BigInteger, nullable=False),
)

#: The write side's record of each thread: its own event stream's head,
#: labels, latest run and how many of its runs have not ended.
threads = Table(
    "threads",
    metadata,
    Column("thread_id", Text, primary_key=True),
    Column("stream_id", String(36), nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("metadata", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("graph_id", Text, nullable=False, server_default=""),
    Column("last_run_id", Text, nullable=False, server_default=""),
    Column("last_outcome", Text, nullable=False, server_default=""),
    Column("open_runs", Integer, nullable=False, server_default="0"),
    Column("deleted", Boolean, nullable=False, server_default=text("false")),
    Index("threads_updated_idx", "updated_at", "thread_id"),
    Index(
        "threads_tenant_updated_idx",
        text(_TENANT),
        text("updated_at DESC"),
        text("thread_id DESC"),
        postgresql_where=text("NOT deleted"),
    ),
)

#: LangGraph checkpoints, kept from the event store's checkpoint events in
#: the transaction that stores them.
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("thread_id", Text, primary_key=True),
    Column("checkpoint_ns", Text, primary_key=True),
    Column("checkpoint_id", Text, primary_key=True),
    Column("parent_checkpoint_id", Text, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("checkpoint_type", Text, nullable=False),
    Column("checkpoint", LargeBinary, nullable=False),
    Column("metadata_type", Text, nullable=False),
    Column("metadata", LargeBinary, nullable=False),
    Column("metadata_json", JSONB, nullable=False),
    Index("checkpoints_run_idx", "run_id"),
)

#: Pending writes of tasks against a checkpoint.
checkpoint_writes = Table(
    "checkpoint_writes",
    metadata,
    Column("thread_id", Text, primary_key=True),
    Column("checkpoint_ns", Text, primary_key=True),
    Column("checkpoint_id", Text, primary_key=True),
    Column("task_id", Text, primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("value_type", Text, nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("task_path", Text, nullable=False),
)


def _assistant_spec_columns() -> list[Column[object]]:
    return [
        Column("graph_id", Text, nullable=False),
        Column("name", Text, nullable=False),
        Column("description", Text, nullable=False, server_default=""),
        Column("config", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("context", JSONB, nullable=True),
        Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    ]


#: Each assistant's latest version (tenant "" for the graphs' default ones).
assistants = Table(
    "assistants",
    metadata,
    Column("tenant", Text, primary_key=True),
    Column("assistant_id", Text, primary_key=True),
    Column("version", Integer, nullable=False),
    *_assistant_spec_columns(),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index(
        "assistants_listing_idx",
        "tenant",
        text("created_at DESC"),
        text("assistant_id DESC"),
    ),
)

#: Every version of every assistant, as written.
assistant_versions = Table(
    "assistant_versions",
    metadata,
    Column("tenant", Text, primary_key=True),
    Column("assistant_id", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    *_assistant_spec_columns(),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: The long-term memory store's items (namespace labels joined by ".").
store_items = Table(
    "store_items",
    metadata,
    Column("tenant", Text, primary_key=True),
    Column("prefix", Text(collation="C"), primary_key=True),
    Column("key", Text, primary_key=True),
    Column("value", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("ttl_minutes", Float, nullable=True),
    Index("store_items_expiry_idx", "expires_at", postgresql_where=text("expires_at IS NOT NULL")),
)

#: Embeddings of the store items' indexed fields.
store_vectors = Table(
    "store_vectors",
    metadata,
    Column("tenant", Text, primary_key=True),
    Column("prefix", Text(collation="C"), primary_key=True),
    Column("key", Text, primary_key=True),
    Column("field", Text, primary_key=True),
    Column("embedding", ARRAY(DOUBLE_PRECISION), nullable=False),
)
