"""The credit process: flow versions, tasks, decisions, authority limits, delegations, signals.

Revision ID: 0019_flows
Revises: 0018_applications
Create Date: 2026-12-06

Types are spelled out (not imported from ``core``) so the revision keeps its meaning when the
models move on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019_flows"
down_revision: str | None = "0018_applications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "flow_versions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("flow_key", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("document", _json(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("published_by", sa.String(200), nullable=True),
        sa.Column("published_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_flow_versions"),
        sa.UniqueConstraint("flow_key", "version", name="uq_flow_versions_key_version"),
    )
    op.create_index("ix_flow_versions_flow_key", "flow_versions", ["flow_key"])

    op.create_table(
        "flow_tasks",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("flow_key", sa.String(100), nullable=False),
        sa.Column("flow_version", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("stage_name", sa.String(200), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.String(36), nullable=False),
        sa.Column("assignee_id", sa.String(36), nullable=True),
        sa.Column("pool", _json(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("escalation", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("claimed_at", _utc(), nullable=True),
        sa.Column("due_at", _utc(), nullable=True),
        sa.Column("reminded_at", _utc(), nullable=True),
        sa.Column("escalated_at", _utc(), nullable=True),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_flow_tasks"),
        _fk("flow_tasks", "application_id", "applications"),
        _fk("flow_tasks", "branch_id", "branches"),
        _fk("flow_tasks", "assignee_id", "users"),
    )
    op.create_index("ix_flow_tasks_assignee_status", "flow_tasks", ["assignee_id", "status"])
    op.create_index("ix_flow_tasks_status_due", "flow_tasks", ["status", "due_at"])
    op.create_index("ix_flow_tasks_application_status", "flow_tasks", ["application_id", "status"])
    op.create_index("ix_flow_tasks_branch_status", "flow_tasks", ["branch_id", "status"])

    op.create_table(
        "flow_decisions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("comment", sa.String(2000), nullable=True),
        sa.Column("reason_codes", _json(), nullable=False),
        sa.Column("decided_by_id", sa.String(36), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("on_behalf_of_id", sa.String(36), nullable=True),
        sa.Column("on_behalf_of", sa.String(200), nullable=True),
        sa.Column("exposure", sa.Numeric(18, 2), nullable=True),
        sa.Column("limit_applied", sa.Numeric(18, 2), nullable=True),
        sa.Column("dossier_hash", sa.String(64), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_flow_decisions"),
        _fk("flow_decisions", "application_id", "applications"),
        _fk("flow_decisions", "task_id", "flow_tasks"),
        _fk("flow_decisions", "decided_by_id", "users"),
        _fk("flow_decisions", "on_behalf_of_id", "users"),
    )
    op.create_index("ix_flow_decisions_application_at", "flow_decisions", ["application_id", "at"])

    op.create_table(
        "authority_limits",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("subject_kind", sa.String(10), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("product_code", sa.String(64), nullable=False),
        sa.Column("max_exposure", sa.Numeric(18, 2), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_authority_limits"),
        sa.UniqueConstraint("subject_kind", "subject", "product_code", name="uq_authority_limits_subject"),
    )

    op.create_table(
        "delegations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("from_user_id", sa.String(36), nullable=False),
        sa.Column("to_user_id", sa.String(36), nullable=False),
        sa.Column("starts_at", _utc(), nullable=False),
        sa.Column("ends_at", _utc(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_delegations"),
        _fk("delegations", "from_user_id", "users"),
        _fk("delegations", "to_user_id", "users"),
    )
    op.create_index("ix_delegations_from_user_id", "delegations", ["from_user_id"])
    op.create_index("ix_delegations_to_user", "delegations", ["to_user_id", "ends_at"])

    op.create_table(
        "application_signals",
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("value", _json(), nullable=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("application_id", "name", name="pk_application_signals"),
        _fk("application_signals", "application_id", "applications"),
    )

    op.create_table(
        "staff_parties",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_staff_parties"),
        _fk("staff_parties", "user_id", "users"),
        _fk("staff_parties", "customer_id", "customers"),
    )
    op.create_index("ix_staff_parties_customer_id", "staff_parties", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_parties_customer_id", table_name="staff_parties")
    op.drop_table("staff_parties")
    op.drop_table("application_signals")
    op.drop_index("ix_delegations_to_user", table_name="delegations")
    op.drop_index("ix_delegations_from_user_id", table_name="delegations")
    op.drop_table("delegations")
    op.drop_table("authority_limits")
    op.drop_index("ix_flow_decisions_application_at", table_name="flow_decisions")
    op.drop_table("flow_decisions")
    for name in ("branch_status", "application_status", "status_due", "assignee_status"):
        op.drop_index(f"ix_flow_tasks_{name}", table_name="flow_tasks")
    op.drop_table("flow_tasks")
    op.drop_index("ix_flow_versions_flow_key", table_name="flow_versions")
    op.drop_table("flow_versions")
