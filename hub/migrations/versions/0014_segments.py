"""Customer segments and their members (``core.segments``); customers.segments_at.

Revision ID: 0014_segments
Revises: 0012_imports
Create Date: 2026-12-06

Existing customers get ``segments_at`` NULL: all of them are judged once the first segment exists.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0014_segments"
down_revision: str | None = "0012_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("code", name=op.f("uq_segments_code")),
    )
    op.create_table(
        "segment_members",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("segment_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("facts", JSON, nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_segment_members_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_members_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_members")),
        sa.UniqueConstraint("segment_id", "customer_id", name=op.f("uq_segment_members_segment_id")),
    )
    with op.batch_alter_table("segment_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segment_members_customer_id"), ["customer_id"], unique=False)

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segments_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_customers_segments_at"), ["segments_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_segments_at"))
        batch_op.drop_column("segments_at")

    with op.batch_alter_table("segment_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segment_members_customer_id"))

    op.drop_table("segment_members")
    op.drop_table("segments")
