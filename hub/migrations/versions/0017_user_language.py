"""A person's chosen language for messages (``users.language``).

Revision ID: 0017_user_language
Revises: 0016_leads
Create Date: 2026-12-06

NULL for everyone: each request's Accept-Language decides until a person chooses.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_user_language"
down_revision: str | None = "0016_leads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
