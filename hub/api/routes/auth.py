"""Signing in (OAuth2 password and refresh-token grants) and ``GET /api/me``."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Form, Request

from core.access import Actor, ActorKind
from core.access import service as access
from core.access.auth import refresh, sign_in
from core.errors import Invalid, Unauthenticated
from schemas.api.access import MeRead, MeUpdate, TokenResponse

from ...deps import RuntimeDep, SessionDep
from ..security import open_route, request_origin, require

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/auth/token", dependencies=[open_route("the sign-in itself")])
async def token(
    request: Request,
    runtime: RuntimeDep,
    grant_type: Annotated[str, Form()] = "password",
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    refresh_token: Annotated[str, Form(max_length=4096)] = "",
) -> TokenResponse:
    """OAuth2 token endpoint: the password grant, or the refresh-token grant.

    ``grant_type=password`` takes ``username`` and ``password``; ``grant_type=refresh_token`` takes
    ``refresh_token``. Failures are audited and, after repeated ones, lock the username for a
    while; no answer tells whether a username exists.
    """
    request_id, client = request_origin(request)
    origin = Actor(kind=ActorKind.USER, id=None, name="anonymous", request_id=request_id, client_addr=client)
    if grant_type not in ("password", "refresh_token"):
        raise Invalid("auth.unsupported_grant", grant_type=grant_type[:50])
    if grant_type == "password" and (not username or not password):
        raise Unauthenticated("auth.invalid_credentials")
    async with runtime.sessions() as session:
        try:
            if grant_type == "password":
                pair = await sign_in(
                    session,
                    runtime.signing_keys,
                    runtime.login_policy,
                    username=username,
                    password=password,
                    origin=origin,
                )
            else:
                pair = await refresh(session, runtime.signing_keys, runtime.login_policy, refresh_token)
        finally:
            await session.commit()  # a failure's count and audit entry must outlive the refusal
    return TokenResponse(
        access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token
    )


@router.get("/me")
async def me(runtime: RuntimeDep, actor: Actor = require("access.me")) -> MeRead:
    """The caller: kind, name, roles, branch, and every permission they hold with its scope."""
    codes = [permission.code for permission in runtime.permissions]
    return MeRead(
        kind=actor.kind.value,
        id=actor.id,
        name=actor.name,
        roles=list(actor.roles),
        branch=actor.branch_code,
        language=actor.language,
        permissions={code: scope.value for code, scope in actor.permissions(codes).items()},
    )


@router.patch("/me")
async def update_me(
    body: MeUpdate, session: SessionDep, runtime: RuntimeDep, actor: Actor = require("access.me")
) -> MeRead:
    """Choose the language messages come in; it overrides the browser's Accept-Language."""
    if actor.kind is not ActorKind.USER or actor.id is None:
        raise Invalid(
            "access.me_not_a_person", errors=[{"field": "language", "code": "access.me_not_a_person"}]
        )
    await access.set_language(session, actor, body.language)
    return await me(runtime, replace(actor, language=body.language))
