"""Access and audit: branches, users, roles and grants, API tokens, sign-in throttle, audit log.

Revision ID: 0004_access_audit
Revises: 0003_webhook_subscriptions
Create Date: 2026-12-06

Types are spelled out (not imported from ``core``) so the revision keeps its meaning when the
models move on. Built-in roles are seeded by the runtime, not here, so that a lender's edits to
them survive and new built-ins arrive with new code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_access_audit"
down_revision: str | None = "0003_webhook_subscriptions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _seq() -> sa.types.TypeEngine[Any]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _stamps() -> list[sa.Column[Any]]:
    return [sa.Column("created_at", _utc(), nullable=False), sa.Column("updated_at", _utc(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "branches",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.String(36), nullable=True),
        sa.Column("path", sa.String(1000), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_branches"),
        sa.UniqueConstraint("code", name="uq_branches_code"),
        sa.ForeignKeyConstraint(["parent_id"], ["branches.id"], name="fk_branches_parent_id_branches"),
    )
    op.create_index("ix_branches_parent_id", "branches", ["parent_id"])
    op.create_index("ix_branches_path", "branches", ["path"])
    op.create_table(
        "roles",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_roles"),
        sa.UniqueConstraint("name", name="uq_roles_name"),
    )
    op.create_table(
        "role_grants",
        sa.Column("role_id", sa.String(36), nullable=False),
        sa.Column("permission", sa.String(200), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("role_id", "permission", name="pk_role_grants"),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name="fk_role_grants_role_id_roles", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("branch_id", sa.String(36), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("disabled_at", _utc(), nullable=True),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("password_changed_at", _utc(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name="fk_users_branch_id_branches"),
    )
    op.create_index("ix_users_branch_id", "users", ["branch_id"])
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("role_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role_id", name="pk_user_roles"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_roles_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name="fk_user_roles_role_id_roles", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("branch_id", sa.String(36), nullable=True),
        sa.Column("expires_at", _utc(), nullable=True),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.Column("last_used_at", _utc(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("digest", name="uq_api_tokens_digest"),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name="fk_api_tokens_branch_id_branches"),
    )
    op.create_table(
        "api_token_roles",
        sa.Column("token_id", sa.String(36), nullable=False),
        sa.Column("role_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("token_id", "role_id", name="pk_api_token_roles"),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name="fk_api_token_roles_token_id_api_tokens", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name="fk_api_token_roles_role_id_roles", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", _utc(), nullable=True),
        sa.Column("last_failure_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("username", name="pk_login_throttle"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", _seq(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=True),
        sa.Column("actor_branch_id", sa.String(36), nullable=True),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target_type", sa.String(100), nullable=False),
        sa.Column("target_id", sa.String(200), nullable=True),
        sa.Column("before", _json(), nullable=True),
        sa.Column("after", _json(), nullable=True),
        sa.Column("request_id", sa.String(100), nullable=True),
        sa.Column("client_addr", sa.String(100), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
        sa.UniqueConstraint("id", name="uq_audit_log_id"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor_branch_id", "audit_log", ["actor_branch_id"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id"])
    op.create_index("ix_audit_log_actor_at", "audit_log", ["actor", "at"])
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", _seq(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64, "note": "the last entry of audit_log"}])


def downgrade() -> None:
    for table in (
        "audit_head",
        "audit_log",
        "login_throttle",
        "api_token_roles",
        "api_tokens",
        "user_roles",
        "users",
        "role_grants",
        "roles",
        "branches",
    ):
        op.drop_table(table)
