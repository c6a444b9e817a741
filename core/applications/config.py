"""The applications context's settings as data: each product's gates, and the lender's policy.

Both are changed whole (a product's gate list is replaced, not patched item by item), checked
before anything is written, and audited with before and after. They apply from the next
transition (gates) or the next clock started (expiry days): nothing already decided changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.db import utcnow
from core.errors import Invalid
from core.products.repository import product_by_id

from .gates import GateRegistry, GateSpec
from .models import ApplicationGate, ApplicationPolicy
from .states import TRANSITIONS, ApplicationStatus

__all__ = [
    "DEFAULT_EXPIRY_DAYS",
    "GATED_STATES",
    "MAX_EXPIRY_DAYS",
    "MAX_GATES",
    "Policy",
    "expiry_from",
    "gates_before",
    "policy",
    "product_gates",
    "set_gates",
    "set_policy",
]

DEFAULT_EXPIRY_DAYS = 30
MAX_EXPIRY_DAYS = 365
MAX_GATES = 50
#: States a gate may guard: every state a move enters, except those no one may be kept from —
#: withdrawing (the applicant's right) and expiring (time).
GATED_STATES = tuple(
    status
    for status in TRANSITIONS
    if status not in (ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN, ApplicationStatus.EXPIRED)
)


@dataclass(frozen=True)
class Policy:
    """The lender's application settings (see ``ApplicationPolicy``)."""

    draft_expiry_days: int = DEFAULT_EXPIRY_DAYS
    updated_at: datetime | None = None
    updated_by: str | None = None


async def policy(session: AsyncSession) -> Policy:
    """The settings in force (the defaults until someone sets them)."""
    row = await session.get(ApplicationPolicy, 1)
    if row is None:
        return Policy()
    return Policy(row.draft_expiry_days, row.updated_at, row.updated_by)


async def expiry_from(session: AsyncSession, now: datetime) -> datetime:
    """When an application whose clock starts ``now`` expires if nobody touches it."""
    return now + timedelta(days=(await policy(session)).draft_expiry_days)


async def set_policy(session: AsyncSession, actor: Actor, *, draft_expiry_days: int) -> Policy:
    """Set the expiry days (1 to 365); applies to clocks started from now on."""
    if not 1 <= draft_expiry_days <= MAX_EXPIRY_DAYS:
        raise Invalid(
            "applications.policy_invalid",
            errors=[
                {
                    "field": "draft_expiry_days",
                    "code": "applications.expiry_days_range",
                    "params": {"max": MAX_EXPIRY_DAYS},
                }
            ],
        )
    before = await policy(session)
    row = await session.get(ApplicationPolicy, 1)
    if row is None:
        row = ApplicationPolicy(id=1, draft_expiry_days=draft_expiry_days, updated_by=actor.audit_name)
        session.add(row)
    else:
        row.draft_expiry_days = draft_expiry_days
        row.updated_by = actor.audit_name
        row.updated_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        actor,
        "applications.policy_set",
        target_type="application_policy",
        target_id="1",
        before={"draft_expiry_days": before.draft_expiry_days},
        after={"draft_expiry_days": draft_expiry_days},
    )
    return await policy(session)


def _spec(row: ApplicationGate) -> GateSpec:
    return GateSpec(before=row.before_state, gate=row.kind, params=dict(row.params))


async def product_gates(session: AsyncSession, product_id: str) -> list[GateSpec]:
    """The product's gates in their configured order (404 for an unknown product)."""
    await product_by_id(session, product_id)
    rows = await session.scalars(
        select(ApplicationGate)
        .where(ApplicationGate.product_id == product_id)
        .order_by(ApplicationGate.position)
    )
    return [_spec(row) for row in rows]


async def gates_before(session: AsyncSession, product_id: str, state: str) -> list[GateSpec]:
    """The product's gates that guard entering ``state``."""
    rows = await session.scalars(
        select(ApplicationGate)
        .where(ApplicationGate.product_id == product_id, ApplicationGate.before_state == state)
        .order_by(ApplicationGate.position)
    )
    return [_spec(row) for row in rows]


async def set_gates(
    session: AsyncSession, actor: Actor, product_id: str, specs: Sequence[GateSpec], registry: GateRegistry
) -> list[GateSpec]:
    """Replace the product's gates with ``specs``; every problem of every gate is refused at once.

    Raises:
        NotFound: no such product.
        Invalid: ``applications.gates_invalid`` with field errors (``gates[1].params.fields.0``).
    """
    await product_by_id(session, product_id)
    errors = [
        error for index, spec in enumerate(specs) for error in registry.spec_errors(index, spec, GATED_STATES)
    ]
    if len(specs) > MAX_GATES:
        errors.append({"field": "gates", "code": "applications.gates_too_many", "params": {"max": MAX_GATES}})
    seen: dict[tuple[str, str], int] = {}
    for index, spec in enumerate(specs):
        key = (spec.before, spec.gate)
        if key in seen:
            errors.append(
                {
                    "field": f"gates[{index}]",
                    "code": "applications.gate_duplicate",
                    "params": {"first": seen[key]},
                }
            )
        seen.setdefault(key, index)
    if errors:
        raise Invalid("applications.gates_invalid", errors=errors)
    before = [spec.as_json() for spec in await product_gates(session, product_id)]
    await session.execute(delete(ApplicationGate).where(ApplicationGate.product_id == product_id))
    session.add_all(
        ApplicationGate(
            product_id=product_id,
            position=position,
            before_state=spec.before,
            kind=spec.gate,
            params=dict(spec.params),
            created_by=actor.audit_name,
        )
        for position, spec in enumerate(specs)
    )
    await session.flush()
    after = [spec.as_json() for spec in specs]
    if before != after:
        await audit.record(
            session,
            actor,
            "applications.gates_set",
            target_type="product",
            target_id=product_id,
            before={"gates": before},
            after={"gates": after},
        )
    return list(specs)
