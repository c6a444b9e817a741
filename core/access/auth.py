"""Signing in and recognising callers: passwords with lock-out, JWTs, API tokens.

Every failure answers the same way whether or not the username exists: unknown names are
counted and locked like real ones, and a dummy hash is verified so timing does not tell them
apart either. A successful sign-in and every failure are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utcnow
from core.errors import Unauthenticated

from .actor import Actor, ActorKind
from .models import ApiToken, LoginThrottle, User
from .passwords import verify_password
from .repository import token_actor, user_actor
from .tokens import API_TOKEN_PREFIX, InvalidToken, SigningKeys, api_token_digest

__all__ = ["AccountLocked", "LoginPolicy", "TokenPair", "actor_for_bearer", "refresh", "sign_in"]


class AccountLocked(Unauthenticated):
    """Too many failures for this username; ``retry_after`` seconds until it may try again."""

    slug = "account-locked"

    def __init__(self, minutes: int, retry_after: int) -> None:
        super().__init__("auth.locked", minutes=minutes)
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginPolicy:
    """How many failures lock a username, for how long, and how long tokens live."""

    max_failures: int = 5
    lock_minutes: int = 15
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class TokenPair:
    """What ``POST /api/auth/token`` answers."""

    access_token: str
    refresh_token: str
    expires_in: int
    user: User


def _anonymous(name: str) -> Actor:
    # ``name`` is already cut to 100 characters; the caller tags the actor with the request.
    return Actor(kind=ActorKind.USER, id=None, name=name or "?")


async def sign_in(
    session: AsyncSession,
    keys: SigningKeys,
    policy: LoginPolicy,
    *,
    username: str,
    password: str,
    origin: Actor | None = None,
) -> TokenPair:
    """Check a username and password and issue tokens; the caller commits either way.

    Raises:
        AccountLocked: too many recent failures for this username (known or not).
        Unauthenticated: wrong username or password, or a disabled user (one message for all).
    """
    name = username.strip().lower()[:100]
    now = utcnow()
    throttle = await session.get(LoginThrottle, name)
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now:
        remaining = int((throttle.locked_until - now).total_seconds()) + 1
        raise AccountLocked(policy.lock_minutes, remaining)
    user = await session.scalar(select(User).where(User.username == name))
    ok, new_hash = verify_password(password, user.password_hash if user is not None else None)
    if not ok or user is None or user.disabled_at is not None:
        throttle = throttle or LoginThrottle(username=name, failures=0)
        if throttle not in session:
            session.add(throttle)
        if throttle.locked_until is not None and throttle.locked_until <= now:
            throttle.failures, throttle.locked_until = 0, None
        throttle.failures += 1
        throttle.last_failure_at = now
        locked = throttle.failures >= policy.max_failures
        if locked:
            throttle.locked_until = now + timedelta(minutes=policy.lock_minutes)
        actor = await user_actor(session, user) if user is not None else _anonymous(name)
        if origin is not None:
            actor = actor.at(request_id=origin.request_id, client_addr=origin.client_addr)
        await audit.record(
            session,
            actor,
            "auth.locked" if locked else "auth.login_failed",
            target_type="user",
            target_id=name,
            after={"failures": throttle.failures, "known_user": user is not None},
        )
        if locked:
            raise AccountLocked(policy.lock_minutes, policy.lock_minutes * 60)
        raise Unauthenticated("auth.invalid_credentials")
    if throttle is not None:
        await session.delete(throttle)
    if new_hash is not None:
        user.password_hash = new_hash  # pwdlib's parameters moved on; upgrade while we have the password
    actor = await user_actor(session, user)
    if origin is not None:
        actor = actor.at(request_id=origin.request_id, client_addr=origin.client_addr)
    await audit.record(session, actor, "auth.login", target_type="user", target_id=user.username)
    return _issue(keys, policy, user)


def _issue(keys: SigningKeys, policy: LoginPolicy, user: User) -> TokenPair:
    access, expires_in = keys.issue(
        subject=user.id, version=user.token_version, type="access", ttl=policy.access_ttl
    )
    refresh_token, _ = keys.issue(
        subject=user.id, version=user.token_version, type="refresh", ttl=policy.refresh_ttl
    )
    return TokenPair(access, refresh_token, expires_in, user)


async def _live_user(session: AsyncSession, subject: str, version: int) -> User:
    user = await session.get(User, subject)
    if user is None or user.disabled_at is not None or user.token_version != version:
        raise Unauthenticated("auth.token_revoked")
    return user


async def refresh(
    session: AsyncSession, keys: SigningKeys, policy: LoginPolicy, refresh_token: str
) -> TokenPair:
    """New tokens for a valid refresh token of a user who is still enabled."""
    try:
        claims = keys.verify(refresh_token, type="refresh")
    except InvalidToken as exc:
        raise Unauthenticated(
            "auth.token_expired" if exc.code == "token.expired" else "auth.token_invalid"
        ) from None
    return _issue(keys, policy, await _live_user(session, claims.subject, claims.version))


async def actor_for_bearer(session: AsyncSession, keys: SigningKeys, bearer: str) -> Actor:
    """The actor behind an ``Authorization: Bearer`` value: an API token or an access JWT.

    Raises:
        Unauthenticated: with a code saying whether it expired, is invalid, or no longer works.
    """
    if bearer.startswith(API_TOKEN_PREFIX):
        token = await session.scalar(select(ApiToken).where(ApiToken.digest == api_token_digest(bearer)))
        now = utcnow()
        if token is None:
            raise Unauthenticated("auth.token_invalid")
        if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
            raise Unauthenticated("auth.token_revoked")
        return await token_actor(session, token)
    try:
        claims = keys.verify(bearer, type="access")
    except InvalidToken as exc:
        raise Unauthenticated(
            "auth.token_expired" if exc.code == "token.expired" else "auth.token_invalid"
        ) from None
    return await user_actor(session, await _live_user(session, claims.subject, claims.version))
