"""Leads and follow-ups as readers see them, and their sections of the customer 360° view.

One shaping for the API and the 360° view alike: ids become usernames and codes, personal fields
are masked unless the caller revealed them, money is a decimal string, and each read is scoped
with the caller's actor exactly as the leads endpoints scope it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor, Branch, User
from core.customers import Customer
from core.db import utcnow

from .models import OPEN_STATUSES, FollowUp, Lead, Partner
from .repository import visible, visible_follow_ups

__all__ = ["Labels", "follow_up_view", "follow_ups_section", "labels_for", "lead_view", "leads_section"]


@dataclass(frozen=True)
class Labels:
    """Usernames, branch codes and partner codes by id, for the rows being shown."""

    users: dict[str, str]
    branches: dict[str, str]
    partners: dict[str, str]


async def labels_for(
    session: AsyncSession, leads: Iterable[Lead] = (), follow_ups: Iterable[FollowUp] = ()
) -> Labels:
    """The labels the given leads and follow-ups need, in three queries."""
    leads, follow_ups = list(leads), list(follow_ups)
    owners = {r.owner_id for r in leads if r.owner_id} | {r.owner_id for r in follow_ups if r.owner_id}
    branches = {r.branch_id for r in leads} | {r.branch_id for r in follow_ups}
    partners = {r.partner_id for r in leads if r.partner_id}
    users = dict((await session.execute(select(User.id, User.username).where(User.id.in_(owners)))).all())
    codes = dict((await session.execute(select(Branch.id, Branch.code).where(Branch.id.in_(branches)))).all())
    partner_codes = dict(
        (await session.execute(select(Partner.id, Partner.code).where(Partner.id.in_(partners)))).all()
    )
    return Labels(users, codes, partner_codes)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def lead_view(
    lead: Lead, labels: Labels, *, now: datetime, revealed: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A lead as the caller may see it (JSON-ready); ``revealed`` fields are shown in clear."""

    def shown(name: str) -> str | None:
        value = getattr(lead, name)
        if value is None:
            return None
        return str(value.reveal() if name in revealed else value.masked)

    due = lead.first_contact_due_at
    return {
        "id": lead.id,
        "status": lead.status,
        "reason": lead.reason,
        "channel": lead.channel,
        "partner": labels.partners.get(lead.partner_id) if lead.partner_id else None,
        "partner_lead_id": lead.partner_lead_id,
        "campaign": lead.campaign,
        "name": lead.name,
        "mobile": shown("mobile"),
        "id_number": shown("id_number"),
        "product_code": lead.product_code,
        "requested_amount": str(lead.requested_amount) if lead.requested_amount is not None else None,
        "note": lead.note,
        "owner": labels.users.get(lead.owner_id) if lead.owner_id else None,
        "branch": labels.branches.get(lead.branch_id),
        "queued": lead.owner_id is None,
        "customer_id": lead.customer_id,
        "duplicate_of": lead.duplicate_of_id,
        "application_id": lead.application_id,
        "assigned_at": _time(lead.assigned_at),
        "first_contact_due_at": _time(due),
        "first_contacted_at": _time(lead.first_contacted_at),
        "first_contact_overdue": bool(
            due is not None and lead.first_contacted_at is None and lead.status in OPEN_STATUSES and due < now
        ),
        "sla_breached_at": _time(lead.sla_breached_at),
        "converted_at": _time(lead.converted_at),
        "version": lead.version,
        "revealed": sorted(revealed),
        "created_at": _time(lead.created_at),
        "updated_at": _time(lead.updated_at),
    }


def follow_up_view(row: FollowUp, labels: Labels, *, now: datetime) -> dict[str, Any]:
    """A follow-up (JSON-ready), with whether its next action is overdue at ``now``."""
    return {
        "id": row.id,
        "lead_id": row.lead_id,
        "customer_id": row.customer_id,
        "kind": row.kind,
        "outcome": row.outcome,
        "note": row.note,
        "next_action": row.next_action,
        "next_due_at": _time(row.next_due_at),
        "done": row.done,
        "done_at": _time(row.done_at),
        "overdue": bool(not row.done and row.next_due_at is not None and row.next_due_at < now),
        "by": row.recorded_by,
        "owner": labels.users.get(row.owner_id) if row.owner_id else None,
        "branch": labels.branches.get(row.branch_id),
        "created_at": _time(row.created_at),
    }


async def _customer_leads(session: AsyncSession, actor: Actor, customer: Customer) -> Sequence[Lead]:
    statement = (
        visible(actor).where(Lead.customer_id == customer.id).order_by(Lead.created_at.desc()).limit(50)
    )
    return (await session.scalars(statement)).all()


async def leads_section(session: AsyncSession, actor: Actor, customer: Customer) -> list[dict[str, Any]]:
    """The customer's leads the caller may read, newest first (at most 50), masked."""
    rows = await _customer_leads(session, actor, customer)
    labels = await labels_for(session, rows)
    return [lead_view(row, labels, now=utcnow()) for row in rows]


async def follow_ups_section(session: AsyncSession, actor: Actor, customer: Customer) -> list[dict[str, Any]]:
    """The customer's follow-ups (their own and their leads'), newest first (at most 50)."""
    lead_ids = select(Lead.id).where(Lead.customer_id == customer.id)
    statement = (
        visible_follow_ups(actor)
        .where(or_(FollowUp.customer_id == customer.id, FollowUp.lead_id.in_(lead_ids)))
        .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
        .limit(50)
    )
    rows = (await session.scalars(statement)).all()
    labels = await labels_for(session, follow_ups=rows)
    return [follow_up_view(row, labels, now=utcnow()) for row in rows]
