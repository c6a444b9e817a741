"""The organisation and its people: branches, users, roles and API tokens, each change audited.

Functions take the session and the acting :class:`Actor` and never commit: the request (or the
CLI command) owns the transaction, so a change and its audit entry land together or not at all.
Permission checks happen at the door (the route's declared permission); rules that depend on
the data — the last admin, a branch cycle, a grant naming no permission — are checked here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utcnow
from core.errors import Conflict, Invalid, NotFound

from .actor import Actor
from .models import ApiToken, ApiTokenRole, Branch, Role, RoleGrant, User, UserRole
from .passwords import MIN_PASSWORD_LENGTH, hash_password, password_problems
from .permissions import InvalidPermission, PermissionRegistry
from .repository import branch_by_code, role_by_name, roles_by_name, user_by_name
from .roles import BUILTIN_ROLES
from .scopes import Scope
from .tokens import api_token_digest, new_api_token

__all__ = [
    "add_branch",
    "add_user",
    "create_token",
    "ensure_builtin_roles",
    "revoke_token",
    "save_role",
    "set_password",
    "set_user_enabled",
    "set_user_roles",
]

USERNAME_MAX = 100


async def ensure_builtin_roles(session: AsyncSession, actor: Actor) -> list[str]:
    """Create the built-in roles that are missing (existing ones keep the lender's edits)."""
    existing = set((await session.scalars(select(Role.name))).all())
    created = []
    for builtin in BUILTIN_ROLES:
        if builtin.name in existing:
            continue
        role = Role(name=builtin.name, description=builtin.description, builtin=True)
        session.add(role)
        await session.flush()
        session.add_all(
            RoleGrant(role_id=role.id, permission=p, scope=s.value) for p, s in builtin.grants.items()
        )
        await audit.record(
            session,
            actor,
            "roles.seed",
            target_type="role",
            target_id=role.name,
            after={"grants": {p: s.value for p, s in builtin.grants.items()}},
        )
        created.append(builtin.name)
    return created


async def add_branch(
    session: AsyncSession, actor: Actor, *, code: str, name: str, parent: str | None
) -> Branch:
    """A new branch under ``parent`` (a code), or a new root (head office) when ``parent`` is None."""
    code = code.strip()
    if not code or len(code) > 50 or "/" in code:
        raise Invalid("access.invalid_grant", detail="branch code: 1-50 characters, no '/'")
    if await session.scalar(select(Branch.id).where(Branch.code == code)):
        raise Conflict("access.duplicate", name=code)
    parent_row = await branch_by_code(session, parent) if parent else None
    branch = Branch(
        code=code, name=name.strip() or code, parent_id=parent_row.id if parent_row else None, path=""
    )
    session.add(branch)
    await session.flush()
    branch.path = f"{parent_row.path if parent_row else '/'}{branch.id}/"
    await audit.record(
        session,
        actor,
        "branches.create",
        target_type="branch",
        target_id=code,
        after={"code": code, "name": branch.name, "parent": parent},
    )
    return branch


def _check_password(password: str, username: str) -> None:
    problems = password_problems(password, username=username)
    if problems:
        raise Invalid(
            problems[0],
            min_length=MIN_PASSWORD_LENGTH,
            errors=[{"loc": ["password"], "code": code} for code in problems],
        )


async def add_user(
    session: AsyncSession,
    actor: Actor,
    *,
    username: str,
    password: str,
    roles: Sequence[str],
    branch: str | None,
    display_name: str = "",
) -> User:
    """A new, enabled user with ``roles`` in ``branch`` (a code)."""
    username = username.strip().lower()
    if not username or len(username) > USERNAME_MAX or any(c.isspace() for c in username):
        raise Invalid("access.invalid_grant", detail="username: 1-100 characters, no spaces")
    if await session.scalar(select(User.id).where(User.username == username)):
        raise Conflict("access.duplicate", name=username)
    _check_password(password, username)
    role_rows = await roles_by_name(session, roles)
    branch_row = await branch_by_code(session, branch) if branch else None
    user = User(
        username=username,
        display_name=display_name,
        branch_id=branch_row.id if branch_row else None,
        password_hash=hash_password(password),
        password_changed_at=utcnow(),
    )
    session.add(user)
    await session.flush()
    session.add_all(UserRole(user_id=user.id, role_id=role.id) for role in role_rows)
    await audit.record(
        session,
        actor,
        "users.create",
        target_type="user",
        target_id=username,
        after={"roles": [r.name for r in role_rows], "branch": branch, "display_name": display_name},
    )
    return user


async def _enabled_admins(session: AsyncSession) -> int:
    admin = select(Role.id).where(Role.name == "admin").scalar_subquery()
    statement = (
        select(func.count())
        .select_from(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role_id == admin, User.disabled_at.is_(None))
    )
    return int(await session.scalar(statement) or 0)


async def _is_admin(session: AsyncSession, user: User) -> bool:
    admin = select(Role.id).where(Role.name == "admin").scalar_subquery()
    return bool(
        await session.scalar(
            select(UserRole.user_id).where(UserRole.user_id == user.id, UserRole.role_id == admin)
        )
    )


async def set_user_enabled(session: AsyncSession, actor: Actor, username: str, *, enabled: bool) -> User:
    """Disable (every token of theirs stops at once) or re-enable a user."""
    user = await user_by_name(session, username)
    if (
        not enabled
        and user.disabled_at is None
        and await _is_admin(session, user)
        and await _enabled_admins(session) <= 1
    ):
        raise Conflict("access.last_admin")
    before = {"disabled": user.disabled_at is not None}
    if enabled:
        user.disabled_at = None
    elif user.disabled_at is None:
        user.disabled_at = utcnow()
        user.token_version += 1
    await audit.record(
        session,
        actor,
        "users.enable" if enabled else "users.disable",
        target_type="user",
        target_id=user.username,
        before=before,
        after={"disabled": not enabled},
    )
    return user


async def set_user_roles(session: AsyncSession, actor: Actor, username: str, roles: Sequence[str]) -> User:
    """Replace a user's roles (a permission change: audited with before and after)."""
    user = await user_by_name(session, username)
    role_rows = await roles_by_name(session, roles)
    current = (
        await session.scalars(
            select(Role.name).join(UserRole, UserRole.role_id == Role.id).where(UserRole.user_id == user.id)
        )
    ).all()
    if "admin" in current and "admin" not in roles and await _enabled_admins(session) <= 1:
        raise Conflict("access.last_admin")
    await session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    session.add_all(UserRole(user_id=user.id, role_id=role.id) for role in role_rows)
    await audit.record(
        session,
        actor,
        "users.set_roles",
        target_type="user",
        target_id=user.username,
        before={"roles": sorted(current)},
        after={"roles": sorted(r.name for r in role_rows)},
    )
    return user


async def set_password(session: AsyncSession, actor: Actor, username: str, password: str) -> User:
    """A new password; the user's existing tokens stop working."""
    user = await user_by_name(session, username)
    _check_password(password, user.username)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.token_version += 1
    await audit.record(session, actor, "users.set_password", target_type="user", target_id=user.username)
    return user


async def save_role(
    session: AsyncSession,
    actor: Actor,
    registry: PermissionRegistry,
    *,
    name: str,
    grants: Mapping[str, str],
    description: str | None = None,
    create: bool,
) -> Role:
    """Create a custom role, or replace the grants of an existing one (built-ins included)."""
    problems = []
    for permission, scope in grants.items():
        try:
            registry.check_grant(permission)
        except InvalidPermission as exc:
            problems.append({"loc": ["grants", permission], "code": "access.invalid_grant", "msg": str(exc)})
        if scope not in {s.value for s in Scope}:
            problems.append(
                {"loc": ["grants", permission], "code": "access.invalid_grant", "msg": f"scope {scope!r}"}
            )
    if problems:
        raise Invalid("access.invalid_grant", detail=problems[0]["msg"], errors=problems)
    existing = await session.scalar(select(Role).where(Role.name == name))
    if create and existing is not None:
        raise Conflict("access.duplicate", name=name)
    if not create and existing is None:
        raise NotFound("access.unknown_role", name=name)
    if existing is None:
        role = Role(name=name, description=description or "", builtin=False)
        session.add(role)
        await session.flush()
        before = None
    else:
        role = existing
        old = await session.execute(
            select(RoleGrant.permission, RoleGrant.scope).where(RoleGrant.role_id == role.id)
        )
        before = {"grants": dict(old.all()), "description": role.description}
        await session.execute(delete(RoleGrant).where(RoleGrant.role_id == role.id))
        if description is not None:
            role.description = description
    session.add_all(RoleGrant(role_id=role.id, permission=p, scope=s) for p, s in grants.items())
    await audit.record(
        session,
        actor,
        "roles.create" if existing is None else "roles.update",
        target_type="role",
        target_id=name,
        before=before,
        after={"grants": dict(grants), "description": role.description},
    )
    return role


async def create_token(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    roles: Sequence[str],
    branch: str | None = None,
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """A new API token for a system; the value is returned once and only its digest is kept."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("access.invalid_grant", detail="token name: 1-100 characters")
    if await session.scalar(select(ApiToken.id).where(ApiToken.name == name)):
        raise Conflict("access.duplicate", name=name)
    role_rows = await roles_by_name(session, roles)
    branch_row = await branch_by_code(session, branch) if branch else None
    value = new_api_token()
    token = ApiToken(
        name=name,
        digest=api_token_digest(value),
        prefix=value[:8],
        branch_id=branch_row.id if branch_row else None,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    await session.flush()
    session.add_all(ApiTokenRole(token_id=token.id, role_id=role.id) for role in role_rows)
    await audit.record(
        session,
        actor,
        "tokens.create",
        target_type="api_token",
        target_id=name,
        after={"roles": [r.name for r in role_rows], "branch": branch, "prefix": token.prefix},
    )
    return token, value


async def revoke_token(session: AsyncSession, actor: Actor, name: str) -> ApiToken:
    """Revoke a token by name; it stops working at once."""
    token = await session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise NotFound("access.unknown_token", name=name)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    await audit.record(session, actor, "tokens.revoke", target_type="api_token", target_id=name)
    return token


async def role_grants(session: AsyncSession, name: str) -> dict[str, str]:
    """A role's grants (permission → scope)."""
    role = await role_by_name(session, name)
    rows = await session.execute(
        select(RoleGrant.permission, RoleGrant.scope).where(RoleGrant.role_id == role.id)
    )
    return dict(rows.all())


async def set_language(session: AsyncSession, actor: Actor, language: str | None) -> None:
    """Record the language ``actor`` (a person) reads messages in; ``None`` follows the browser."""
    user = await session.get_one(User, actor.id)
    before = user.language
    user.language = language
    await audit.record(
        session,
        actor,
        "users.language",
        target_type="user",
        target_id=user.id,
        before={"language": before},
        after={"language": language},
    )
