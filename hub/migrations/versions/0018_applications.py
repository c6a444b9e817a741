"""Loan applications, their status history, their gates per product, and the application policy.

Revision ID: 0018_applications
Revises: 0017_user_language
Create Date: 2026-12-07

Types are spelled out (not imported from ``core``) so the revision keeps its meaning when the
models move on. ``values`` is sealed text (``core.pii.SealedJSON``): the form holds income and
employer data. ``lead_id`` has no foreign key: the leads table is created by its own revision,
written at the same time; a later revision may add the constraint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018_applications"
down_revision: str | None = "0017_user_language"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("product_id", sa.String(36), nullable=False),
        sa.Column("form_version_id", sa.String(36), nullable=True),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("repayment_method", sa.String(30), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=True),
        sa.Column("values", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("channel_partner", sa.String(100), nullable=True),
        sa.Column("lead_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("branch_id", sa.String(36), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("submitted_at", _utc(), nullable=True),
        sa.Column("decided_at", _utc(), nullable=True),
        sa.Column("expires_at", _utc(), nullable=True),
        sa.Column("flow_key", sa.String(100), nullable=True),
        sa.Column("flow_version", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_applications"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_applications_customer_id_customers"
        ),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name="fk_applications_product_id_products"),
        sa.ForeignKeyConstraint(
            ["form_version_id"], ["form_versions.id"], name="fk_applications_form_version_id_form_versions"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name="fk_applications_owner_id_users"),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name="fk_applications_branch_id_branches"),
    )
    op.create_index("ix_applications_customer_id", "applications", ["customer_id"])
    op.create_index("ix_applications_product_id", "applications", ["product_id"])
    op.create_index("ix_applications_channel", "applications", ["channel"])
    op.create_index("ix_applications_lead_id", "applications", ["lead_id"])
    op.create_index("ix_applications_status", "applications", ["status"])
    op.create_index("ix_applications_owner_created", "applications", ["owner_id", "created_at"])
    op.create_index("ix_applications_branch_created", "applications", ["branch_id", "created_at"])
    op.create_index("ix_applications_created", "applications", ["created_at"])
    op.create_index("ix_applications_status_expires", "applications", ["status", "expires_at"])

    op.create_table(
        "application_transitions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("reason_codes", _json(), nullable=False),
        sa.Column("stage", sa.String(100), nullable=True),
        sa.Column("at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_application_transitions"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_application_transitions_application_id_applications",
        ),
    )
    op.create_index(
        "ix_application_transitions_application_at", "application_transitions", ["application_id", "at"]
    )

    op.create_table(
        "application_gates",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("product_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("before_state", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("params", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_application_gates"),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name="fk_application_gates_product_id_products"
        ),
    )
    op.create_index("ix_application_gates_product_state", "application_gates", ["product_id", "before_state"])

    op.create_table(
        "application_policy",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("draft_expiry_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_application_policy"),
    )


def downgrade() -> None:
    op.drop_table("application_policy")
    op.drop_index("ix_application_gates_product_state", table_name="application_gates")
    op.drop_table("application_gates")
    op.drop_index("ix_application_transitions_application_at", table_name="application_transitions")
    op.drop_table("application_transitions")
    for name in (
        "ix_applications_status_expires",
        "ix_applications_created",
        "ix_applications_branch_created",
        "ix_applications_owner_created",
        "ix_applications_status",
        "ix_applications_lead_id",
        "ix_applications_channel",
        "ix_applications_product_id",
        "ix_applications_customer_id",
    ):
        op.drop_index(name, table_name="applications")
    op.drop_table("applications")
