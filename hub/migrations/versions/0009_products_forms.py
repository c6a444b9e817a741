"""Loan products and the versions of their application forms.

Revision ID: 0009_products_forms
Revises: 0008_customers
Create Date: 2026-12-06

Types are spelled out (not imported from ``core``) so the revision keeps its meaning when the
models move on. Form versions are only ever inserted; ``(product_id, version)`` is unique so two
concurrent publications cannot both become the same version.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_products_forms"
down_revision: str | None = "0008_customers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("min_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("max_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("terms_months", _json(), nullable=False),
        sa.Column("annual_rate", sa.Numeric(9, 6), nullable=False),
        sa.Column("repayment_methods", _json(), nullable=False),
        sa.Column("upfront_fee", _json(), nullable=True),
        sa.Column("periodic_fee", _json(), nullable=True),
        sa.Column("grace_periods", sa.Integer(), nullable=False),
        sa.Column("penalty_markup", sa.Numeric(9, 6), nullable=False),
        sa.Column("flow_key", sa.String(100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
        sa.UniqueConstraint("code", name="uq_products_code"),
    )
    op.create_index("ix_products_active", "products", ["active"])
    op.create_table(
        "form_versions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("product_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("json_schema", _json(), nullable=False),
        sa.Column("rules", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_form_versions"),
        sa.UniqueConstraint("product_id", "version", name="uq_form_versions_product_id"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name="fk_form_versions_product_id_products"),
    )
    op.create_index("ix_form_versions_product_id", "form_versions", ["product_id"])


def downgrade() -> None:
    op.drop_index("ix_form_versions_product_id", table_name="form_versions")
    op.drop_table("form_versions")
    op.drop_index("ix_products_active", table_name="products")
    op.drop_table("products")
