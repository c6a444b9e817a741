"""How organisation rows look to a reader: the HTTP API and the operator's CLI show the same fields.

Users, roles and tokens are each spread over several tables (roles through link tables, branches by
id); these functions gather one row's view in the read models of ``schemas.api.access``, never a
password hash or a token's value. Scoping is the caller's business: the API filters the rows it
passes in by the reader's scope, the operator at the machine sees them all.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.api.access import BranchRead, RoleRead, TokenRead, UserRead

from .models import ApiToken, ApiTokenRole, Branch, Role, RoleGrant, User, UserRole

__all__ = [
    "all_branches",
    "all_roles",
    "all_tokens",
    "all_users",
    "branch_codes",
    "role_view",
    "token_view",
    "user_view",
]


async def branch_codes(session: AsyncSession) -> dict[str, str]:
    """Branch codes by branch id: views name a branch by its code."""
    return dict((await session.execute(select(Branch.id, Branch.code))).all())


async def all_branches(session: AsyncSession) -> list[BranchRead]:
    """The branch tree, parents before children."""
    rows = (await session.scalars(select(Branch).order_by(Branch.path))).all()
    codes = {row.id: row.code for row in rows}
    return [
        BranchRead(
            code=row.code, name=row.name, parent=codes.get(row.parent_id or ""), depth=row.path.count("/") - 2
        )
        for row in rows
    ]


async def user_view(session: AsyncSession, user: User, codes: dict[str, str]) -> UserRead:
    """One user with their role names and branch code."""
    roles = (
        await session.scalars(
            select(Role.name).join(UserRole, UserRole.role_id == Role.id).where(UserRole.user_id == user.id)
        )
    ).all()
    return UserRead(
        username=user.username,
        display_name=user.display_name,
        branch=codes.get(user.branch_id or ""),
        roles=sorted(roles),
        disabled=user.disabled_at is not None,
        created_at=user.created_at,
    )


async def all_users(session: AsyncSession) -> list[UserRead]:
    """Every user, by username (unscoped: for the operator at the machine)."""
    codes = await branch_codes(session)
    rows = (await session.scalars(select(User).order_by(User.username))).all()
    return [await user_view(session, row, codes) for row in rows]


async def role_view(session: AsyncSession, role: Role) -> RoleRead:
    """One role with its grants (permission → scope)."""
    grants = (
        await session.execute(
            select(RoleGrant.permission, RoleGrant.scope).where(RoleGrant.role_id == role.id)
        )
    ).all()
    return RoleRead.model_validate(
        {"name": role.name, "description": role.description, "builtin": role.builtin, "grants": dict(grants)}
    )


async def all_roles(session: AsyncSession) -> list[RoleRead]:
    """Every role with its grants, by name."""
    rows = (await session.scalars(select(Role).order_by(Role.name))).all()
    return [await role_view(session, row) for row in rows]


async def token_view(session: AsyncSession, token: ApiToken, codes: dict[str, str]) -> TokenRead:
    """One API token: name, prefix, roles and state; never its value."""
    roles = (
        await session.scalars(
            select(Role.name)
            .join(ApiTokenRole, ApiTokenRole.role_id == Role.id)
            .where(ApiTokenRole.token_id == token.id)
        )
    ).all()
    return TokenRead(
        name=token.name,
        prefix=token.prefix,
        roles=sorted(roles),
        branch=codes.get(token.branch_id or ""),
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked=token.revoked_at is not None,
    )


async def all_tokens(session: AsyncSession) -> list[TokenRead]:
    """Every API token, by name."""
    rows = (await session.scalars(select(ApiToken).order_by(ApiToken.name))).all()
    codes = await branch_codes(session)
    return [await token_view(session, row, codes) for row in rows]
