"""The first-contact SLA: an assigned lead must be contacted within so many hours, per channel.

Hours are plain clock hours (not business hours): a lead pushed at 23:00 with a 2-hour SLA is
late at 01:00, which is what a lender paying for partner leads wants to know. Each channel's hours
are data (``lead_sla_policies``); a channel without a row gets ``DEFAULT_FIRST_CONTACT_HOURS``.

The clock starts when a lead gets an owner, and restarts when it gets another one before anyone
contacted it. Starting it enqueues a durable job due at the deadline (``core.jobs``); the worker
that runs it checks the lead and, if it is still uncontacted, open and past due, marks the breach
and writes a ``lead.sla_breached`` outbox event, in the job's own transaction. The mark is a
conditional ``UPDATE … WHERE sla_breached_at IS NULL``, so a breach is reminded of exactly once,
however often the job runs; a reassignment clears the mark and starts a new clock (a new breach).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor, User
from core.db import utcnow
from core.errors import Invalid
from core.jobs.handlers import JobHandlers
from core.jobs.repository import ClaimedJob, enqueue
from core.outbox import add_event

from .models import OPEN_STATUSES, Lead, SlaPolicy

__all__ = [
    "DEFAULT_FIRST_CONTACT_HOURS",
    "SLA_EVENT",
    "SLA_JOB_KIND",
    "first_contact_hours",
    "policies",
    "register_sla_handlers",
    "remind_if_breached",
    "set_policies",
    "start_clock",
]

DEFAULT_FIRST_CONTACT_HOURS = 2
MAX_HOURS = 24 * 30
SLA_JOB_KIND = "leads.first_contact_due"
SLA_EVENT = "lead.sla_breached"


async def first_contact_hours(session: AsyncSession, channel: str) -> int:
    """Hours allowed from assignment to first contact for ``channel``."""
    hours = await session.scalar(select(SlaPolicy.first_contact_hours).where(SlaPolicy.channel == channel))
    return int(hours) if hours is not None else DEFAULT_FIRST_CONTACT_HOURS


async def policies(session: AsyncSession, channels: tuple[str, ...]) -> dict[str, int]:
    """Each channel's hours (configured or the default)."""
    rows = dict((await session.execute(select(SlaPolicy.channel, SlaPolicy.first_contact_hours))).all())
    return {channel: int(rows.get(channel, DEFAULT_FIRST_CONTACT_HOURS)) for channel in channels}


async def set_policies(
    session: AsyncSession, actor: Actor, hours: dict[str, int], *, channels: tuple[str, ...]
) -> dict[str, int]:
    """Set the hours of the channels named (others keep theirs); applies to clocks started later."""
    errors = [
        {"field": f"first_contact_hours.{channel}", "code": "leads.channel_unknown", "params": {}}
        for channel in hours
        if channel not in channels
    ] + [
        {
            "field": f"first_contact_hours.{channel}",
            "code": "leads.sla_hours_invalid",
            "params": {"max": MAX_HOURS},
        }
        for channel, value in hours.items()
        if not 1 <= value <= MAX_HOURS
    ]
    if errors:
        raise Invalid("leads.sla_invalid", errors=errors, known=", ".join(channels), max=MAX_HOURS)
    before = await policies(session, channels)
    for channel, value in hours.items():
        row = await session.get(SlaPolicy, channel)
        if row is None:
            session.add(SlaPolicy(channel=channel, first_contact_hours=value))
        else:
            row.first_contact_hours = value
    await session.flush()
    after = await policies(session, channels)
    changed_before, changed_after = audit.changed_fields(before, after)
    await audit.record(
        session,
        actor,
        "leads.sla_update",
        target_type="lead_sla",
        target_id="first_contact",
        before=changed_before,
        after=changed_after,
    )
    return after


async def start_clock(session: AsyncSession, lead: Lead, now: datetime) -> None:
    """Start (or restart) the first-contact clock of a newly assigned, uncontacted lead.

    A lead without an owner, already contacted or no longer open has no clock.
    """
    lead.sla_breached_at = None
    if lead.owner_id is None or lead.first_contacted_at is not None or lead.status not in OPEN_STATUSES:
        lead.first_contact_due_at = None
        return
    due = now + timedelta(hours=await first_contact_hours(session, lead.channel))
    lead.first_contact_due_at = due
    await enqueue(
        session,
        SLA_JOB_KIND,
        {"lead_id": lead.id},
        run_after=due,
        dedupe_key=f"lead-sla:{lead.id}:{due.isoformat()}",
    )


async def remind_if_breached(session: AsyncSession, lead_id: str, now: datetime) -> bool:
    """Mark the lead's SLA breached and write the reminder, if it is breached and not yet reminded."""
    marked = (
        await session.execute(
            update(Lead)
            .where(
                Lead.id == lead_id,
                Lead.sla_breached_at.is_(None),
                Lead.first_contacted_at.is_(None),
                Lead.owner_id.is_not(None),
                Lead.status.in_(OPEN_STATUSES),
                Lead.first_contact_due_at <= now,
            )
            .values(sla_breached_at=now)
            .returning(Lead.owner_id, Lead.branch_id, Lead.channel, Lead.first_contact_due_at, Lead.status)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if marked is None:
        return False
    owner = await session.scalar(select(User.username).where(User.id == marked.owner_id))
    payload: dict[str, Any] = {
        "lead_id": lead_id,
        "owner": owner,
        "branch_id": marked.branch_id,
        "channel": marked.channel,
        "status": marked.status,
        "first_contact_due_at": marked.first_contact_due_at.isoformat(),
        "reminded_at": now.isoformat(),
    }
    await add_event(session, event_type=SLA_EVENT, subject_type="lead", subject_id=lead_id, payload=payload)
    await audit.record(
        session,
        Actor.system("leads.sla"),
        "leads.sla_breached",
        target_type="lead",
        target_id=lead_id,
        after={"owner": owner, "first_contact_due_at": payload["first_contact_due_at"]},
    )
    return True


def register_sla_handlers(handlers: JobHandlers) -> None:
    """Register the worker job that checks a lead when its first-contact deadline arrives."""

    async def first_contact_due(session: AsyncSession, payload: dict[str, Any], job: ClaimedJob) -> None:
        await remind_if_breached(session, str(payload["lead_id"]), utcnow())

    handlers.register(SLA_JOB_KIND, first_contact_due)
