"""Signing in and recognising callers at the service level, with the clock pinned.

The API tests (tests/hub/access/test_auth_api.py) walk the same paths over HTTP; these pin what
they cannot see: the throttle row, the audit entry of each outcome, the lock's exact edges.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from core.access import Actor, ApiToken, LoginThrottle, User
from core.access import auth as auth_module
from core.access import service as access
from core.access.auth import AccountLocked, LoginPolicy, actor_for_bearer, refresh, sign_in
from core.access.passwords import verify_password
from core.access.tokens import SigningKeys
from core.audit import AuditEntry
from core.errors import Unauthenticated

PASSWORD = "Corr3ct-horse"
WRONG = "Wrong-passw0rd"
KEYS = SigningKeys(["k" * 40])
POLICY = LoginPolicy(max_failures=3, lock_minutes=10, access_ttl=timedelta(minutes=5))
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ORIGIN = Actor.operator("t").at(request_id="req-1", client_addr="203.0.113.9")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    now = [NOW]
    monkeypatch.setattr(auth_module, "utcnow", lambda: now[0])
    return now


@pytest.fixture
async def org(session_factory):
    op = Actor.operator("t")
    async with session_factory() as session, session.begin():
        await access.ensure_builtin_roles(session, op)
        await access.add_branch(session, op, code="HQ", name="HQ", parent=None)
        await access.add_user(
            session, op, username="li", password=PASSWORD, roles=["loan_officer"], branch="HQ"
        )
        await access.add_user(
            session, op, username="off", password=PASSWORD, roles=["loan_officer"], branch="HQ"
        )
        await access.set_user_enabled(session, op, "off", enabled=False)
        _, value = await access.create_token(session, op, name="crm-sync", roles=["integrator"])
        expiring, expiring_value = await access.create_token(
            session, op, name="expiring", roles=["integrator"], expires_in_days=1
        )
        expiring.expires_at = NOW
    return {"token": value, "expiring": expiring_value}


async def attempt(session_factory, username: str, password: str, **kw):
    async with session_factory() as session:
        try:
            return await sign_in(session, KEYS, POLICY, username=username, password=password, **kw)
        finally:
            await session.commit()  # as the route does: a failure's count and audit entry are kept


async def refused(session_factory, username: str, password: str, **kw) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        await attempt(session_factory, username, password, **kw)
    return caught.value


async def last_entry(session_factory) -> AuditEntry:
    async with session_factory() as session:
        entry = await session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    assert entry is not None
    return entry


async def throttle_of(session_factory, name: str) -> LoginThrottle | None:
    async with session_factory() as session:
        return await session.get(LoginThrottle, name)


async def test_sign_in_issues_tokens_for_the_user_and_audits_where_it_came_from(session_factory, org, clock):
    pair = await attempt(session_factory, "  LI ", PASSWORD, origin=ORIGIN)
    assert pair.user.username == "li"
    assert pair.expires_in == 300
    access_claims = KEYS.verify(pair.access_token, type="access")
    refresh_claims = KEYS.verify(pair.refresh_token, type="refresh")
    assert access_claims.subject == refresh_claims.subject == pair.user.id
    entry = await last_entry(session_factory)
    assert (entry.action, entry.actor, entry.target_type, entry.target_id) == (
        "auth.login",
        "user:li",
        "user",
        "li",
    )
    assert (entry.request_id, entry.client_addr) == ("req-1", "203.0.113.9")


async def test_sign_in_without_an_origin_audits_no_request(session_factory, org, clock):
    await attempt(session_factory, "li", PASSWORD)
    entry = await last_entry(session_factory)
    assert (entry.request_id, entry.client_addr) == (None, None)


@pytest.mark.parametrize(
    ("username", "password", "name", "actor", "known"),
    [
        ("li", WRONG, "li", "user:li", True),
        ("off", PASSWORD, "off", "user:off", True),  # a disabled user, right password
        ("Nobody", WRONG, "nobody", "user:nobody", False),
        ("   ", WRONG, "", "user:?", False),
    ],
)
async def test_each_failure_counts_is_audited_and_answers_alike(
    session_factory, org, clock, username, password, name, actor, known
):
    error = await refused(session_factory, username, password, origin=ORIGIN)
    assert type(error) is Unauthenticated and error.code == "auth.invalid_credentials"
    throttle = await throttle_of(session_factory, name)
    assert throttle is not None
    assert (throttle.failures, throttle.locked_until, throttle.last_failure_at) == (1, None, NOW)
    entry = await last_entry(session_factory)
    assert (entry.action, entry.actor, entry.target_type, entry.target_id) == (
        "auth.login_failed",
        actor,
        "user",
        name,
    )
    assert entry.after == {"failures": 1, "known_user": known}
    # A known user's failure is filed under their id and branch (their audit trail shows it).
    assert (entry.actor_id is not None, entry.actor_branch_id is not None) == (known, known)
    assert (entry.request_id, entry.client_addr) == ("req-1", "203.0.113.9")


async def test_a_long_username_is_counted_under_its_first_100_characters(session_factory, org, clock):
    long_name = "x" * 150
    await refused(session_factory, long_name, WRONG)
    assert await throttle_of(session_factory, "x" * 100) is not None
    assert (await last_entry(session_factory)).target_id == "x" * 100


async def test_the_last_allowed_failure_locks_for_the_policy_minutes(session_factory, org, clock):
    for failures in (1, 2):
        await refused(session_factory, "li", WRONG)
        assert (await throttle_of(session_factory, "li")).failures == failures
    locked = await refused(session_factory, "li", WRONG, origin=ORIGIN)
    assert type(locked) is AccountLocked
    assert (locked.code, locked.params, locked.retry_after) == ("auth.locked", {"minutes": 10}, 600)
    throttle = await throttle_of(session_factory, "li")
    assert (throttle.failures, throttle.locked_until) == (3, NOW + timedelta(minutes=10))
    entry = await last_entry(session_factory)
    assert (entry.action, entry.after) == ("auth.locked", {"failures": 3, "known_user": True})


async def test_while_locked_even_the_right_password_is_refused_with_the_time_left(
    session_factory, org, clock
):
    for _ in range(3):
        await refused(session_factory, "li", WRONG)
    clock[0] = NOW + timedelta(minutes=5, seconds=0.5)
    locked = await refused(session_factory, "li", PASSWORD)
    assert type(locked) is AccountLocked
    assert (locked.params, locked.retry_after) == ({"minutes": 10}, 300)  # 299.5 s left, rounded up
    clock[0] = NOW + timedelta(minutes=10) - timedelta(microseconds=1)
    assert (await refused(session_factory, "li", PASSWORD)).retry_after == 1


async def test_the_lock_ends_exactly_at_locked_until_and_the_count_starts_again(session_factory, org, clock):
    for _ in range(3):
        await refused(session_factory, "li", WRONG)
    clock[0] = NOW + timedelta(minutes=10)
    again = await refused(session_factory, "li", WRONG)
    assert type(again) is Unauthenticated and again.code == "auth.invalid_credentials"
    throttle = await throttle_of(session_factory, "li")
    assert (throttle.failures, throttle.locked_until) == (1, None)


async def test_the_lock_ends_exactly_at_locked_until_for_the_right_password_too(session_factory, org, clock):
    for _ in range(3):
        await refused(session_factory, "li", WRONG)
    clock[0] = NOW + timedelta(minutes=10)
    pair = await attempt(session_factory, "li", PASSWORD)
    assert pair.user.username == "li"
    assert await throttle_of(session_factory, "li") is None


async def test_a_success_clears_earlier_failures(session_factory, org, clock):
    await refused(session_factory, "li", WRONG)
    await attempt(session_factory, "li", PASSWORD)
    assert await throttle_of(session_factory, "li") is None


async def test_a_hash_with_old_parameters_is_upgraded_on_sign_in(session_factory, org, clock):
    old_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    async with session_factory() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == "li"))
        user.password_hash = old_hash
    await attempt(session_factory, "li", PASSWORD)
    async with session_factory() as session:
        stored = await session.scalar(select(User.password_hash).where(User.username == "li"))
    assert stored != old_hash and stored.startswith("$argon2id$")
    assert verify_password(PASSWORD, stored) == (True, None)


# -- refresh and bearer tokens -------------------------------------------------------------------


async def user_named(session_factory, name: str) -> User:
    async with session_factory() as session:
        user = await session.scalar(select(User).where(User.username == name))
    assert user is not None
    return user


async def test_refresh_gives_a_new_pair_for_a_live_user(session_factory, org):
    pair = await attempt(session_factory, "li", PASSWORD)
    async with session_factory() as session:
        again = await refresh(session, KEYS, POLICY, pair.refresh_token)
    assert again.user.username == "li" and again.expires_in == 300
    assert KEYS.verify(again.access_token, type="access").subject == pair.user.id


async def refresh_refused(session_factory, token: str) -> str:
    async with session_factory() as session:
        with pytest.raises(Unauthenticated) as caught:
            await refresh(session, KEYS, POLICY, token)
    return caught.value.code


async def test_refresh_refusals_say_expired_invalid_or_revoked(session_factory, org):
    li = await user_named(session_factory, "li")
    off = await user_named(session_factory, "off")
    expired, _ = KEYS.issue(
        subject=li.id, version=li.token_version, type="refresh", ttl=timedelta(seconds=-5)
    )
    access_token, _ = KEYS.issue(
        subject=li.id, version=li.token_version, type="access", ttl=timedelta(minutes=5)
    )
    stale, _ = KEYS.issue(
        subject=li.id, version=li.token_version + 1, type="refresh", ttl=timedelta(minutes=5)
    )
    disabled, _ = KEYS.issue(
        subject=off.id, version=off.token_version, type="refresh", ttl=timedelta(minutes=5)
    )
    ghost, _ = KEYS.issue(subject="no-such-user", version=1, type="refresh", ttl=timedelta(minutes=5))
    assert await refresh_refused(session_factory, expired) == "auth.token_expired"
    assert await refresh_refused(session_factory, "garbage") == "auth.token_invalid"
    assert await refresh_refused(session_factory, access_token) == "auth.token_invalid"
    assert await refresh_refused(session_factory, stale) == "auth.token_revoked"
    assert await refresh_refused(session_factory, disabled) == "auth.token_revoked"
    assert await refresh_refused(session_factory, ghost) == "auth.token_revoked"


async def bearer_refused(session_factory, bearer: str) -> str:
    async with session_factory() as session:
        with pytest.raises(Unauthenticated) as caught:
            await actor_for_bearer(session, KEYS, bearer)
    return caught.value.code


async def test_bearer_access_token_and_api_token_give_their_actors(session_factory, org, clock):
    pair = await attempt(session_factory, "li", PASSWORD)
    async with session_factory() as session:
        user = await actor_for_bearer(session, KEYS, pair.access_token)
        system = await actor_for_bearer(session, KEYS, org["token"])
    assert (user.audit_name, user.id) == ("user:li", pair.user.id)
    assert system.audit_name == "token:crm-sync"
    assert system.can("connectors.read")


async def test_bearer_refusals_say_expired_invalid_or_revoked(session_factory, org, clock):
    li = await user_named(session_factory, "li")
    off = await user_named(session_factory, "off")
    expired, _ = KEYS.issue(subject=li.id, version=li.token_version, type="access", ttl=timedelta(seconds=-5))
    refresh_token, _ = KEYS.issue(
        subject=li.id, version=li.token_version, type="refresh", ttl=timedelta(minutes=5)
    )
    disabled, _ = KEYS.issue(
        subject=off.id, version=off.token_version, type="access", ttl=timedelta(minutes=5)
    )
    assert await bearer_refused(session_factory, expired) == "auth.token_expired"
    assert await bearer_refused(session_factory, refresh_token) == "auth.token_invalid"
    assert await bearer_refused(session_factory, disabled) == "auth.token_revoked"
    assert await bearer_refused(session_factory, org["token"] + "x") == "auth.token_invalid"
    assert await bearer_refused(session_factory, org["expiring"]) == "auth.token_revoked"  # expires_at == now


async def test_an_api_token_works_until_its_expiry_and_not_after_revocation(session_factory, org, clock):
    clock[0] = NOW - timedelta(microseconds=1)
    async with session_factory() as session:
        assert (await actor_for_bearer(session, KEYS, org["expiring"])).audit_name == "token:expiring"
    async with session_factory() as session, session.begin():
        await access.revoke_token(session, Actor.operator("t"), "crm-sync")
    assert await bearer_refused(session_factory, org["token"]) == "auth.token_revoked"
    async with session_factory() as session:
        token = await session.scalar(select(ApiToken).where(ApiToken.name == "crm-sync"))
    assert token is not None and token.revoked_at is not None
