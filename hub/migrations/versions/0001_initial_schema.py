"""Initial schema: connector instances, call log, jobs and the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Column types are spelled out here rather than imported from ``core`` so this revision keeps
meaning the same thing when the models move on. Timestamps are ``timestamptz`` on PostgreSQL and
naive-UTC text on SQLite (``core.db.UTCDateTime`` handles the conversion).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "connector_instances",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("connector_slug", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("config", _json(), nullable=False),
        sa.Column("secrets_ciphertext", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_connector_instances"),
        sa.UniqueConstraint("name", name="uq_connector_instances_name"),
    )
    op.create_index("ix_connector_instances_connector_slug", "connector_instances", ["connector_slug"])

    op.create_table(
        "call_log",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("connector", sa.String(100), nullable=False),
        sa.Column("instance", sa.String(100), nullable=False),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("error_class", sa.String(100), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("cost_units", sa.Numeric(18, 6), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("started_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_call_log"),
    )
    op.create_index("ix_call_log_connector_started_at", "call_log", ["connector", "started_at"])
    op.create_index("ix_call_log_instance_started_at", "call_log", ["instance", "started_at"])

    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", _utc(), nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", _utc(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("dedupe_key", sa.String(200), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("dedupe_key", name="uq_jobs_dedupe_key"),
    )
    op.create_index("ix_jobs_claim", "jobs", ["status", "run_after"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("subject_type", sa.String(100), nullable=False),
        sa.Column("subject_id", sa.String(100), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("occurred_at", _utc(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("dispatched_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index("ix_outbox_subject", "outbox", ["subject_type", "subject_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_subject", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_jobs_claim", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("ix_call_log_instance_started_at", table_name="call_log")
    op.drop_index("ix_call_log_connector_started_at", table_name="call_log")
    op.drop_table("call_log")
    op.drop_index("ix_connector_instances_connector_slug", table_name="connector_instances")
    op.drop_table("connector_instances")
