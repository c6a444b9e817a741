"""HTTP contracts for signing in and for the organisation: branches, users, roles, tokens, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "AuditEntryRead",
    "BranchCreate",
    "BranchRead",
    "MeRead",
    "PermissionRead",
    "RoleRead",
    "RoleWrite",
    "TokenCreate",
    "TokenCreated",
    "TokenRead",
    "TokenResponse",
    "UserCreate",
    "UserRead",
    "UserRolesUpdate",
]

ScopeName = Literal["own", "team", "branch", "all"]


class TokenResponse(BaseModel):
    """The OAuth2 token answer (RFC 6749 §5.1) plus our refresh token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str


class MeRead(BaseModel):
    """Who the caller is, as ``GET /api/me`` tells them."""

    kind: Literal["user", "token", "operator", "system"]
    id: str | None
    name: str
    roles: list[str]
    branch: str | None
    language: str | None = Field(None, description="the chosen language for messages (zh-CN or en), if any")
    permissions: dict[str, ScopeName] = Field(
        description="every registered code the caller holds, with its scope"
    )


class MeUpdate(BaseModel):
    """What a person may change about themselves: the language messages come in (null: the browser's)."""

    model_config = ConfigDict(extra="forbid")

    language: Literal["zh-CN", "en"] | None


class BranchCreate(BaseModel):
    """A new branch; without ``parent`` it is a root (the head office)."""

    code: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=200)
    parent: str | None = None


class BranchRead(BaseModel):
    """A branch with its parent's code and depth in the tree (0 = head office)."""

    code: str
    name: str
    parent: str | None
    depth: int


class UserCreate(BaseModel):
    """A new user; the password must meet the policy."""

    username: str = Field(min_length=1, max_length=100)
    password: SecretStr
    roles: list[str] = Field(min_length=1)
    branch: str | None = None
    display_name: str = Field(default="", max_length=200)


class UserRolesUpdate(BaseModel):
    """The complete new set of a user's roles."""

    roles: list[str]


class UserRead(BaseModel):
    """A user as administrators see them (never a password hash)."""

    username: str
    display_name: str
    branch: str | None
    roles: list[str]
    disabled: bool
    created_at: datetime


class PermissionRead(BaseModel):
    """One registered permission code."""

    code: str
    description: str
    owner: str


class RoleWrite(BaseModel):
    """A role's grants: permission code (or ``*``, ``*.read``, ``area.*``) → scope."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")
    description: str | None = Field(default=None, max_length=500)
    grants: dict[str, ScopeName]


class RoleRead(BaseModel):
    """A role and its grants."""

    name: str
    description: str
    builtin: bool
    grants: dict[str, ScopeName]


class TokenCreate(BaseModel):
    """A new API token for a system."""

    name: str = Field(min_length=1, max_length=100)
    roles: list[str] = Field(min_length=1)
    branch: str | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenRead(BaseModel):
    """A token as listed: its name, prefix and roles, never its value."""

    name: str
    prefix: str
    roles: list[str]
    branch: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked: bool


class TokenCreated(TokenRead):
    """The one answer that carries the token's value."""

    token: str


class AuditEntryRead(BaseModel):
    """One audit entry."""

    seq: int
    id: str
    at: datetime
    actor: str
    actor_kind: str
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    client_addr: str | None
    hash: str
