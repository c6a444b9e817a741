"""Key fingerprints: which keys every process must hold (``hub.keyprints``).

Revision ID: 0007_key_fingerprints
Revises: 0006_sealed_bodies
Create Date: 2026-12-06

One row per key set (connector secrets, personal data, blind indexes, token signing), written by
the first process to start and moved forward by one that rotated; empty until then, so the
upgrade needs no key.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_key_fingerprints"
down_revision: str | None = "0006_sealed_bodies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_fingerprints",
        sa.Column("key_set", sa.String(length=20), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_set", name="pk_key_fingerprints"),
    )


def downgrade() -> None:
    op.drop_table("key_fingerprints")
