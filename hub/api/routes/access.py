"""The organisation over HTTP: branches, users, roles and the permission registry, API tokens.

Lists are scoped in SQL (a branch manager lists the users of their subtree, a loan officer only
themselves); every change goes through ``core.access.service`` and is audited there.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor, ApiToken, ApiTokenRole, Branch, Role, RoleGrant, User, UserRole, scoped
from core.access import service as access
from core.errors import NotFound
from schemas.api.access import (
    BranchCreate,
    BranchRead,
    PermissionRead,
    RoleRead,
    RoleWrite,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserRolesUpdate,
)

from ...deps import RuntimeDep, SessionDep
from ..paging import Limit, Offset
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["access"])


async def _branch_codes(session: AsyncSession) -> dict[str, str]:
    return dict((await session.execute(select(Branch.id, Branch.code))).all())


@router.get("/branches")
async def list_branches(session: SessionDep, actor: Actor = require("branches.read")) -> list[BranchRead]:
    """The branch tree, parents before children."""
    rows = (await session.scalars(select(Branch).order_by(Branch.path))).all()
    codes = {row.id: row.code for row in rows}
    return [
        BranchRead(
            code=row.code, name=row.name, parent=codes.get(row.parent_id or ""), depth=row.path.count("/") - 2
        )
        for row in rows
    ]


@router.post("/branches", status_code=status.HTTP_201_CREATED)
async def add_branch(
    body: BranchCreate, session: SessionDep, actor: Actor = require("branches.manage")
) -> BranchRead:
    """A new branch under ``parent`` (or a new head office)."""
    row = await access.add_branch(session, actor, code=body.code, name=body.name, parent=body.parent)
    return BranchRead(code=row.code, name=row.name, parent=body.parent, depth=row.path.count("/") - 2)


async def _user_read(session: AsyncSession, user: User, codes: dict[str, str]) -> UserRead:
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


@router.get("/users")
async def list_users(
    session: SessionDep,
    actor: Actor = require("users.read"),
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[UserRead]:
    """Users within the caller's ``users.read`` scope, by username."""
    statement = scoped(select(User), actor, "users.read", owner=User.id, branch=User.branch_id)
    rows = (await session.scalars(statement.order_by(User.username).limit(limit).offset(offset))).all()
    codes = await _branch_codes(session)
    return [await _user_read(session, row, codes) for row in rows]


@router.get("/users/{username}")
async def get_user(username: str, session: SessionDep, actor: Actor = require("users.read")) -> UserRead:
    """One user, if within the caller's scope (otherwise the same 404 as a missing one)."""
    statement = scoped(select(User), actor, "users.read", owner=User.id, branch=User.branch_id)
    row = await session.scalar(statement.where(User.username == username.strip().lower()))
    if row is None:
        raise NotFound("access.unknown_user", name=username)
    return await _user_read(session, row, await _branch_codes(session))


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def add_user(body: UserCreate, session: SessionDep, actor: Actor = require("users.manage")) -> UserRead:
    """A new user with roles and a branch; the password must meet the policy."""
    row = await access.add_user(
        session,
        actor,
        username=body.username,
        password=body.password.get_secret_value(),
        roles=body.roles,
        branch=body.branch,
        display_name=body.display_name,
    )
    return await _user_read(session, row, await _branch_codes(session))


@router.post("/users/{username}/disable")
async def disable_user(
    username: str, session: SessionDep, actor: Actor = require("users.manage")
) -> UserRead:
    """Disable a user: their access and refresh tokens stop working at once."""
    row = await access.set_user_enabled(session, actor, username, enabled=False)
    return await _user_read(session, row, await _branch_codes(session))


@router.post("/users/{username}/enable")
async def enable_user(username: str, session: SessionDep, actor: Actor = require("users.manage")) -> UserRead:
    """Enable a disabled user again (they sign in anew)."""
    row = await access.set_user_enabled(session, actor, username, enabled=True)
    return await _user_read(session, row, await _branch_codes(session))


@router.put("/users/{username}/roles")
async def set_user_roles(
    username: str, body: UserRolesUpdate, session: SessionDep, actor: Actor = require("users.manage")
) -> UserRead:
    """Replace a user's roles."""
    row = await access.set_user_roles(session, actor, username, body.roles)
    return await _user_read(session, row, await _branch_codes(session))


@router.get("/permissions")
async def list_permissions(runtime: RuntimeDep, actor: Actor = require("roles.read")) -> list[PermissionRead]:
    """Every registered permission code, with its description and who registered it."""
    return [
        PermissionRead(code=p.code, description=p.description, owner=p.owner) for p in runtime.permissions
    ]


async def _role_read(session: AsyncSession, role: Role) -> RoleRead:
    grants = (
        await session.execute(
            select(RoleGrant.permission, RoleGrant.scope).where(RoleGrant.role_id == role.id)
        )
    ).all()
    return RoleRead.model_validate(
        {"name": role.name, "description": role.description, "builtin": role.builtin, "grants": dict(grants)}
    )


@router.get("/roles")
async def list_roles(session: SessionDep, actor: Actor = require("roles.read")) -> list[RoleRead]:
    """Every role with its grants."""
    rows = (await session.scalars(select(Role).order_by(Role.name))).all()
    return [await _role_read(session, row) for row in rows]


@router.post("/roles", status_code=status.HTTP_201_CREATED)
async def create_role(
    body: RoleWrite, runtime: RuntimeDep, session: SessionDep, actor: Actor = require("roles.manage")
) -> RoleRead:
    """A custom role: a name and its grants, no code change needed."""
    role = await access.save_role(
        session,
        actor,
        runtime.permissions,
        name=body.name,
        grants=body.grants,
        description=body.description,
        create=True,
    )
    return await _role_read(session, role)


@router.put("/roles/{name}")
async def update_role(
    name: str,
    body: RoleWrite,
    runtime: RuntimeDep,
    session: SessionDep,
    actor: Actor = require("roles.manage"),
) -> RoleRead:
    """Replace a role's grants (built-in roles too: they are data)."""
    role = await access.save_role(
        session,
        actor,
        runtime.permissions,
        name=name,
        grants=body.grants,
        description=body.description,
        create=False,
    )
    return await _role_read(session, role)


async def _token_read(session: AsyncSession, token: ApiToken, codes: dict[str, str]) -> dict[str, object]:
    roles = (
        await session.scalars(
            select(Role.name)
            .join(ApiTokenRole, ApiTokenRole.role_id == Role.id)
            .where(ApiTokenRole.token_id == token.id)
        )
    ).all()
    return {
        "name": token.name,
        "prefix": token.prefix,
        "roles": sorted(roles),
        "branch": codes.get(token.branch_id or ""),
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked": token.revoked_at is not None,
    }


@router.get("/tokens")
async def list_tokens(session: SessionDep, actor: Actor = require("tokens.read")) -> list[TokenRead]:
    """API tokens by name: prefix, roles, state; never their values."""
    rows = (await session.scalars(select(ApiToken).order_by(ApiToken.name))).all()
    codes = await _branch_codes(session)
    return [TokenRead.model_validate(await _token_read(session, row, codes)) for row in rows]


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
async def create_token(
    body: TokenCreate, session: SessionDep, actor: Actor = require("tokens.manage")
) -> TokenCreated:
    """A new API token; its value is in this answer only."""
    row, value = await access.create_token(
        session,
        actor,
        name=body.name,
        roles=body.roles,
        branch=body.branch,
        expires_in_days=body.expires_in_days,
    )
    return TokenCreated.model_validate(
        {**await _token_read(session, row, await _branch_codes(session)), "token": value}
    )


@router.delete("/tokens/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(name: str, session: SessionDep, actor: Actor = require("tokens.manage")) -> None:
    """Revoke a token: it stops working at once."""
    await access.revoke_token(session, actor, name)
