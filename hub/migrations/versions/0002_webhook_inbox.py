"""The durable webhook inbox: source instances, raw requests, events, object versions, refusals.

Revision ID: 0002_webhook_inbox
Revises: 0001
Create Date: 2026-11-28

Types are spelled out, as in 0001, so this revision keeps its meaning when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_webhook_inbox"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_source_instances",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("config", _json(), nullable=False),
        sa.Column("secrets_ciphertext", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_source_instances"),
        sa.UniqueConstraint("source", "name", name="uq_webhook_source_instances_source_name"),
    )
    op.create_table(
        "webhook_requests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("instance", sa.String(100), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("query", _json(), nullable=False),
        sa.Column("headers", _json(), nullable=False),
        sa.Column("sealed_headers", sa.Text(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("verification", _json(), nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_requests"),
    )
    op.create_table(
        "webhook_inbox",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("instance", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("object_id", sa.String(200), nullable=True),
        sa.Column("object_version", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at", _utc(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("replays", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", _utc(), nullable=True),
        sa.Column("processed_at", _utc(), nullable=True),
        sa.Column("discard_reason", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["webhook_requests.id"],
            name="fk_webhook_inbox_request_id_webhook_requests",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_inbox"),
        sa.UniqueConstraint("source", "instance", "event_id", name="uq_webhook_inbox_source_instance_event"),
    )
    op.create_index("ix_webhook_inbox_request_id", "webhook_inbox", ["request_id"])
    op.create_index("ix_webhook_inbox_status_created", "webhook_inbox", ["status", "created_at"])
    op.create_index("ix_webhook_inbox_source_created", "webhook_inbox", ["source", "created_at"])
    op.create_table(
        "webhook_object_versions",
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("instance", sa.String(100), nullable=False),
        sa.Column("object_id", sa.String(200), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("source", "instance", "object_id", name="pk_webhook_object_versions"),
    )
    op.create_table(
        "webhook_refusals",
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("instance", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(100), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("last_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("source", "instance", "reason", name="pk_webhook_refusals"),
    )


def downgrade() -> None:
    op.drop_table("webhook_refusals")
    op.drop_table("webhook_object_versions")
    op.drop_index("ix_webhook_inbox_source_created", table_name="webhook_inbox")
    op.drop_index("ix_webhook_inbox_status_created", table_name="webhook_inbox")
    op.drop_index("ix_webhook_inbox_request_id", table_name="webhook_inbox")
    op.drop_table("webhook_inbox")
    op.drop_table("webhook_requests")
    op.drop_table("webhook_source_instances")
