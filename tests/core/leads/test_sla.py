"""The first-contact SLA on a real database and the real job machinery, the clock driven by hand.

Each assignment enqueues a job due at its deadline; running due jobs with the hub's own handlers
(``hub.jobs.build_job_handlers``) reminds of a breach once, and never of a lead contacted, closed
or given to someone else (whose new clock starts over) in time.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from leadsorg import OP, org, push_lead, set_rules
from sqlalchemy import select

from core.db import utcnow
from core.jobs import JobExecutor, claim_due
from core.leads import Lead
from core.leads.assignment import RuleSpec
from core.leads.service import assign, transition
from core.leads.sla import SLA_EVENT, SLA_JOB_KIND, set_policies
from core.outbox import OutboxEvent
from hub.jobs import build_job_handlers
from hub.settings import load_settings
from plugins.manager import make_plugin_manager

__all__ = ["org"]


class Clock:
    def __init__(self, monkeypatch):
        self.now = utcnow()
        for target in ("core.leads.sla.utcnow", "core.jobs.repository.utcnow"):
            monkeypatch.setattr(target, lambda: self.now)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


async def _run_due(sessions) -> int:
    handlers = build_job_handlers(make_plugin_manager(load_entrypoints=False), load_settings())
    assert SLA_JOB_KIND in handlers
    executor = JobExecutor(sessions, handlers, owner="w", lease_seconds=30)
    jobs = await claim_due(sessions, "w", 30, 100)
    for job in jobs:
        await executor.execute(job)
    return len(jobs)


async def _reminded(sessions) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = (await session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == SLA_EVENT))).all()
        return [(row.subject_id, row.payload["owner"]) for row in rows]


async def test_hours_per_channel_and_one_reminder_per_breach(org, clock):
    await set_rules(org, RuleSpec(kind="round_robin"))
    async with org() as session, session.begin():
        await set_policies(session, OP, {"partner_referral": 3}, channels=("partner_referral", "online"))
    lead = await push_lead(org, now=clock.now)
    assert lead.first_contact_due_at == clock.now + timedelta(hours=3)
    clock.now += timedelta(hours=2, minutes=59)
    assert await _run_due(org) == 0
    clock.now += timedelta(minutes=2)
    assert await _run_due(org) == 1
    assert await _reminded(org) == [(lead.id, "li")]
    async with org() as session:
        assert (await session.get(Lead, lead.id)).sla_breached_at == clock.now
    await _run_due(org)  # the reminder's dispatch; nothing reminds twice
    assert await _reminded(org) == [(lead.id, "li")]


async def test_no_reminder_for_a_lead_contacted_closed_or_reassigned_in_time(org, clock):
    await set_rules(org, RuleSpec(kind="round_robin"))
    contacted, closed, moved = [await push_lead(org, now=clock.now) for _ in range(3)]  # li, wang, li
    async with org() as session, session.begin():
        await transition(session, OP, contacted.id, "contacting", now=clock.now)
        await transition(session, OP, closed.id, "disqualified", reason="号码空号", now=clock.now)
    clock.now += timedelta(hours=1)
    async with org() as session, session.begin():
        await assign(session, OP, moved.id, owner="wang", now=clock.now)
    clock.now += timedelta(hours=1, minutes=30)  # past the first clocks, not the moved lead's new one
    assert await _run_due(org) == 3
    assert await _reminded(org) == []
    clock.now += timedelta(hours=1)
    assert await _run_due(org) == 1
    assert await _reminded(org) == [(moved.id, "wang")]
