"""Tables of the organisation and who may do what: branches, users, roles, grants, API tokens.

Branches form a tree (head office → region → branch → team) kept as a materialised path of ids
(``/<hq>/<region>/<branch>/``), so "this branch and everything under it" is one indexed prefix
match. Passwords are argon2 hashes; API tokens are kept only as SHA-256 digests (a token is 256
random bits, so a slow hash buys nothing); disabling a user bumps ``token_version``, which every
access and refresh token carries, so they stop working at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TimestampMixin, UTCDateTime, new_id

__all__ = ["ApiToken", "ApiTokenRole", "Branch", "LoginThrottle", "Role", "RoleGrant", "User", "UserRole"]


class Branch(TimestampMixin, Base):
    """One node of the organisation tree, e.g. ``HQ`` → ``EAST`` → ``SH01`` → ``SH01-T1``."""

    __tablename__ = "branches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(50), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("branches.id"), index=True)
    path: Mapped[str] = mapped_column(String(1000), nullable=False, index=True)


class Role(TimestampMixin, Base):
    """A named set of grants; built-in roles are seeded once and then edited like any other."""

    __tablename__ = "roles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    builtin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class RoleGrant(Base):
    """One permission (or wildcard) a role holds, and how far it reaches."""

    __tablename__ = "role_grants"

    role_id: Mapped[str] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(200), primary_key=True)
    scope: Mapped[str] = mapped_column(String(20), nullable=False)


class User(TimestampMixin, Base):
    """A person who signs in; belongs to one branch, holds roles through ``user_roles``."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    branch_id: Mapped[str | None] = mapped_column(ForeignKey("branches.id"), index=True)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language the person reads messages in; when unset, each request's Accept-Language decides.
    language: Mapped[str | None] = mapped_column(String(10))
    token_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserRole(Base):
    """A role held by a user."""

    __tablename__ = "user_roles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)


class ApiToken(TimestampMixin, Base):
    """A system's credential: shown once at creation, stored as a digest, revocable by name."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    branch_id: Mapped[str | None] = mapped_column(ForeignKey("branches.id"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiTokenRole(Base):
    """A role held by an API token."""

    __tablename__ = "api_token_roles"

    token_id: Mapped[str] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)


class LoginThrottle(Base):
    """Consecutive failed sign-ins per username, kept whether or not the username exists.

    Counting unknown names too means the lock-out answer is the same for every name, so it
    cannot be used to find out which usernames exist.
    """

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
