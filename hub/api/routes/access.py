"""The organisation over HTTP: branches, users, roles and the permission registry, API tokens.

Lists are scoped in SQL (a branch manager lists the users of their subtree, a loan officer only
themselves); every change goes through ``core.access.service`` and is audited there.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from core.access import Actor, User, scoped, views
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


@router.get("/branches")
async def list_branches(session: SessionDep, actor: Actor = require("branches.read")) -> list[BranchRead]:
    """The branch tree, parents before children."""
    return await views.all_branches(session)


@router.post("/branches", status_code=status.HTTP_201_CREATED)
async def add_branch(
    body: BranchCreate, session: SessionDep, actor: Actor = require("branches.manage")
) -> BranchRead:
    """A new branch under ``parent`` (or a new head office)."""
    row = await access.add_branch(session, actor, code=body.code, name=body.name, parent=body.parent)
    return BranchRead(code=row.code, name=row.name, parent=body.parent, depth=row.path.count("/") - 2)


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
    codes = await views.branch_codes(session)
    return [await views.user_view(session, row, codes) for row in rows]


@router.get("/users/{username}")
async def get_user(username: str, session: SessionDep, actor: Actor = require("users.read")) -> UserRead:
    """One user, if within the caller's scope (otherwise the same 404 as a missing one)."""
    statement = scoped(select(User), actor, "users.read", owner=User.id, branch=User.branch_id)
    row = await session.scalar(statement.where(User.username == username.strip().lower()))
    if row is None:
        raise NotFound("access.unknown_user", name=username)
    return await views.user_view(session, row, await views.branch_codes(session))


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
    return await views.user_view(session, row, await views.branch_codes(session))


@router.post("/users/{username}/disable")
async def disable_user(
    username: str, session: SessionDep, actor: Actor = require("users.manage")
) -> UserRead:
    """Disable a user: their access and refresh tokens stop working at once."""
    row = await access.set_user_enabled(session, actor, username, enabled=False)
    return await views.user_view(session, row, await views.branch_codes(session))


@router.post("/users/{username}/enable")
async def enable_user(username: str, session: SessionDep, actor: Actor = require("users.manage")) -> UserRead:
    """Enable a disabled user again (they sign in anew)."""
    row = await access.set_user_enabled(session, actor, username, enabled=True)
    return await views.user_view(session, row, await views.branch_codes(session))


@router.put("/users/{username}/roles")
async def set_user_roles(
    username: str, body: UserRolesUpdate, session: SessionDep, actor: Actor = require("users.manage")
) -> UserRead:
    """Replace a user's roles."""
    row = await access.set_user_roles(session, actor, username, body.roles)
    return await views.user_view(session, row, await views.branch_codes(session))


@router.get("/permissions")
async def list_permissions(runtime: RuntimeDep, actor: Actor = require("roles.read")) -> list[PermissionRead]:
    """Every registered permission code, with its description and who registered it."""
    return [
        PermissionRead(code=p.code, description=p.description, owner=p.owner) for p in runtime.permissions
    ]


@router.get("/roles")
async def list_roles(session: SessionDep, actor: Actor = require("roles.read")) -> list[RoleRead]:
    """Every role with its grants."""
    return await views.all_roles(session)


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
    return await views.role_view(session, role)


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
    return await views.role_view(session, role)


@router.get("/tokens")
async def list_tokens(session: SessionDep, actor: Actor = require("tokens.read")) -> list[TokenRead]:
    """API tokens by name: prefix, roles, state; never their values."""
    return await views.all_tokens(session)


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
    listed = await views.token_view(session, row, await views.branch_codes(session))
    return TokenCreated(**listed.model_dump(), token=value)


@router.delete("/tokens/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(name: str, session: SessionDep, actor: Actor = require("tokens.manage")) -> None:
    """Revoke a token: it stops working at once."""
    await access.revoke_token(session, actor, name)
