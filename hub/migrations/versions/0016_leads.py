"""Leads, follow-ups, partners, assignment rules and first-contact SLAs (``core.leads``).

Revision ID: 0016_leads
Revises: 0015_documents
Create Date: 2026-12-06

A lead's mobile and ID number are sealed text beside their blind and hint indexes, as for
customers. ``(partner_id, partner_lead_id)`` is unique: a partner's push is idempotent on it, even
when two copies arrive at once. (Products 0009 and documents 0011 are written in parallel; the
chain is re-linked when they are merged.)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0016_leads"
down_revision: str | None = "0015_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lead_sla_policies",
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("first_contact_hours", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_lead_sla_policies")),
    )
    op.create_table(
        "partners",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("branch_id", sa.String(length=36), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("token_id", sa.String(length=36), nullable=True),
        sa.Column("tokens_issued", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_partners_branch_id_branches")),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_partners_token_id_api_tokens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("code", name=op.f("uq_partners_code")),
        sa.UniqueConstraint("token_id", name=op.f("uq_partners_token_id")),
    )
    op.create_table(
        "lead_assignment_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=True),
        sa.Column("partner_id", sa.String(length=36), nullable=True),
        sa.Column("campaign", sa.String(length=100), nullable=True),
        sa.Column("product_code", sa.String(length=50), nullable=True),
        sa.Column("branch_id", sa.String(length=36), nullable=True),
        sa.Column("to_branch_id", sa.String(length=36), nullable=True),
        sa.Column("officers", JSON, nullable=False),
        sa.Column("cursor", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_lead_assignment_rules_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_lead_assignment_rules_partner_id_partners")
        ),
        sa.ForeignKeyConstraint(
            ["to_branch_id"], ["branches.id"], name=op.f("fk_lead_assignment_rules_to_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_assignment_rules")),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("partner_id", sa.String(length=36), nullable=True),
        sa.Column("partner_lead_id", sa.String(length=100), nullable=True),
        sa.Column("push_digest", sa.String(length=64), nullable=True),
        sa.Column("campaign", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("mobile", sa.Text(), nullable=False),
        sa.Column("mobile_index", sa.String(length=64), nullable=False),
        sa.Column("mobile_hint_index", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.Text(), nullable=True),
        sa.Column("id_number_index", sa.String(length=64), nullable=True),
        sa.Column("id_hint_index", sa.String(length=64), nullable=True),
        sa.Column("product_code", sa.String(length=50), nullable=True),
        sa.Column("requested_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("customer_id", sa.String(length=36), nullable=True),
        sa.Column("duplicate_of_id", sa.String(length=36), nullable=True),
        sa.Column("application_id", sa.String(length=36), nullable=True),
        sa.Column("owner_id", sa.String(length=36), nullable=True),
        sa.Column("branch_id", sa.String(length=36), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assignment_rule_id", sa.String(length=36), nullable=True),
        sa.Column("first_contact_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_leads_branch_id_branches")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_leads_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"], ["leads.id"], name=op.f("fk_leads_duplicate_of_id_leads")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_leads_owner_id_users")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_leads_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("partner_id", "partner_lead_id", name=op.f("uq_leads_partner_id")),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leads_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_id_hint_index"), ["id_hint_index"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_id_number_index"), ["id_number_index"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_mobile_hint_index"), ["mobile_hint_index"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_mobile_index"), ["mobile_index"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index("ix_leads_sla", ["status", "first_contact_due_at"], unique=False)

    op.create_table(
        "lead_follow_ups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("lead_id", sa.String(length=36), nullable=True),
        sa.Column("customer_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("next_action", sa.String(length=300), nullable=True),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=True),
        sa.Column("branch_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_lead_follow_ups_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_lead_follow_ups_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_lead_follow_ups_lead_id_leads")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_lead_follow_ups_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_follow_ups")),
    )
    with op.batch_alter_table("lead_follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_follow_ups_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_follow_ups_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_lead_follow_ups_due", ["done", "next_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_follow_ups_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_follow_ups_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lead_follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_follow_ups_owner_id"))
        batch_op.drop_index(batch_op.f("ix_lead_follow_ups_lead_id"))
        batch_op.drop_index("ix_lead_follow_ups_due")
        batch_op.drop_index(batch_op.f("ix_lead_follow_ups_customer_id"))
        batch_op.drop_index(batch_op.f("ix_lead_follow_ups_branch_id"))

    op.drop_table("lead_follow_ups")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_sla")
        batch_op.drop_index(batch_op.f("ix_leads_partner_id"))
        batch_op.drop_index(batch_op.f("ix_leads_owner_id"))
        batch_op.drop_index(batch_op.f("ix_leads_mobile_index"))
        batch_op.drop_index(batch_op.f("ix_leads_mobile_hint_index"))
        batch_op.drop_index(batch_op.f("ix_leads_id_number_index"))
        batch_op.drop_index(batch_op.f("ix_leads_id_hint_index"))
        batch_op.drop_index(batch_op.f("ix_leads_customer_id"))
        batch_op.drop_index(batch_op.f("ix_leads_branch_id"))

    op.drop_table("leads")
    op.drop_table("lead_assignment_rules")
    op.drop_table("partners")
    op.drop_table("lead_sla_policies")
