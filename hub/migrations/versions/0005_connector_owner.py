"""Connector instances pinned to the distribution (and version range) that provided their class.

Revision ID: 0005_connector_owner
Revises: 0003_webhook_subscriptions
Create Date: 2026-12-02

Existing rows are left unpinned (``owner_state`` NULL): a migration cannot know which installed
distribution provides a slug without loading plugins, and must not depend on which are installed.
The hub pins them the first time it starts with their connector provided (``first_use``), see
``plugins.instance_owners.reconcile_owners``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_connector_owner"
down_revision: str | None = "0004_access_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("owner_distribution", sa.String(200)),
    ("owner_version", sa.String(100)),
    ("owner_versions", sa.String(200)),
    ("owner_state", sa.String(20)),
    ("owner_pinned_at", sa.DateTime(timezone=True)),
    ("owner_pinned_how", sa.String(20)),
    ("owner_claimant_distribution", sa.String(200)),
    ("owner_claimant_version", sa.String(100)),
    ("owner_changed_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("connector_instances") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connector_instances") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
