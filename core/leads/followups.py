"""Follow-ups: every call, visit, message and document received, with its outcome and what next.

A follow-up belongs to a lead (and, once converted, to its customer too) or to a customer alone.
Its next action, with a due time, falls to the lead's (or customer's) owner; an open next action
past its time is *overdue* and shows in that officer's list (``GET /api/follow-ups?overdue=true``)
and marks the lead overdue in theirs. Recording a follow-up on a lead answers the lead's earlier
open next actions (they are marked done) unless the caller says otherwise, and the first one
contacts the lead: its first-contact clock stops and a ``new`` lead moves to ``contacting``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.customers.repository import get_visible as get_customer
from core.errors import Conflict, Invalid

from .models import FOLLOW_UP_KINDS, FollowUp, LeadStatus
from .repository import get_visible, get_visible_follow_up

__all__ = ["FollowUpFields", "complete", "record", "record_for_customer"]

_CLOSED = (LeadStatus.DISQUALIFIED.value, LeadStatus.DUPLICATE.value)


@dataclass
class FollowUpFields:
    """One contact and what comes next; ``next_action`` and ``next_due_at`` go together."""

    kind: str = ""
    outcome: str = ""
    note: str = ""
    next_action: str | None = None
    next_due_at: datetime | None = None
    completes_previous: bool = True


def _check(fields: FollowUpFields, now: datetime) -> dict[str, Any]:
    errors: list[dict[str, Any]] = []
    if fields.kind not in FOLLOW_UP_KINDS:
        errors.append(
            {
                "field": "kind",
                "code": "leads.follow_up_kind_unknown",
                "params": {"known": ", ".join(FOLLOW_UP_KINDS)},
            }
        )
    outcome = " ".join(fields.outcome.split())
    if not 1 <= len(outcome) <= 200:
        errors.append({"field": "outcome", "code": "leads.outcome_required"})
    note = fields.note.strip()
    if len(note) > 2000:
        errors.append({"field": "note", "code": "leads.note_too_long"})
    action = " ".join((fields.next_action or "").split()) or None
    if action is not None and len(action) > 300:
        errors.append({"field": "next_action", "code": "leads.next_action_too_long"})
    if (action is None) != (fields.next_due_at is None):
        missing = "next_due_at" if action is not None else "next_action"
        errors.append({"field": missing, "code": "leads.next_action_needs_both"})
    elif fields.next_due_at is not None and fields.next_due_at <= now:
        errors.append({"field": "next_due_at", "code": "leads.next_due_in_past"})
    if errors:
        raise Invalid("leads.follow_up_invalid", errors=errors, count=len(errors))
    return {
        "kind": fields.kind,
        "outcome": outcome,
        "note": note,
        "next_action": action,
        "next_due_at": fields.next_due_at,
    }


def _view(row: FollowUp) -> dict[str, Any]:
    return {
        "lead_id": row.lead_id,
        "customer_id": row.customer_id,
        "kind": row.kind,
        "outcome": row.outcome,
        "next_action": row.next_action,
        "next_due_at": row.next_due_at.isoformat() if row.next_due_at else None,
        "owner_id": row.owner_id,
    }


async def _close_open(session: AsyncSession, now: datetime, **where: str) -> None:
    conditions = [getattr(FollowUp, name) == value for name, value in where.items()]
    await session.execute(
        update(FollowUp)
        .where(*conditions, FollowUp.done.is_(False), FollowUp.next_due_at.is_not(None))
        .values(done=True, done_at=now)
        .execution_options(synchronize_session=False)
    )


async def record(
    session: AsyncSession, actor: Actor, lead_id: str, fields: FollowUpFields, *, now: datetime
) -> FollowUp:
    """Record a follow-up of a lead the caller works (not a queue lead, nor a closed one)."""
    lead = await get_visible(session, actor, lead_id, "leads.write", queue=False)
    if lead.status in _CLOSED:
        raise Conflict("leads.closed", status=lead.status)
    values = _check(fields, now)
    if fields.completes_previous:
        await _close_open(session, now, lead_id=lead.id)
    row = FollowUp(
        lead_id=lead.id,
        customer_id=lead.customer_id,
        recorded_by=actor.audit_name,
        owner_id=lead.owner_id,
        branch_id=lead.branch_id,
        created_at=now,
        done=values["next_action"] is None,
        **values,
    )
    session.add(row)
    contacted = lead.first_contacted_at is None
    if contacted:
        lead.first_contacted_at = now
    if lead.status == LeadStatus.NEW:
        lead.status = LeadStatus.CONTACTING.value
        lead.version += 1
    await session.flush()
    await audit.record(
        session,
        actor,
        "leads.follow_up",
        target_type="lead",
        target_id=lead.id,
        after={**_view(row), "first_contact": contacted, "status": lead.status},
    )
    return row


async def record_for_customer(
    session: AsyncSession, actor: Actor, customer_id: str, fields: FollowUpFields, *, now: datetime
) -> FollowUp:
    """Record a follow-up of a customer the caller can read (a contact outside any lead)."""
    customer = await get_customer(session, actor, customer_id)
    values = _check(fields, now)
    if fields.completes_previous:
        await _close_open(session, now, customer_id=customer.id)
    row = FollowUp(
        customer_id=customer.id,
        recorded_by=actor.audit_name,
        owner_id=customer.owner_id,
        branch_id=customer.branch_id,
        created_at=now,
        done=values["next_action"] is None,
        **values,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session, actor, "leads.follow_up", target_type="customer", target_id=customer.id, after=_view(row)
    )
    return row


async def complete(session: AsyncSession, actor: Actor, follow_up_id: str, *, now: datetime) -> FollowUp:
    """Mark a follow-up's next action done (idempotent: done already stays done at its first time)."""
    row = await get_visible_follow_up(session, actor, follow_up_id, "leads.write")
    if row.next_action is None:
        raise Conflict("leads.follow_up_no_action", id=follow_up_id)
    if not row.done:
        row.done, row.done_at = True, now
        await session.flush()
        await audit.record(
            session,
            actor,
            "leads.follow_up_done",
            target_type="lead" if row.lead_id else "customer",
            target_id=row.lead_id or row.customer_id,
            after={"follow_up_id": row.id, "next_action": row.next_action},
        )
    return row
