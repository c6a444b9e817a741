"""Queries of the access context: find branches, users, roles, tokens, and build actors from them."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound

from .actor import Actor, ActorKind
from .models import ApiToken, ApiTokenRole, Branch, Role, RoleGrant, User, UserRole
from .permissions import grant_matches
from .scopes import Scope

__all__ = [
    "branch_by_code",
    "grants_of",
    "role_by_name",
    "role_names",
    "roles_by_name",
    "token_actor",
    "user_actor",
    "user_by_name",
    "widest_scopes",
]


async def branch_by_code(session: AsyncSession, code: str) -> Branch:
    """The branch with ``code``; ``NotFound`` otherwise."""
    branch = await session.scalar(select(Branch).where(Branch.code == code))
    if branch is None:
        raise NotFound("access.unknown_branch", branch=code)
    return branch


async def user_by_name(session: AsyncSession, username: str) -> User:
    """The user named ``username`` (case-insensitive); ``NotFound`` otherwise."""
    user = await session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound("access.unknown_user", name=username)
    return user


async def role_by_name(session: AsyncSession, name: str) -> Role:
    """The role called ``name``; ``NotFound`` otherwise."""
    role = await session.scalar(select(Role).where(Role.name == name))
    if role is None:
        raise NotFound("access.unknown_role", name=name)
    return role


async def roles_by_name(session: AsyncSession, names: Sequence[str]) -> list[Role]:
    """The roles named, in order; ``NotFound`` naming the first that does not exist."""
    return [await role_by_name(session, name) for name in dict.fromkeys(names)]


async def grants_of(session: AsyncSession, role_ids: Sequence[str]) -> dict[str, Scope]:
    """The union of the roles' grants, each at the widest scope any of them gives."""
    merged: dict[str, Scope] = {}
    if not role_ids:
        return merged
    rows = await session.execute(
        select(RoleGrant.permission, RoleGrant.scope).where(RoleGrant.role_id.in_(role_ids))
    )
    for permission, scope_text in rows:
        scope = Scope(scope_text)
        if permission not in merged or scope.width > merged[permission].width:
            merged[permission] = scope
    return merged


async def role_names(session: AsyncSession, role_ids: Sequence[str]) -> tuple[str, ...]:
    """Names of the roles, sorted."""
    if not role_ids:
        return ()
    return tuple(sorted((await session.scalars(select(Role.name).where(Role.id.in_(role_ids)))).all()))


async def _branch(session: AsyncSession, branch_id: str | None) -> Branch | None:
    return await session.get(Branch, branch_id) if branch_id else None


async def _actor(
    session: AsyncSession,
    kind: ActorKind,
    id: str,
    name: str,
    role_ids: list[str],
    branch_id: str | None,
    language: str | None = None,
) -> Actor:
    branch = await _branch(session, branch_id)
    return Actor(
        kind=kind,
        id=id,
        name=name,
        roles=await role_names(session, role_ids),
        grants=MappingProxyType(await grants_of(session, role_ids)),
        branch_id=branch.id if branch else None,
        branch_path=branch.path if branch else None,
        branch_code=branch.code if branch else None,
        language=language,
    )


async def user_actor(session: AsyncSession, user: User) -> Actor:
    """The actor a signed-in user acts as: their roles' grants and their branch."""
    statement = select(UserRole.role_id).where(UserRole.user_id == user.id)
    role_ids = list((await session.scalars(statement)).all())
    return await _actor(
        session, ActorKind.USER, user.id, user.username, role_ids, user.branch_id, user.language
    )


async def token_actor(session: AsyncSession, token: ApiToken) -> Actor:
    """The actor a system acts as through an API token."""
    statement = select(ApiTokenRole.role_id).where(ApiTokenRole.token_id == token.id)
    role_ids = list((await session.scalars(statement)).all())
    return await _actor(session, ActorKind.TOKEN, token.id, token.name, role_ids, token.branch_id)


async def widest_scopes(session: AsyncSession, user_ids: Sequence[str], permission: str) -> dict[str, Scope]:
    """Each user's widest scope for ``permission`` through their roles, in one query (absent: none).

    The same rule as ``Actor.scope_for``, for many people at once instead of one actor each.
    """
    if not user_ids:
        return {}
    rows = await session.execute(
        select(UserRole.user_id, RoleGrant.permission, RoleGrant.scope)
        .join(RoleGrant, RoleGrant.role_id == UserRole.role_id)
        .where(UserRole.user_id.in_(list(user_ids)))
    )
    widest: dict[str, Scope] = {}
    for user_id, grant, scope_text in rows:
        scope = Scope(scope_text)
        if grant_matches(grant, permission) and (
            user_id not in widest or scope.width > widest[user_id].width
        ):
            widest[user_id] = scope
    return widest
