"""Customers and the customer graph (``core.customers``).

Revision ID: 0008_customers
Revises: 0007_key_fingerprints
Create Date: 2026-12-06

ID numbers, mobiles, cards and addresses are sealed text; their blind and hint indexes are plain
columns. An active customer's ID number and USCC are unique through partial indexes (a merged
record keeps its identifiers as a trail).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0008_customers"
down_revision: str | None = "0007_key_fingerprints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("id_number", sa.Text(), nullable=True),
        sa.Column("id_number_index", sa.String(length=64), nullable=True),
        sa.Column("id_hint_index", sa.String(length=64), nullable=True),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("mobile", sa.Text(), nullable=True),
        sa.Column("mobile_index", sa.String(length=64), nullable=True),
        sa.Column("mobile_hint_index", sa.String(length=64), nullable=True),
        sa.Column("bank_card", sa.Text(), nullable=True),
        sa.Column("bank_card_index", sa.String(length=64), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(length=10), nullable=True),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("channel_partner", sa.String(length=100), nullable=True),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("branch_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("merged_into_id", sa.String(length=36), nullable=True),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("profile", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_customers_branch_id_branches")),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["customers.id"], name=op.f("fk_customers_merged_into_id_customers")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_customers_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_bank_card_index"), ["bank_card_index"], unique=False)
        batch_op.create_index("ix_customers_branch_created", ["branch_id", "created_at"], unique=False)
        batch_op.create_index("ix_customers_owner_created", ["owner_id", "created_at"], unique=False)
        batch_op.create_index("ix_customers_created", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_id_hint_index"), ["id_hint_index"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_customers_mobile_hint_index"), ["mobile_hint_index"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customers_mobile_index"), ["mobile_index"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_name"), ["name"], unique=False)
        batch_op.create_index(
            "uq_customers_active_id_number",
            ["id_number_index"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.create_index(
            "uq_customers_active_uscc",
            ["uscc"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "customer_relations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("related_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("share_percent", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_relations_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["related_id"], ["customers.id"], name=op.f("fk_customer_relations_related_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_relations")),
        sa.UniqueConstraint(
            "customer_id", "related_id", "kind", name=op.f("uq_customer_relations_customer_id")
        ),
    )
    with op.batch_alter_table("customer_relations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_relations_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_relations_related_id"), ["related_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customer_relations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_relations_related_id"))
        batch_op.drop_index(batch_op.f("ix_customer_relations_customer_id"))

    op.drop_table("customer_relations")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_customers_active_uscc",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index(
            "uq_customers_active_id_number",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index("ix_customers_owner_created")
        batch_op.drop_index("ix_customers_created")
        batch_op.drop_index(batch_op.f("ix_customers_name"))
        batch_op.drop_index(batch_op.f("ix_customers_mobile_index"))
        batch_op.drop_index(batch_op.f("ix_customers_mobile_hint_index"))
        batch_op.drop_index(batch_op.f("ix_customers_id_hint_index"))
        batch_op.drop_index("ix_customers_branch_created")
        batch_op.drop_index(batch_op.f("ix_customers_bank_card_index"))

    op.drop_table("customers")
