"""The lender's controls as data: authority limits (分级授权), delegations, staff who are customers.

Each change is audited with before and after, by whom. Delegations are never edited, only
created and revoked, so the record shows who could decide for whom at any moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor, ActorKind, Role, User
from core.customers.models import Customer
from core.db import utcnow
from core.errors import Conflict, Forbidden, Invalid, NotFound

from .models import AuthorityLimit, Delegation, StaffParty

__all__ = [
    "LimitSpec",
    "create_delegation",
    "delegations_for",
    "link_staff",
    "read_limits",
    "replace_limits",
    "revoke_delegation",
    "unlink_staff",
]

MAX_LIMITS = 500
MAX_DELEGATION = timedelta(days=366)
_MAX_AMOUNT = Decimal("9999999999999999.99")


@dataclass(frozen=True)
class LimitSpec:
    """One row of the authority table: ``role`` or ``user`` ``subject`` may approve up to ``max_exposure``."""

    subject_kind: str
    subject: str
    max_exposure: Any
    product_code: str = ""


def _err(index: int, name: str, code: str, **params: Any) -> dict[str, Any]:
    return {"field": f"limits[{index}].{name}", "code": code, "params": params}


async def replace_limits(
    session: AsyncSession, actor: Actor, specs: Sequence[LimitSpec]
) -> list[AuthorityLimit]:
    """Replace the whole authority table with ``specs``, checked whole first (every error at once)."""
    if len(specs) > MAX_LIMITS:
        raise Invalid(
            "approvals.invalid",
            errors=[{"field": "limits", "code": "approvals.limits_too_many", "params": {"max": MAX_LIMITS}}],
        )
    roles = set((await session.scalars(select(Role.name))).all())
    named = {s.subject for s in specs if s.subject_kind == "user"}
    users = set((await session.scalars(select(User.username).where(User.username.in_(named)))).all())
    errors: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    amounts: list[Decimal] = []
    for index, spec in enumerate(specs):
        if spec.subject_kind not in ("role", "user"):
            errors.append(_err(index, "subject_kind", "approvals.limit_subject_kind"))
        elif spec.subject_kind == "role" and spec.subject not in roles:
            errors.append(_err(index, "subject", "approvals.limit_unknown_role", role=spec.subject[:100]))
        elif spec.subject_kind == "user" and spec.subject not in users:
            errors.append(_err(index, "subject", "approvals.limit_unknown_user", user=spec.subject[:100]))
        key = (spec.subject_kind, spec.subject, spec.product_code)
        if key in seen:
            errors.append(_err(index, "subject", "approvals.limit_duplicate"))
        seen.add(key)
        try:
            amount = Decimal(str(spec.max_exposure))
        except (InvalidOperation, ValueError):
            amount = Decimal(-1)
        if (
            not amount.is_finite()
            or amount < 0
            or amount > _MAX_AMOUNT
            or amount != amount.quantize(Decimal("0.01"))
        ):
            errors.append(_err(index, "max_exposure", "approvals.limit_amount"))
        amounts.append(amount)
    if errors:
        raise Invalid("approvals.invalid", errors=errors, count=len(errors))
    before = await read_limits(session)
    await session.execute(delete(AuthorityLimit))
    now = utcnow()
    rows = [
        AuthorityLimit(
            subject_kind=spec.subject_kind,
            subject=spec.subject,
            product_code=spec.product_code,
            max_exposure=amount,
            updated_by=actor.audit_name,
            updated_at=now,
        )
        for spec, amount in zip(specs, amounts, strict=True)
    ]
    session.add_all(rows)
    await session.flush()
    await audit.record(
        session,
        actor,
        "flows.authority_replace",
        target_type="authority_limits",
        target_id="all",
        before={"limits": [_view(r) for r in before]},
        after={"limits": [_view(r) for r in rows]},
    )
    return rows


def _view(row: AuthorityLimit) -> dict[str, str]:
    return {
        "subject_kind": row.subject_kind,
        "subject": row.subject,
        "product_code": row.product_code,
        "max_exposure": str(row.max_exposure),
    }


async def read_limits(session: AsyncSession) -> list[AuthorityLimit]:
    """The authority table, by subject."""
    rows = await session.scalars(
        select(AuthorityLimit).order_by(
            AuthorityLimit.subject_kind, AuthorityLimit.subject, AuthorityLimit.product_code
        )
    )
    return list(rows.all())


async def _user(session: AsyncSession, username: str, field: str) -> User:
    user = await session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or user.disabled_at is not None:
        raise Invalid(
            "approvals.invalid", errors=[{"field": field, "code": "approvals.user_unknown", "params": {}}]
        )
    return user


async def create_delegation(
    session: AsyncSession,
    actor: Actor,
    *,
    to_user: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    from_user: str | None = None,
) -> Delegation:
    """``from_user`` (the caller by default) lets ``to_user`` decide their tasks for the period.

    Someone else's delegation needs ``flows.manage`` (an administrator covering a sudden absence).
    """
    if from_user is None:
        giver = await session.get(User, actor.id) if actor.kind is ActorKind.USER and actor.id else None
        if giver is None:  # a token or the operator delegates nothing of its own
            raise Forbidden("approvals.people_only")
    else:
        giver = await _user(session, from_user, "from_user")
        if giver.id != actor.id and not actor.can("flows.manage"):
            raise Forbidden("auth.forbidden", permission="flows.manage")
    taker = await _user(session, to_user, "to_user")
    try:
        starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Invalid(
            "approvals.invalid",
            errors=[
                {"field": "starts_at", "code": "approvals.delegation_period", "params": {"max_days": 366}}
            ],
        ) from None
    errors = []
    if taker.id == giver.id:
        errors.append({"field": "to_user", "code": "approvals.delegate_self", "params": {}})
    if ends_at <= starts_at or ends_at - starts_at > MAX_DELEGATION:
        errors.append(
            {"field": "ends_at", "code": "approvals.delegation_period", "params": {"max_days": 366}}
        )
    if ends_at <= utcnow():
        errors.append({"field": "ends_at", "code": "approvals.delegation_past", "params": {}})
    if not reason.strip() or len(reason) > 500:
        errors.append({"field": "reason", "code": "approvals.reason_required", "params": {"max": 500}})
    if errors:
        raise Invalid("approvals.invalid", errors=errors, count=len(errors))
    # A delegate who has delegated away themselves for the period would open a chain: refused.
    chained = await session.scalar(
        select(Delegation.id).where(
            Delegation.revoked_at.is_(None),
            or_(Delegation.from_user_id == taker.id, Delegation.to_user_id == giver.id),
            Delegation.starts_at < ends_at,
            Delegation.ends_at > starts_at,
        )
    )
    if chained is not None:
        raise Conflict("approvals.delegation_chain")
    row = Delegation(
        from_user_id=giver.id,
        to_user_id=taker.id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
        created_by=actor.audit_name,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        actor,
        "flows.delegation_create",
        target_type="delegation",
        target_id=row.id,
        after={
            "from": giver.username,
            "to": taker.username,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
            "reason": row.reason,
        },
    )
    return row


async def delegations_for(session: AsyncSession, actor: Actor) -> list[Delegation]:
    """Delegations given or received by the caller (all of them with ``flows.manage``)."""
    statement = select(Delegation).order_by(Delegation.starts_at.desc(), Delegation.id)
    if not actor.can("flows.manage"):
        statement = statement.where(
            or_(Delegation.from_user_id == actor.id, Delegation.to_user_id == actor.id)
        )
    return list((await session.scalars(statement.limit(500))).all())


async def revoke_delegation(session: AsyncSession, actor: Actor, delegation_id: str) -> Delegation:
    """End a delegation now (its giver, or ``flows.manage``); revoking twice changes nothing."""
    row = await session.get(Delegation, delegation_id)
    if row is None or (row.from_user_id != actor.id and not actor.can("flows.manage")):
        raise NotFound("approvals.delegation_not_found", id=delegation_id[:40])
    if row.revoked_at is not None:
        return row
    row.revoked_at, row.revoked_by = utcnow(), actor.audit_name
    await session.flush()
    await audit.record(
        session,
        actor,
        "flows.delegation_revoke",
        target_type="delegation",
        target_id=row.id,
        after={"revoked": True},
    )
    return row


async def link_staff(session: AsyncSession, actor: Actor, username: str, customer_id: str) -> StaffParty:
    """Record that staff member ``username`` is customer ``customer_id`` (for related-party recusal)."""
    user = await _user(session, username, "username")
    if await session.get(Customer, customer_id) is None:
        raise NotFound("customers.not_found", id=customer_id[:40])
    row = await session.get(StaffParty, user.id)
    before = {"customer_id": row.customer_id} if row else None
    if row is None:
        row = StaffParty(
            user_id=user.id, customer_id=customer_id, created_by=actor.audit_name, created_at=utcnow()
        )
        session.add(row)
    else:
        row.customer_id = customer_id
    await session.flush()
    await audit.record(
        session,
        actor,
        "flows.staff_link",
        target_type="user",
        target_id=user.id,
        before=before,
        after={"customer_id": customer_id},
    )
    return row


async def unlink_staff(session: AsyncSession, actor: Actor, username: str) -> None:
    """Forget which customer staff member ``username`` is."""
    user = await _user(session, username, "username")
    row = await session.get(StaffParty, user.id)
    if row is None:
        return
    await session.delete(row)
    await session.flush()
    await audit.record(
        session,
        actor,
        "flows.staff_unlink",
        target_type="user",
        target_id=user.id,
        before={"customer_id": row.customer_id},
    )
